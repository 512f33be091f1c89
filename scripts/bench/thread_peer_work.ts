/**
 * The worker module of the peers in `thread_pool_bench.ts`: piscina and
 * tinypool run its default export.
 *
 * @module
 */

/** The tiniest call (piscina, tinypool). */
export default function tiny(n: number): number {
  return n + 1;
}
