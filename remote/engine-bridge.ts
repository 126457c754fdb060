/**
 * Runs single tasks on a local EngineCore and answers with promises, for the remote
 * worker's BullMQ processor. The CPU work happens on the engine's worker threads; this
 * thread only submits, polls and resolves, so BullMQ's event loop stays free to renew
 * job locks (a processor that blocks its event loop gets its jobs declared stalled and
 * run twice).
 *
 * Polling: right after a submit and while results keep coming, on setImmediate; after
 * a run of empty polls, every millisecond; not at all when nothing is in flight.
 */
import type { ResultView } from '../engine/api.js';
import type { EngineCore } from '../engine/core.js';
import { Rejection } from '../engine/outcome.js';
import { rejectedAtSubmit, resultFromView } from './engine-result.js';
import type { TaskResult } from './types.js';

/** Empty polls on setImmediate before falling back to a 1 ms timer. */
const SPIN_POLLS = 64;

export class EngineBridge {
  private readonly waiting = new Map<number, (r: TaskResult) => void>();
  private scheduled = false;
  private emptyPolls = 0;
  private readonly sink = (r: ResultView): void => {
    const resolve = this.waiting.get(r.jobId);
    if (resolve === undefined) return;
    this.waiting.delete(r.jobId);
    resolve(resultFromView(r));
  };
  private readonly tick = (): void => {
    this.scheduled = false;
    const n = this.engine.poll(this.sink);
    this.emptyPolls = n > 0 ? 0 : this.emptyPolls + 1;
    this.schedule();
  };

  constructor(private readonly engine: EngineCore) {}

  get inFlight(): number {
    return this.waiting.size;
  }

  /** Runs one task. Resolves with its result; never rejects. Params must already be checked against the kind. */
  async run(kindId: number, params: readonly number[]): Promise<TaskResult> {
    for (let backoff = 1; ; backoff = Math.min(backoff * 2, 50)) {
      const id = this.engine.submit(kindId, params, 0);
      if (id >= 0) {
        const result = new Promise<TaskResult>((resolve) => this.waiting.set(id, resolve));
        this.emptyPolls = 0;
        this.schedule();
        return result;
      }
      // Full or over budget: a moment later there is room (the remote worker's concurrency bounds it).
      if (id !== Rejection.RingFull && id !== Rejection.Overloaded && id !== Rejection.ArenaFull) return rejectedAtSubmit(id);
      await new Promise((r) => setTimeout(r, backoff));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.waiting.size === 0) return;
    this.scheduled = true;
    if (this.emptyPolls < SPIN_POLLS) setImmediate(this.tick);
    else setTimeout(this.tick, 1);
  }
}
