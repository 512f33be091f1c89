/**
 * The calls of a worker pool that wait for a worker ({@linkcode CallQueue},
 * used by `WorkerPool` in `pool.ts`): oldest first, with the calls taken back
 * from a lost worker put back in front, and the batches sent to a worker.
 *
 * @module
 */

import { Fifo } from "../_util/fifo.ts";
import type { PoolJob } from "./pool_job.ts";

/** The queued calls of a pool. Dropped calls stay in the FIFO until reached; `size` counts the live ones. */
export class CallQueue {
  #fifo: Fifo<PoolJob> = new Fifo();
  #size = 0;

  /** How many calls wait. */
  get size(): number {
    return this.#size;
  }

  /** Queues `job` last. */
  push(job: PoolJob): void {
    this.#fifo.push(job);
    this.#size++;
  }

  /** A queued call was dropped (it stays in the FIFO, skipped when reached). */
  dropped(): void {
    this.#size--;
  }

  /** Puts `jobs` (taken back from a worker, in order) before every queued call. */
  putBack(jobs: PoolJob[]): void {
    if (jobs.length === 0) return;
    const rest = this.#fifo;
    this.#fifo = new Fifo();
    for (const job of jobs) this.#fifo.push(job);
    for (let job = rest.shift(); job !== undefined; job = rest.shift()) this.#fifo.push(job);
    this.#size += jobs.length;
  }

  /** Settles every queued call with `error()` and empties the queue. */
  rejectAll(error: () => Error): void {
    for (let job = this.#fifo.shift(); job !== undefined; job = this.#fifo.shift()) {
      if (job.pending) job.finish(false, error());
    }
    this.#size = 0;
  }

  /**
   * Takes up to `n` calls, oldest first, for a worker holding `held` calls. A
   * `solo` call (see `PoolJob.solo`) travels alone, to a worker that holds
   * nothing else: it waits otherwise.
   */
  take(n: number, held: number): PoolJob[] {
    const batch: PoolJob[] = [];
    while (batch.length < n && this.#size > 0) {
      const job = this.#fifo.peek()!;
      if (job.pending && job.solo && (batch.length > 0 || held > 0)) break;
      this.#fifo.shift();
      if (!job.pending) continue;
      this.#size--;
      batch.push(job);
      if (job.solo) break;
    }
    return batch;
  }
}
