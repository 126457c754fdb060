/**
 * The panel's Stress Test: the seed's 5 s burst of COMPUTE_HEAVY jobs, run on the page's
 * engine with the same job, submit loop and admission budget (stress/modes/heavy.ts), the
 * same books and result (MeasuredRun) and the same grade as `npm run stress`.
 *
 * It differs from stress/modes/burst.ts only in how it gives the thread back: a page must
 * keep drawing, so submit batches are cut into slices of a few ms and the loop yields to
 * the browser between slices (a MessageChannel hop, which browsers do not clamp like
 * nested timeouts). It never blocks; the page's main thread never calls Atomics.wait.
 *
 * Threads: the page's main thread only.
 */
import type { EngineCore } from '../engine/core.js';
import { FRAME_MS, sleep } from '../game/time.js';
import { grade, type GradeReport } from '../stress/report/grade.js';
import { PLAIN, renderReport } from '../stress/report/text.js';
import type { StressResult } from '../stress/report/result.js';
import { JOB_CAPACITY, MeasuredRun } from '../stress/modes/common.js';
import { HEAVY_ITERATIONS, HEAVY_KIND, BURST_QUEUE_MS, submitBurstBatch, warmUpKind, type BurstCursor } from '../stress/modes/heavy.js';

/** Submits per batch between polls. */
const BATCH = 256;
/** Longest stretch of submitting before the page gets the thread back, ms. */
const SLICE_MS = 8;

export interface PanelBurstOptions {
  /** Length of the submit phase, s. Default 5. */
  seconds?: number;
  seed?: number;
  /** The engine's jobCapacity (EngineOptions.jobCapacity). Default JOB_CAPACITY (16384), the engine's default. */
  jobCapacity?: number;
  /** Most time to wait for outstanding jobs afterwards, ms. Default 5000. */
  collectTimeoutMs?: number;
  /** Admission budget during the burst, ms per worker. Default: the stress test's (BURST_QUEUE_MS). */
  maxQueueMs?: number;
  /** Called between slices with the fraction done. */
  onProgress?: (fraction: number, completed: number, refused: number) => void;
}

export interface PanelBurstOutcome {
  readonly result: StressResult;
  readonly report: GradeReport;
  /** The terminal report's text, as `npm run stress` prints it (no colour). */
  readonly text: string;
}

/** Gives the thread back to the browser for one task (rendering and timers run). */
export function yieldToBrowser(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(0);
  });
}

/**
 * Runs a burst on `engine`, which must have nothing in flight and no other submitter
 * while it runs (the panel pauses its game first). The engine stays up afterwards.
 */
export async function runPanelBurst(engine: EngineCore, o: PanelBurstOptions = {}): Promise<PanelBurstOutcome> {
  const seconds = o.seconds ?? 5;
  const seedStart = o.seed ?? 1;
  const HEAVY = engine.kindId(HEAVY_KIND);
  const params = new Float64Array([seedStart, HEAVY_ITERATIONS]);
  const frame0 = engine.frame;
  await warmUpKind(engine, HEAVY, params, 2000, 5000);

  // The panel's engine admits the game's budget; a burst uses the stress test's tighter
  // one, as `npm run stress` does, and gives the game's back when it ends.
  const gameBudget = engine.maxQueueMs;
  engine.maxQueueMs = o.maxQueueMs ?? BURST_QUEUE_MS;
  try {
    return await burstOn(engine, o, HEAVY, params, frame0, seedStart, seconds);
  } finally {
    engine.maxQueueMs = gameBudget;
  }
}

async function burstOn(
  engine: EngineCore,
  o: PanelBurstOptions,
  HEAVY: number,
  params: Float64Array,
  frame0: number,
  seedStart: number,
  seconds: number,
): Promise<PanelBurstOutcome> {
  // A job id holds its slot in the low bits; the ledger must be sized to the engine's jobCapacity.
  const run = new MeasuredRun(engine, o.jobCapacity ?? JOB_CAPACITY);
  const { ledger, poll, t0 } = run;
  const end = t0 + seconds * 1000;
  const cursor: BurstCursor = { seed: seedStart | 0, refused: false };
  let now = t0;
  let awayTotal = 0;
  let awayMax = 0;
  let slices = 0;
  let refusedSlices = 0;
  while (now < end) {
    engine.beginFrame(frame0 + (((now - t0) / FRAME_MS) | 0));
    const sliceEnd = now + SLICE_MS;
    cursor.refused = false;
    while (!cursor.refused && performance.now() < sliceEnd) {
      submitBurstBatch(engine, HEAVY, params, ledger, BATCH, cursor);
      poll();
    }
    const refused = cursor.refused;
    now = performance.now();
    run.tick(now);
    o.onProgress?.(Math.min(1, (now - t0) / (end - t0)), ledger.completed, ledger.rejected);
    // Refused: every worker holds its admission budget, so let them work for a moment.
    const away0 = performance.now();
    if (refused) await sleep(1);
    else await yieldToBrowser();
    now = performance.now();
    const away = now - away0;
    awayTotal += away;
    awayMax = Math.max(awayMax, away);
    slices++;
    if (refused) refusedSlices++;
  }
  run.endSubmit();
  // The page's own collect: it keeps the frame moving while it waits, as the page's
  // loop would, and ends as soon as nothing is in flight.
  const collectEnd = run.submitEnd + (o.collectTimeoutMs ?? 5000);
  for (;;) {
    engine.beginFrame(frame0 + (((performance.now() - t0) / FRAME_MS) | 0));
    poll();
    const t = performance.now();
    run.tick(t);
    if ((ledger.pending === 0 && engine.inFlight === 0) || t >= collectEnd) break;
    await sleep(2);
  }
  const result = run.finish({
    mode: 'burst',
    o: { seconds, seed: seedStart },
    notes: [
      `browser panel run; COMPUTE_HEAVY ${HEAVY_ITERATIONS} iterations; submits in ${SLICE_MS} ms slices between page tasks`,
      `page thread away between slices: ${slices} slices (${refusedSlices} ended refused), avg ${(awayTotal / Math.max(1, slices)).toFixed(1)} ms, max ${awayMax.toFixed(0)} ms`,
    ],
  });
  const report = grade(result);
  return { result, report, text: renderReport(result, report, PLAIN) };
}

