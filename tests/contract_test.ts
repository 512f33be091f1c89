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

const areas = [core];

for (const backend of backends) {
  for (const area of areas) area.register(backend);
}
