/**
 * A run's own books, kept independently of the engine's counters so the run can catch
 * the engine losing, duplicating or misreporting a job. The stress ledger (ledger.ts)
 * and the soak's (tools/soak-ledger.ts) are both these books plus what each measures.
 *
 * A job id holds its slot in the low bits (jobCapacity is a power of two), and at most
 * one job per slot is in flight, so one expected id per slot is enough: a result whose
 * id is not the one expected is a duplicate (or a stale record), and a slot handed out
 * while the books still expect a result for it means a job vanished. Everything is
 * preallocated; recording a submit, a cancel or a result allocates nothing.
 *
 * Main thread only.
 */
import type { ResultView } from '../../engine/api.js';
import { FAILURE_REASONS, type FailureReason } from '../../engine/errors.js';
import { rejectionName } from '../../engine/outcome.js';


/** Failures that mean the job's worker went away under it (killed, hung or out of memory). */
export function isWorkerLoss(reason: FailureReason | undefined): boolean {
  return reason === 'worker-lost' || reason === 'worker-out-of-memory';
}

const NONE = -1;
const MAX_CODE = 16;
const UNKNOWN_REASON = FAILURE_REASONS.length;

export class JobBooks {
  protected readonly cap: number;
  private readonly expectId: Float64Array;
  private readonly rejectedByCode = new Float64Array(MAX_CODE);
  /** Failures by index in FAILURE_REASONS; the last slot counts failures with no error. */
  private readonly failedBy = new Float64Array(FAILURE_REASONS.length + 1);

  submitted = 0;
  completed = 0;
  failed = 0;
  expired = 0;
  cancelled = 0;
  /** Results for an id the books were not waiting for (delivered twice, or never submitted). */
  duplicates = 0;
  /** Slots the engine reissued while the books were still waiting for the previous job in them. */
  vanished = 0;
  /** Accepted jobs with no outcome yet. */
  pending = 0;
  /** Failures no injected fault explains. */
  unexpectedFailed = 0;

  constructor(jobCapacity: number) {
    this.cap = jobCapacity;
    this.expectId = new Float64Array(jobCapacity).fill(NONE);
  }

  get rejected(): number {
    let n = 0;
    for (let i = 0; i < MAX_CODE; i++) n += this.rejectedByCode[i];
    return n;
  }

  /** Records what submit() returned. The slot of an accepted job, or -1 for a rejection. */
  protected admit(ret: number): number {
    this.submitted++;
    if (ret < 0) {
      this.rejectedByCode[Math.min(MAX_CODE - 1, -ret)]++;
      return -1;
    }
    const s = ret % this.cap;
    if (this.expectId[s] !== NONE) {
      this.vanished++;
      this.pending--;
    }
    this.expectId[s] = ret;
    this.pending++;
    return s;
  }

  /**
   * Takes a delivered outcome for `id` off the books: its slot, or -1 (counted as a
   * duplicate) when no result for that id is awaited.
   */
  protected settle(id: number): number {
    const s = id % this.cap;
    if (this.expectId[s] !== id) {
      this.duplicates++;
      return -1;
    }
    this.expectId[s] = NONE;
    this.pending--;
    return s;
  }

  /** Counts a failed result by its reason; `expected`: an injected fault explains it. */
  protected countFailure(r: ResultView, expected: boolean): void {
    this.failed++;
    const i = r.error === null ? -1 : FAILURE_REASONS.indexOf(r.error.reason);
    this.failedBy[i < 0 ? UNKNOWN_REASON : i]++;
    if (!expected) this.unexpectedFailed++;
  }

  /** Records a cancel(id) that returned true. */
  onCancelled(id: number): void {
    if (this.settle(id) >= 0) this.cancelled++;
  }

  /** Whether a result for `id` is still awaited. */
  isPending(id: number): boolean {
    return this.expectId[id % this.cap] === id;
  }

  rejectedFor(code: number): number {
    return this.rejectedByCode[Math.min(MAX_CODE - 1, -code)];
  }

  rejectedByReason(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 1; i < MAX_CODE; i++) if (this.rejectedByCode[i] > 0) out[rejectionName(-i)] = this.rejectedByCode[i];
    return out;
  }

  /** Failures by reason (`unknown`: a failure that carried no error); reasons with none left out. */
  get failedByReason(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i <= UNKNOWN_REASON; i++) if (this.failedBy[i] > 0) out[FAILURE_REASONS[i] ?? 'unknown'] = this.failedBy[i];
    return out;
  }
}
