/**
 * The contract suite: every area, against every backend of this runtime.
 *
 * Each `tests/contract/<area>.ts` exports `register(backend)`, which registers
 * that area's tests with names prefixed by the backend's name.
 *
 * @module
 */

import { backends } from "./backends.ts";
import * as badInput from "./contract/bad_input.ts";
import * as badInputNet from "./contract/bad_input_net.ts";
import * as badInputNew from "./contract/bad_input_new.ts";
import * as badInputNewNet from "./contract/bad_input_new_net.ts";
import * as badInputThreads from "./contract/bad_input_threads.ts";
import * as core from "./contract/core.ts";
import * as coreCancel from "./contract/core_cancel.ts";
import * as coreChannels from "./contract/core_channels.ts";
import * as coreChannelsClose from "./contract/core_channels_close.ts";
import * as coreChannelsStress from "./contract/core_channels_stress.ts";
import * as coreClock from "./contract/core_clock.ts";
import * as coreInstruments from "./contract/core_instruments.ts";
import * as coreLeaks from "./contract/core_leaks.ts";
import * as coreModel from "./contract/core_model.ts";
import * as coreRules from "./contract/core_rules.ts";
import * as coreScopeSignals from "./contract/core_scope_signals.ts";
import * as coreScopes from "./contract/core_scopes.ts";
import * as coreSignals from "./contract/core_signals.ts";
import * as coreSync from "./contract/core_sync.ts";
import * as coreSyncMore from "./contract/core_sync_more.ts";
import * as coreTasks from "./contract/core_tasks.ts";
import * as coreTaskTree from "./contract/core_task_tree.ts";
import * as coreYield from "./contract/core_yield.ts";
import * as faultsEmfile from "./contract/faults_emfile.ts";
import * as faultsNet from "./contract/faults_net.ts";
import * as faultsServe from "./contract/faults_serve.ts";
import * as faultsTls from "./contract/faults_tls.ts";
import * as futures from "./contract/futures.ts";
import * as netListeners from "./contract/net_listeners.ts";
import * as netServe from "./contract/net_serve.ts";
import * as netStreams from "./contract/net_streams.ts";
import * as netStreamsReason from "./contract/net_streams_reason.ts";
import * as netTcp from "./contract/net_tcp.ts";
import * as netTcpIdle from "./contract/net_tcp_idle.ts";
import * as netTls from "./contract/net_tls.ts";
import * as netTlsInfo from "./contract/net_tls_info.ts";
import * as netUdp from "./contract/net_udp.ts";
import * as processHygiene from "./contract/process_hygiene.ts";
import * as reliabilityBytes from "./contract/reliability_bytes.ts";
import * as reliabilityChaos from "./contract/reliability_chaos.ts";
import * as reliabilityLoad from "./contract/reliability_load.ts";
import * as reliabilitySync from "./contract/reliability_sync.ts";
import * as reliabilitySyncMore from "./contract/reliability_sync_more.ts";
import * as reliabilityThreads from "./contract/reliability_threads.ts";
import * as reliabilityUdp from "./contract/reliability_udp.ts";
import * as threads from "./contract/threads.ts";
import * as faultsThreads from "./contract/faults_threads.ts";

const areas = [
  core,
  coreCancel,
  coreModel,
  coreRules,
  coreScopes,
  coreScopeSignals,
  coreSignals,
  coreTasks,
  coreTaskTree,
  coreInstruments,
  coreSync,
  coreSyncMore,
  coreChannels,
  coreChannelsClose,
  coreChannelsStress,
  coreClock,
  coreYield,
  coreLeaks,
  netTcp,
  netTcpIdle,
  netListeners,
  netServe,
  netTls,
  netTlsInfo,
  netUdp,
  netStreams,
  netStreamsReason,
  threads,
  faultsThreads,
  futures,
  faultsNet,
  faultsTls,
  faultsServe,
  faultsEmfile,
  badInput,
  badInputNet,
  badInputThreads,
  badInputNew,
  badInputNewNet,
  processHygiene,
  reliabilityChaos,
  reliabilityUdp,
  reliabilityThreads,
  reliabilitySync,
  reliabilitySyncMore,
  reliabilityBytes,
  reliabilityLoad,
];

for (const backend of backends) {
  for (const area of areas) area.register(backend);
}
