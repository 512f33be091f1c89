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
import * as coreModel from "./contract/core_model.ts";
import * as coreRules from "./contract/core_rules.ts";
import * as coreSync from "./contract/core_sync.ts";
import * as coreTasks from "./contract/core_tasks.ts";
import * as coreYield from "./contract/core_yield.ts";
import * as futures from "./contract/futures.ts";
import * as netListeners from "./contract/net_listeners.ts";
import * as netTcp from "./contract/net_tcp.ts";
import * as netTls from "./contract/net_tls.ts";
import * as netUdp from "./contract/net_udp.ts";
import * as reliabilityBytes from "./contract/reliability_bytes.ts";
import * as reliabilityChaos from "./contract/reliability_chaos.ts";
import * as reliabilityLoad from "./contract/reliability_load.ts";
import * as reliabilitySync from "./contract/reliability_sync.ts";
import * as reliabilityThreads from "./contract/reliability_threads.ts";
import * as reliabilityUdp from "./contract/reliability_udp.ts";
import * as threads from "./contract/threads.ts";

const areas = [
  core,
  coreCancel,
  coreModel,
  coreRules,
  coreTasks,
  coreSync,
  coreYield,
  netTcp,
  netListeners,
  netTls,
  netUdp,
  threads,
  futures,
  reliabilityChaos,
  reliabilityUdp,
  reliabilityThreads,
  reliabilitySync,
  reliabilityBytes,
  reliabilityLoad,
];

for (const backend of backends) {
  for (const area of areas) area.register(backend);
}
