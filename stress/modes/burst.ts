/**
 * Burst mode, the seed's stress test: for N seconds submit its COMPUTE_HEAVY job (10
 * iterations over 50 numbers) as fast as the engine takes them, polling between
 * batches, then collect what is outstanding.
 *
 * The seed queued 7,000 jobs behind 4 workers and reported 2.8 s average latency.
 * Here admission control (EngineOptions.maxQueueMs) caps each worker's queued work,
 * estimated from measured run times, so an accepted job starts within a fraction of
 * a frame; a submit past the budget comes back at once as `overloaded` (or
 * `ring-full`), is counted as rejected with its reason, and is never queued.
 */
import { availableParallelism } from 'node:os';
import { EngineCore } from '../../engine/core.js';
import { FRAME_MS, sleep, yieldToEventLoop } from '../../game/time.js';
import type { StressResult } from '../report/result.js';
import { JOB_CAPACITY, MeasuredRun, type ModeOptions } from './common.js';
import { HEAVY_ITERATIONS, HEAVY_KIND, BURST_QUEUE_MS, handlerRate, submitBurstBatch, warmUpKind, type BurstCursor } from './heavy.js';

/** Submits per batch between polls. */
const BATCH = 512;

export interface BurstOptions extends ModeOptions {
  /** Admission budget; default BURST_QUEUE_MS. */
  readonly maxQueueMs?: number;
}

export async function runBurst(o: BurstOptions): Promise<StressResult> {
  const maxQueueMs = o.maxQueueMs ?? BURST_QUEUE_MS;
  const engine = await EngineCore.start({ workers: o.workers, jobCapacity: JOB_CAPACITY, maxQueueMs, trace: o.traceTo !== undefined });
  try {
    const HEAVY = engine.kindId(HEAVY_KIND);
    const params = new Float64Array([o.seed | 0, HEAVY_ITERATIONS]);
    await warmUpKind(engine, HEAVY, params, 4000, 10_000);

    const run = new MeasuredRun(engine, JOB_CAPACITY);
    const { ledger, t0 } = run;
    const end = t0 + o.seconds * 1000;
    const cursor: BurstCursor = { seed: o.seed | 0, refused: false };
    let frame = -1;
    let lastYield = t0;
    let now = t0;
    while (now < end) {
      const f = ((now - t0) / FRAME_MS) | 0;
      if (f !== frame) {
        frame = f;
        engine.beginFrame(f);
      }
      submitBurstBatch(engine, HEAVY, params, ledger, BATCH, cursor);
      const refused = cursor.refused;
      run.poll();
      now = performance.now();
      run.tick(now);
      o.onProgress?.((now - t0) / (end - t0), now, () => `burst  done ${ledger.completed.toLocaleString('en-US')}  refused ${ledger.rejected.toLocaleString('en-US')}`);
      if (refused) {
        // Every worker holds its budget: hand the cores to the workers for a moment
        // instead of spinning on submits that would be refused. The event loop also
        // runs the engine's heartbeat watchdog and worker-exit handlers here.
        await sleep(1);
        now = performance.now();
        lastYield = now;
      } else if (now - lastYield > 4) {
        await yieldToEventLoop();
        now = performance.now();
        lastYield = now;
      }
    }
    run.endSubmit();
    await run.collect(o.collectTimeoutMs ?? 10_000);
    // finish() ends the measured window, so it comes before the limit's own second.
    const result = run.finish({
      mode: 'burst',
      o,
      notes: [`admission budget maxQueueMs ${+maxQueueMs.toFixed(2)} ms per worker (${availableParallelism()} cores); COMPUTE_HEAVY ${HEAVY_ITERATIONS} iterations`],
    });
    // The limit is measured after the run, with the workers idle: the handler alone on
    // this thread, times the cores.
    const perThread = handlerRate(o.seed);
    const cores = availableParallelism();
    const limitPerS = perThread * cores;
    return { ...result, limit: { perThreadPerS: perThread, cores, limitPerS, ratio: result.throughputPerS / limitPerS } };
  } finally {
    await engine.shutdown({ timeoutMs: 2000 });
    // After shutdown, so the timeline holds the last deliveries too.
    o.traceTo?.(engine);
  }
}

