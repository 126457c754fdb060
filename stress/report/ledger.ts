/**
 * The stress run's books (books.ts) plus what the report measures from them: latency
 * from submit to the poll that delivered the result, overall and per kind, and
 * outcomes per kind. Recording a submit or a result allocates nothing (the latency
 * recorders grow only when full, rarely).
 */
import type { ResultView } from '../../engine/api.js';
import { Outcome } from '../../engine/outcome.js';
import { JobBooks } from './books.js';
import { LatencyRecorder } from './latency.js';
import type { KindFigures } from './result.js';

/** Main thread only. */
export class Ledger extends JobBooks {
  private readonly submitAt: Float64Array;
  readonly latency = new LatencyRecorder(1 << 18);
  /** Per kind id: completed-job latency, and counts of [completed, failed, expired]. */
  private readonly kindLatency: LatencyRecorder[] = [];
  private readonly kindCounts: Float64Array;

  constructor(jobCapacity: number, kindCount = 0) {
    super(jobCapacity);
    for (let k = 0; k < kindCount; k++) this.kindLatency.push(new LatencyRecorder(1 << 10));
    this.kindCounts = new Float64Array(kindCount * 3);
    this.submitAt = new Float64Array(jobCapacity);
  }

  /** Outcomes seen through poll, plus cancels confirmed at cancel(). */
  get received(): number {
    return this.completed + this.failed + this.expired + this.cancelled;
  }

  /** Records what submit() returned (a job id, or a negative rejection code) at time `now`. */
  onSubmit(ret: number, now: number): void {
    const s = this.admit(ret);
    if (s >= 0) this.submitAt[s] = now;
  }

  /**
   * Records one polled result. `expected(r)` says whether a failure is explained by an
   * injected fault. Returns the latency in ms for a completed job, -1 otherwise.
   */
  onResult(r: ResultView, now: number, expected: (r: ResultView) => boolean): number {
    const s = this.settle(r.jobId);
    if (s < 0) return -1;
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
      case Outcome.Failed:
        if (perKind) this.kindCounts[r.kind * 3 + 1]++;
        this.countFailure(r, expected(r));
        return -1;
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
}
