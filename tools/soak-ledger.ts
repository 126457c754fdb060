/**
 * The soak's books (stress/report/books.ts: every submit and outcome accounted for, a
 * duplicate or a vanished job seen) plus how many frames after their submit frame results
 * were delivered, in fixed memory: unlike the stress ledger it keeps no per-job latency
 * samples (those grow with the run and would show up as the very memory growth the soak
 * is looking for).
 *
 * Main thread only. Recording a submit or a result allocates nothing.
 */
import type { ResultView } from '../engine/api.js';
import { Outcome } from '../engine/outcome.js';
import { JobBooks, isWorkerLoss } from '../stress/report/books.js';

export class SoakLedger extends JobBooks {
  /** Results delivered 0, 1, 2, 3+ frames after their submit frame. */
  readonly deliveredAfter = new Float64Array(4);

  /** Records what submit() returned. */
  onSubmit(ret: number): void {
    this.admit(ret);
  }

  /**
   * Records one delivered result (from poll or runInline) at frame `frame`. The soak's
   * only injected fault is a killed worker, so any other failure is unexpected.
   */
  onResult(r: ResultView, frame: number): void {
    if (this.settle(r.jobId) < 0) return;
    const late = frame - r.submitFrame;
    this.deliveredAfter[late < 0 ? 0 : late > 3 ? 3 : late]++;
    if (r.status === Outcome.Done) this.completed++;
    else if (r.status === Outcome.Expired) this.expired++;
    else if (r.status === Outcome.Failed) this.countFailure(r, isWorkerLoss(r.error?.reason));
    else this.duplicates++;
  }
}
