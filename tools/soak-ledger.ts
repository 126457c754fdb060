/**
 * The soak's own books, kept apart from the engine's counters so the run can catch the
 * engine losing, duplicating or misreporting a job over hours, in fixed memory: unlike
 * the stress ledger it keeps no per-job latency samples (those grow with the run and
 * would show up as the very memory growth the soak is looking for).
 *
 * A job id's low bits are its slot (jobCapacity is a power of two), and at most one job
 * per slot is in flight, so one expected id per slot is enough to see a duplicate (a
 * result for an id not awaited) and a vanished job (a slot handed out again while its
 * previous job still had no outcome).
 *
 * Main thread only. Recording a submit or a result allocates nothing.
 */
import type { ResultView } from '../engine/api.js';
import type { FailureReason } from '../engine/errors.js';
import { Outcome, rejectionName } from '../engine/outcome.js';

const NONE = -1;
const MAX_CODE = 16;
const REASONS: readonly FailureReason[] = ['threw', 'worker-lost', 'worker-out-of-memory', 'shutdown'];

export class SoakLedger {
  private readonly mask: number;
  private readonly expectId: Float64Array;
  private readonly rejectedByCode = new Float64Array(MAX_CODE);
  private readonly failedBy = new Float64Array(REASONS.length + 1);
  /** Results delivered 0, 1, 2, 3+ frames after their submit frame. */
  readonly deliveredAfter = new Float64Array(4);
  submitted = 0;
  completed = 0;
  failed = 0;
  expired = 0;
  cancelled = 0;
  duplicates = 0;
  vanished = 0;
  pending = 0;
  /** Failures no injected fault explains (anything but a lost worker). */
  unexpectedFailed = 0;

  constructor(jobCapacity: number) {
    this.mask = jobCapacity - 1;
    this.expectId = new Float64Array(jobCapacity).fill(NONE);
  }

  get rejected(): number {
    let n = 0;
    for (let i = 0; i < MAX_CODE; i++) n += this.rejectedByCode[i];
    return n;
  }

  /** Records what submit() returned. */
  onSubmit(ret: number): void {
    this.submitted++;
    if (ret < 0) {
      this.rejectedByCode[Math.min(MAX_CODE - 1, -ret)]++;
      return;
    }
    const s = ret & this.mask;
    if (this.expectId[s] !== NONE) {
      this.vanished++;
      this.pending--;
    }
    this.expectId[s] = ret;
    this.pending++;
  }

  /** Records a cancel(id) that returned true. */
  onCancelled(id: number): void {
    const s = id & this.mask;
    if (this.expectId[s] !== id) {
      this.duplicates++;
      return;
    }
    this.expectId[s] = NONE;
    this.pending--;
    this.cancelled++;
  }

  /** Records one delivered result (from poll or runInline) at frame `frame`. */
  onResult(r: ResultView, frame: number): void {
    const s = r.jobId & this.mask;
    if (this.expectId[s] !== r.jobId) {
      this.duplicates++;
      return;
    }
    this.expectId[s] = NONE;
    this.pending--;
    const late = frame - r.submitFrame;
    this.deliveredAfter[late < 0 ? 0 : late > 3 ? 3 : late]++;
    if (r.status === Outcome.Done) this.completed++;
    else if (r.status === Outcome.Expired) this.expired++;
    else if (r.status === Outcome.Failed) {
      this.failed++;
      const reason = r.error === null ? -1 : REASONS.indexOf(r.error.reason);
      this.failedBy[reason < 0 ? REASONS.length : reason]++;
      if (reason !== 1 && reason !== 2) this.unexpectedFailed++;
    } else {
      this.duplicates++;
    }
  }

  rejectedByReason(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 1; i < MAX_CODE; i++) if (this.rejectedByCode[i] > 0) out[rejectionName(-i)] = this.rejectedByCode[i];
    return out;
  }

  failedByReason(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i <= REASONS.length; i++) if (this.failedBy[i] > 0) out[REASONS[i] ?? 'unknown'] = this.failedBy[i];
    return out;
  }
}
