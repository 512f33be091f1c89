import type { BackendUnderTest } from "../backends.ts";
export function register(_: BackendUnderTest): void {}
