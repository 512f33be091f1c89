/**
 * Deno's `node:diagnostics_channel`, where runners publish their events
 * (`DIAGNOSTICS_CHANNELS`): the one Deno module of the backend that needs it.
 *
 * @module
 */

import diagnostics from "node:diagnostics_channel";
import { type DiagnosticsChannels, diagnosticsChannels } from "../_core/instruments.ts";

/** The channels of every runner event. */
export const denoDiagnostics: DiagnosticsChannels = diagnosticsChannels(diagnostics.channel);
