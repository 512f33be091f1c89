/**
 * The contract suite: every area, against every backend of this runtime.
 *
 * Each `tests/contract/<area>.ts` exports `register(backend)`, which registers
 * that area's tests with names prefixed by the backend's name.
 *
 * @module
 */

import { backends } from "./backends.ts";
import * as core from "./contract/core.ts";
import * as coreCancel from "./contract/core_cancel.ts";
import * as coreChannels from "./contract/core_channels.ts";
import * as coreChannelsClose from "./contract/core_channels_close.ts";
import * as coreChannelsStress from "./contract/core_channels_stress.ts";
import * as coreClock from "./contract/core_clock.ts";
import * as coreModel from "./contract/core_model.ts";
import * as coreRules from "./contract/core_rules.ts";
import * as coreScopeSignals from "./contract/core_scope_signals.ts";
import * as coreScopes from "./contract/core_scopes.ts";
import * as coreSignals from "./contract/core_signals.ts";
import * as coreSync from "./contract/core_sync.ts";
import * as coreSyncMore from "./contract/core_sync_more.ts";
import * as coreTasks from "./contract/core_tasks.ts";
import * as coreYield from "./contract/core_yield.ts";
import * as futures from "./contract/futures.ts";
import * as netListeners from "./contract/net_listeners.ts";
import * as netServe from "./contract/net_serve.ts";
import * as netStreams from "./contract/net_streams.ts";
import * as netTcp from "./contract/net_tcp.ts";
import * as netTls from "./contract/net_tls.ts";
import * as netTlsInfo from "./contract/net_tls_info.ts";
import * as netUdp from "./contract/net_udp.ts";
import * as threads from "./contract/threads.ts";

const areas = [
  core,
  coreCancel,
  coreModel,
  coreRules,
  coreScopes,
  coreScopeSignals,
  coreSignals,
  coreTasks,
  coreSync,
  coreSyncMore,
  coreChannels,
  coreChannelsClose,
  coreChannelsStress,
  coreClock,
  coreYield,
  netTcp,
  netListeners,
  netServe,
  netTls,
  netTlsInfo,
  netUdp,
  netStreams,
  threads,
  futures,
];

for (const backend of backends) {
  for (const area of areas) area.register(backend);
}
