/**
 * Virtual time: the clock a runner may run on instead of the runtime's
 * (`RunnerOptions.clock`).
 *
 * @module
 */

/**
 * A clock that tests move by hand. Every timer of a runner that runs on it
 * follows it: `currentTime()`, sleeps, the deadlines of timeouts and cancel
 * scopes, the Happy Eyeballs stagger, the TLS handshake bound and the worker
 * pool's idle retirement. The implementation is `MockClock` (in the
 * `testing` entry point).
 */
export interface VirtualClock {
  /** The virtual time, in ms. */
  now(): number;
  /**
   * How fast virtual time runs against real time: `0` freezes it (the
   * default), `1` is real time, `10` ten times faster. A non-negative finite
   * number.
   */
  rate: number;
  /**
   * When `true`, the clock jumps to the next timer's deadline as soon as its
   * runner is idle.
   */
  autojump: boolean;
  /**
   * Moves time forward by `ms` at once; every timer due by then fires, in
   * deadline order, before `jump()` returns (a computer waking from sleep).
   *
   * @param ms How far, in ms.
   */
  jump(ms: number): void;
  /**
   * Moves time forward by `ms` step by step: to each timer's deadline in
   * turn, letting the runner settle after each, then to the end.
   *
   * @param ms How far, in ms.
   */
  advance(ms: number): Promise<void>;
}

/** What `new MockClock(options)` takes. */
export interface MockClockOptions {
  /** The virtual time at creation, in ms. Default: `0`. */
  start?: number;
  /** {@linkcode VirtualClock.rate}. Default: `0` (frozen). */
  rate?: number;
  /** {@linkcode VirtualClock.autojump}. Default: `false`. */
  autojump?: boolean;
}
