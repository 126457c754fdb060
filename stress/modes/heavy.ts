/**
 * The seed's COMPUTE_HEAVY burst, shared by `npm run stress` (modes/burst.ts) and the
 * panel's Stress Test (panel/burst.ts) so both measure the same thing: the job, its
 * admission budget, the submit loop and the warm-up. Each runner keeps only its own
 * pacing (a Node loop, a page that must keep drawing).
 *
 * Runs on Node and in a browser: nothing here imports a Node module.
 */
import type { ResultView } from '../../engine/api.js';
import { computeHeavyKind } from '../../engine/builtin-kinds.js';
import type { EngineCore } from '../../engine/core.js';
import { sleep } from '../../game/time.js';
import type { Ledger } from '../report/ledger.js';

/** The engine's built-in kind that runs the seed's COMPUTE_HEAVY job. */
export const HEAVY_KIND = computeHeavyKind.name;
/** COMPUTE_HEAVY iterations (its second parameter), as in the seed. */
export const HEAVY_ITERATIONS = 10;

/**
 * Admission budget per worker during a burst (EngineOptions.maxQueueMs), ms of measured
 * handler time, the same for any number of workers. The queue must outlast the loop's
 * 1 ms sleep between refused batches, and, with more workers than cores, the scheduler's
 * time slice: the kernel runs one worker of a core for a slice of a few ms, then another,
 * so a queue that one slice drains runs dry every slice; the worker sleeps, must be woken
 * for its next jobs, and the core's time is spent on the wakes. Measured here (4 workers
 * on 2 cores, the burst and the handler alone in turns): at 1 ms per worker each worker
 * slept about 300 times a second and the burst ran at 0.83-0.86 of the limit; at 2 ms, 9
 * times a second and 0.86-0.90. Anything beyond that only adds latency: every queued job
 * also waits out each stall of its worker or of the polling thread (p99 about 5 ms at
 * 1 ms per worker, 12-13 ms at 2 ms, still well inside a frame).
 */
export const BURST_QUEUE_MS = 2;

/** Where a burst is: the last seed submitted, and whether the last batch was refused. */
export interface BurstCursor {
  seed: number;
  refused: boolean;
}

/**
 * Submits up to `batch` COMPUTE_HEAVY jobs with consecutive seeds (params[0]), each
 * recorded in the ledger, and stops at the first refusal. The burst loop of
 * `npm run stress` and of the panel's Stress Test, so both measure the same thing.
 */
export function submitBurstBatch(engine: EngineCore, kind: number, params: Float64Array, ledger: Ledger, batch: number, cur: BurstCursor): void {
  cur.refused = false;
  for (let b = 0; b < batch; b++) {
    cur.seed = (cur.seed + 1) | 0;
    params[0] = cur.seed;
    const id = engine.submit(kind, params, b);
    ledger.onSubmit(id, performance.now());
    if (id < 0) {
      cur.refused = true;
      return;
    }
  }
}

/**
 * Jobs per second one thread does running the COMPUTE_HEAVY handler back to back, with
 * no engine in between: the unit of the machine's limit (times the cores). Measured on
 * the calling thread after a warm-up: the best of `windows` windows of `ms` milliseconds,
 * since on a shared machine any window can lose the core for a while.
 */
export function handlerRate(seed: number, ms = 200, windows = 5): number {
  let best = 0;
  for (let w = 0; w < windows; w++) best = Math.max(best, handlerWindow(seed, ms));
  return best;
}

/**
 * The COMPUTE_HEAVY handler alone, run back to back with consecutive seeds: what the
 * machine's limit is measured with, on the main thread (handlerWindow) and on bare threads
 * (bench/handler-rate-worker.ts).
 */
export class HandlerLoop {
  private readonly params: Float64Array;
  private readonly out = new Float64Array(1);
  private readonly seed: number;

  constructor(seed: number) {
    this.seed = seed | 0;
    this.params = new Float64Array([this.seed, HEAVY_ITERATIONS]);
  }

  /** Runs jobs `from` .. `from + count - 1` (seeds `seed + from` onward). */
  run(from: number, count: number): void {
    const params = this.params;
    for (let i = 0; i < count; i++) {
      params[0] = (this.seed + from + i) | 0;
      computeHeavyKind.run(params, this.out, null as never);
    }
  }
}

/** Jobs per second of the handler alone on this thread over one window of `ms`, after a warm-up. */
export function handlerWindow(seed: number, ms: number): number {
  const loop = new HandlerLoop(seed);
  loop.run(0, 2000);
  let n = 0;
  const t0 = performance.now();
  let now = t0;
  while (now - t0 < ms) {
    loop.run(n, 256);
    n += 256;
    now = performance.now();
  }
  return (n * 1000) / (now - t0);
}

/**
 * Runs jobs before measuring, so the engine's per-kind run-time estimate (what admission
 * control uses) is real and the hot code is compiled on every thread: at least `jobs`
 * jobs and, after them, `burstMs` of the burst's own pattern (submit until refused,
 * poll, sleep 1 ms). The pattern matters: a worker's loop compiled while it only ever saw
 * short queues is compiled again once it meets long ones, and its first 200 ms or so of
 * a burst after a warm-up of a few thousand jobs ran at half speed.
 */
export async function warmUpKind(engine: EngineCore, kind: number, params: Float64Array, jobs: number, timeoutMs: number, burstMs = 500): Promise<void> {
  let left = jobs;
  const sink = (_r: ResultView): void => {};
  const deadline = performance.now() + timeoutMs;
  while ((left > 0 || engine.inFlight > 0) && performance.now() < deadline) {
    for (let i = 0; i < 256 && left > 0; i++) {
      if (engine.submit(kind, params, 0) < 0) break;
      left--;
    }
    engine.poll(sink);
    await sleep(1);
  }
  const burstEnd = Math.min(deadline, performance.now() + burstMs);
  while (performance.now() < burstEnd) {
    for (let i = 0; i < 512; i++) if (engine.submit(kind, params, 0) < 0) break;
    engine.poll(sink);
    await sleep(1);
  }
  while (engine.inFlight > 0 && performance.now() < deadline) {
    engine.poll(sink);
    await sleep(1);
  }
}
