/**
 * The stress run's own books, kept independently of the engine's counters so the run
 * can catch the engine losing, duplicating or misreporting a job.
 *
 * A job id holds its slot in the low bits (layout.ts, jobIdOf), so `id % jobCapacity` is the slot and
 * at most one job per slot is in flight. The ledger keeps, per slot, the id it expects
 * back and the submit time: a result whose id is not the one expected is a duplicate
 * (or a stale record), and a slot handed out while the ledger still expects a result
 * for it means a job vanished. Everything is preallocated; recording a submit or a
 * result allocates nothing.
 */
import type { ResultView } from '../../engine/api.js';
import type { JobError } from '../../engine/errors.js';
import { Outcome, rejectionName } from '../../engine/outcome.js';
import { LatencyRecorder } from './latency.js';
import type { KindFigures } from './result.js';

const NONE = -1;
const MAX_CODE = 16;

/** Main thread only. */
export class Ledger {
  private readonly cap: number;
  private readonly expectId: Float64Array;
  private readonly submitAt: Float64Array;
  private readonly rejectedByCode = new Float64Array(MAX_CODE);

  submitted = 0;
  completed = 0;
  failed = 0;
  expired = 0;
  cancelled = 0;
  /** Results for an id the ledger was not waiting for (delivered twice, or never submitted). */
  duplicates = 0;
  /** Slots the engine reissued while the ledger was still waiting for the previous job in them. */
  vanished = 0;
  /** Accepted jobs with no outcome yet. */
  pending = 0;
  unexpectedFailed = 0;
  readonly failedByReason: Record<string, number> = {};
  readonly latency = new LatencyRecorder(1 << 18);
  /** Per kind id: completed-job latency, and counts of [completed, failed, expired]. */
  private readonly kindLatency: LatencyRecorder[] = [];
  private readonly kindCounts: Float64Array;

  constructor(jobCapacity: number, kindCount = 0) {
    this.cap = jobCapacity;
    for (let k = 0; k < kindCount; k++) this.kindLatency.push(new LatencyRecorder(1 << 10));
    this.kindCounts = new Float64Array(kindCount * 3);
    this.expectId = new Float64Array(jobCapacity).fill(NONE);
    this.submitAt = new Float64Array(jobCapacity);
  }

  get rejected(): number {
    let n = 0;
    for (let i = 0; i < MAX_CODE; i++) n += this.rejectedByCode[i];
    return n;
  }

  get received(): number {
    return this.completed + this.failed + this.expired + this.cancelled;
  }

  /** Records what submit() returned: a job id, or a negative rejection code. */
  onSubmit(ret: number, now: number): void {
    this.submitted++;
    if (ret < 0) {
      this.rejectedByCode[Math.min(MAX_CODE - 1, -ret)]++;
      return;
    }
    const s = ret % this.cap;
    if (this.expectId[s] !== NONE) {
      this.vanished++;
      this.pending--;
    }
    this.expectId[s] = ret;
    this.submitAt[s] = now;
    this.pending++;
  }

  /** Records a successful cancel(id). */
  onCancelled(id: number): void {
    const s = id % this.cap;
    if (this.expectId[s] !== id) {
      this.duplicates++;
      return;
    }
    this.expectId[s] = NONE;
    this.pending--;
    this.cancelled++;
  }

  /**
   * Records one polled result. `expected(r)` says whether a failure is explained by an
   * injected fault. Returns the latency in ms for a completed job, -1 otherwise.
   */
  onResult(r: ResultView, now: number, expected: (r: ResultView) => boolean): number {
    const id = r.jobId;
    const s = id % this.cap;
    if (this.expectId[s] !== id) {
      this.duplicates++;
      return -1;
    }
    this.expectId[s] = NONE;
    this.pending--;
    const perKind = r.kind >= 0 && r.kind < this.kindLatency.length;
    switch (r.status) {
      case Outcome.Done: {
        this.completed++;
        const ms = now - this.submitAt[s];
        this.latency.add(ms);
        if (perKind) {
          this.kindLatency[r.kind].add(ms);
          this.kindCounts[r.kind * 3]++;
        }
        return ms;
      }
      case Outcome.Failed: {
        this.failed++;
        if (perKind) this.kindCounts[r.kind * 3 + 1]++;
        const reason = failureReason(r.error);
        this.failedByReason[reason] = (this.failedByReason[reason] ?? 0) + 1;
        if (!expected(r)) this.unexpectedFailed++;
        return -1;
      }
      case Outcome.Expired:
        this.expired++;
        if (perKind) this.kindCounts[r.kind * 3 + 2]++;
        return -1;
      case Outcome.Cancelled:
        this.cancelled++;
        return -1;
      default:
        this.duplicates++;
        return -1;
    }
  }

  /** Whether a result for `id` is still awaited. */
  isPending(id: number): boolean {
    return this.expectId[id % this.cap] === id;
  }

  rejectedByReason(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 1; i < MAX_CODE; i++) if (this.rejectedByCode[i] > 0) out[rejectionName(-i)] = this.rejectedByCode[i];
    return out;
  }

  /** Per-kind figures for kinds that had any outcome; `names` by kind id. */
  byKind(names: readonly string[]): KindFigures[] {
    const out: KindFigures[] = [];
    for (let k = 0; k < this.kindLatency.length; k++) {
      const completed = this.kindCounts[k * 3];
      const failed = this.kindCounts[k * 3 + 1];
      const expired = this.kindCounts[k * 3 + 2];
      if (completed + failed + expired === 0) continue;
      out.push({ kind: names[k] ?? String(k), completed, failed, expired, latencyMs: this.kindLatency[k].summary() });
    }
    return out;
  }

  rejectedFor(code: number): number {
    return this.rejectedByCode[Math.min(MAX_CODE - 1, -code)];
  }
}

function failureReason(e: JobError | null): string {
  return e ? e.reason : 'unknown';
}
