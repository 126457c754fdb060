/**
 * Exact latency percentiles for a stress run. Samples go into a preallocated
 * Float64Array that doubles when full (the only allocation, amortised and rare), so
 * recording a sample in the poll callback costs a store and a compare.
 */
import type { Histogram, LatencySummary } from './result.js';
import { EMPTY_LATENCY } from './result.js';

/** Histogram bucket upper bounds in ms: 1/64 ms doubling up to ~16 s, then open-ended. */
export const HISTOGRAM_BOUNDS_MS: readonly number[] = (() => {
  const b: number[] = [];
  for (let ms = 1 / 64; ms < 20_000; ms *= 2) b.push(ms);
  b.push(Infinity);
  return b;
})();

/** Main thread only. */
export class LatencyRecorder {
  private data: Float64Array;
  private n = 0;

  constructor(initialCapacity = 1 << 16) {
    this.data = new Float64Array(Math.max(16, initialCapacity));
  }

  get count(): number {
    return this.n;
  }

  add(ms: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.n++] = ms;
  }

  /** Sorts a copy; call once at the end of a run. */
  summary(): LatencySummary {
    if (this.n === 0) return EMPTY_LATENCY;
    const sorted = this.data.slice(0, this.n).sort();
    let sum = 0;
    for (let i = 0; i < this.n; i++) sum += sorted[i];
    return {
      count: this.n,
      avg: sum / this.n,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted[this.n - 1],
    };
  }

  histogram(): Histogram {
    const bounds = HISTOGRAM_BOUNDS_MS;
    const counts = new Array<number>(bounds.length).fill(0);
    for (let i = 0; i < this.n; i++) {
      const v = this.data[i];
      let b = 0;
      while (v > bounds[b]) b++;
      counts[b]++;
    }
    return { boundsMs: bounds.slice(), counts };
  }
}

/** Nearest-rank percentile of an ascending array (p in [0, 1]). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}
