/**
 * The engine's main-thread cost in a 30 Hz game loop on a page: every frame, beginFrame,
 * poll (a trivial apply), then `perFrame` COMPUTE_HEAVY submits; only those calls are
 * timed. Frames are paced by timers, as a game's are, so the page stays responsive
 * between them. Every job is checked afterwards against the kind's own handler, run here.
 *
 * The frames come in rounds, so two engines (frame pacing off and on) can take turns in
 * one page and share its drift.
 *
 * Page thread only.
 */
import type { ResultView } from '../../engine/api.js';
import { computeHeavyKind } from '../../engine/builtin-kinds.js';
import type { EngineCore } from '../../engine/core.js';
import type { JobContext } from '../../engine/kind.js';
import { Outcome } from '../../engine/outcome.js';
import { FRAME_MS, sleep } from '../../game/time.js';
import { HEAVY_ITERATIONS, HEAVY_KIND } from '../../stress/modes/heavy.js';
import { Ledger } from './ledger.js';
import { percentiles } from './peers.js';
import { WARM_FRAMES, type FrameBudget, type Verification } from './protocol.js';


/** One engine's frames, over as many rounds as the caller runs. */
export class FrameBudgetRun {
  private readonly engine: EngineCore;
  private readonly heavy: number;
  private readonly perFrame: number;
  private readonly ledger = new Ledger();
  // Arrivals are only recorded while frames run; the books are done by finish().
  private readonly values: Float64Array;
  private readonly arrivals: Uint8Array;
  private readonly total: number;
  private readonly ms: Float64Array;
  private readonly roundP99: number[] = [];
  private readonly p = new Float64Array([0, HEAVY_ITERATIONS]);
  /** The page thread's wake-ups of sleeping workers during the rounds (EngineStats.wakes): how many, ms in all. */
  private readonly wakes = { count: 0, ms: 0 };
  private timed = 0;
  private frame = 0;
  private refused = 0;
  private readonly apply = (r: ResultView): void => {
    const i = r.tag;
    if (r.status !== Outcome.Done || i < 0 || i >= this.total) this.ledger.take(i, false);
    else {
      this.values[i] = r.values[0];
      if (this.arrivals[i] < 255) this.arrivals[i]++;
    }
  };

  /** For `frames` timed frames in all, after WARM_FRAMES untimed ones. */
  constructor(engine: EngineCore, frames: number, perFrame: number) {
    this.engine = engine;
    this.heavy = engine.kindId(HEAVY_KIND);
    this.perFrame = perFrame;
    this.total = (frames + WARM_FRAMES) * perFrame;
    this.values = new Float64Array(this.total);
    this.arrivals = new Uint8Array(this.total);
    this.ms = new Float64Array(frames);
  }

  /**
   * Runs `frames` frames at 30 Hz (the warm-up first, on the first call), then waits
   * until every job of them is back, so the next round, this engine's or another's,
   * starts on idle workers.
   */
  async round(frames: number): Promise<void> {
    const warm = this.frame === 0 ? WARM_FRAMES : 0;
    const engine = this.engine;
    const first = this.timed;
    const w0 = engine.stats().wakes;
    const start = performance.now();
    for (let f = -warm; f < frames && this.timed < this.ms.length; f++) {
      const t0 = performance.now();
      engine.beginFrame(this.frame);
      engine.poll(this.apply);
      for (let i = 0; i < this.perFrame; i++) {
        const id = this.ledger.next();
        this.p[0] = id;
        if (engine.submit(this.heavy, this.p, id) < 0) {
          this.ledger.unissue();
          this.refused++;
        }
      }
      if (f >= 0) this.ms[this.timed++] = performance.now() - t0;
      this.frame++;
      await sleep(Math.max(0, start + (f + warm + 1) * FRAME_MS - performance.now()));
    }
    while (engine.inFlight > 0) {
      engine.poll(this.apply);
      await sleep(1);
    }
    engine.poll(this.apply);
    const w1 = engine.stats().wakes;
    this.wakes.count += w1.count - w0.count;
    this.wakes.ms += w1.ms - w0.ms;
    if (this.timed > first) this.roundP99.push(percentiles(this.ms.subarray(first, this.timed)).p99);
  }

  /** The timed frames' percentiles, and the books of every job, each checked against the handler. */
  finish(): { budget: FrameBudget; verification: Verification } {
    bookArrivals(this.ledger, this.values, this.arrivals);
    const pc = percentiles(this.ms.subarray(0, this.timed));
    return { budget: { ...pc, jobsPerFrame: this.perFrame, refused: this.refused, frames: this.timed, roundP99: this.roundP99, wakes: this.wakes }, verification: this.ledger.verify() };
  }
}

/**
 * Books every arrival, each checked against the handler run here on the job's own
 * parameters. A refused submit's id was taken back, so ids stay dense.
 */
function bookArrivals(ledger: Ledger, values: Float64Array, arrivals: Uint8Array): void {
  const params = new Float64Array([0, HEAVY_ITERATIONS]);
  const out = new Float64Array(1);
  const ctx = {} as JobContext<undefined>;
  for (let i = 0; i < ledger.submitted; i++) {
    if (arrivals[i] === 0) continue;
    params[0] = i;
    computeHeavyKind.run(params, out, ctx);
    for (let k = 0; k < arrivals[i]; k++) ledger.take(i, values[i] === out[0]);
  }
}
