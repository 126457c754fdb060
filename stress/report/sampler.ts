/**
 * Time series for the HTML charts: completed-per-second and queue depth, sampled at a
 * fixed interval from the run loop (the loop calls `tick` often; a sample is taken
 * only when the interval has passed, so the cost per call is a subtraction).
 */
import type { Samples } from './result.js';

/** Main thread only. */
export class Sampler {
  private readonly tMs: number[] = [];
  private readonly throughput: number[] = [];
  private readonly queueDepth: number[] = [];
  private nextAt: number;
  private lastT: number;
  private lastCompleted = 0;

  constructor(
    private readonly t0: number,
    private readonly intervalMs = 100,
  ) {
    this.nextAt = t0 + intervalMs;
    this.lastT = t0;
  }

  tick(now: number, completed: number, queueDepth: number): void {
    if (now < this.nextAt) return;
    this.take(now, completed, queueDepth);
  }

  /** Forces a final sample at the end of the run. */
  take(now: number, completed: number, queueDepth: number): void {
    const dt = now - this.lastT;
    if (dt <= 0) return;
    this.tMs.push(now - this.t0);
    this.throughput.push(((completed - this.lastCompleted) * 1000) / dt);
    this.queueDepth.push(queueDepth);
    this.lastT = now;
    this.lastCompleted = completed;
    this.nextAt = now + this.intervalMs;
  }

  samples(): Samples {
    return { tMs: this.tMs.slice(), throughput: this.throughput.slice(), queueDepth: this.queueDepth.slice() };
  }
}
