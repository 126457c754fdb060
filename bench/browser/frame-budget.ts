/**
 * The engine's main-thread cost in a 30 Hz game loop on a page: every frame, beginFrame,
 * poll (a trivial apply), then `perFrame` COMPUTE_HEAVY submits; only those calls are
 * timed. Frames are paced by timers, as a game's are, so the page stays responsive
 * between them. Every job is checked afterwards against the kind's own handler, run here.
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
import type { PageReport, Verification } from './protocol.js';

/** Frames run untimed first: every path compiled, the workers' run-time estimates settled. */
const WARM_FRAMES = 30;

export async function frameBudget(engine: EngineCore, frames: number, perFrame: number): Promise<{ budget: PageReport['frameBudgetMs']; verification: Verification }> {
  const HEAVY = engine.kindId(HEAVY_KIND);
  const ledger = new Ledger();
  const total = (frames + WARM_FRAMES) * perFrame;
  // Arrivals are only recorded while frames are timed; the books are done afterwards.
  const values = new Float64Array(total);
  const arrivals = new Uint8Array(total);
  const p = new Float64Array([0, HEAVY_ITERATIONS]);
  let refused = 0;
  const apply = (r: ResultView): void => {
    const i = r.tag;
    if (r.status !== Outcome.Done || i < 0 || i >= total) ledger.take(i, false);
    else {
      values[i] = r.values[0];
      if (arrivals[i] < 255) arrivals[i]++;
    }
  };
  const ms = new Float64Array(frames);
  const start = performance.now();
  for (let f = -WARM_FRAMES; f < frames; f++) {
    const frame = f + WARM_FRAMES;
    const t0 = performance.now();
    engine.beginFrame(frame);
    engine.poll(apply);
    for (let i = 0; i < perFrame; i++) {
      const id = ledger.next();
      p[0] = id;
      if (engine.submit(HEAVY, p, id) < 0) {
        ledger.unissue();
        refused++;
      }
    }
    if (f >= 0) ms[f] = performance.now() - t0;
    await sleep(Math.max(0, start + (frame + 1) * FRAME_MS - performance.now()));
  }
  while (engine.inFlight > 0) {
    engine.poll(apply);
    await sleep(1);
  }
  engine.poll(apply);
  bookArrivals(ledger, values, arrivals);
  const pc = percentiles(ms);
  return { budget: { ...pc, jobsPerFrame: perFrame, refused, frames }, verification: ledger.verify() };
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
