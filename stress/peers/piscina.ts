/**
 * The burst workload through piscina, for `--vs piscina`: same job (COMPUTE_HEAVY,
 * 10 iterations), same thread count, same seconds, same loop shape as the engine's
 * burst (submit a batch until the pool refuses, let results in, repeat), measured the
 * same way (submit to the moment the main thread sees the result).
 *
 * Piscina is given its own admission control, `maxQueue: 'auto'` (threads squared
 * queued tasks), so both columns shed excess load instead of queueing it for
 * seconds; without it piscina reproduces the seed's multi-second latencies.
 */
import { Piscina } from 'piscina';
import { builtModuleUrl } from '../../engine/paths.js';
import { yieldToEventLoop } from '../../game/time.js';
import { HEAVY_ITERATIONS } from '../modes/heavy.js';
import type { HeavyTask } from './piscina-worker.js';
import { LatencyRecorder } from '../report/latency.js';
import type { StressResult } from '../report/result.js';
import { Sampler } from '../report/sampler.js';

export interface PeerRunOptions {
  readonly seconds: number;
  readonly workers: number;
  readonly seed: number;
  /** Called from the run loop; `detail` is built only if the caller shows it. */
  readonly onProgress?: (fraction: number, now: number, detail: () => string) => void;
  /** Most time to wait for outstanding tasks after the submit phase, ms. Default 10000. */
  readonly collectTimeoutMs?: number;
}

const BATCH = 256;
const QUEUE_FULL = 'Task queue is at limit';

export async function runPiscinaBurst(o: PeerRunOptions): Promise<StressResult> {
  const threads = Math.max(1, o.workers);
  const pool = new Piscina<HeavyTask, number>({
    filename: builtModuleUrl(import.meta.url, './piscina-worker.js').href,
    minThreads: threads,
    maxThreads: threads,
    maxQueue: 'auto',
    idleTimeout: 60_000,
  });
  try {
    // Warm-up, as the engine's start() does: every thread up and the handler compiled.
    // Rounds of one task per thread, so the warm-up never meets the queue limit.
    for (let round = 0; round < 8; round++) {
      await Promise.all(Array.from({ length: threads }, (_, i) => pool.run({ seed: round * threads + i, iterations: HEAVY_ITERATIONS })));
    }

    const rec = new LatencyRecorder();
    const failedByReason: Record<string, number> = {};
    let submitted = 0;
    let completed = 0;
    let failed = 0;
    let rejected = 0;
    let seed = o.seed | 0;
    const maxQueue = pool.options.maxQueue;

    const t0 = performance.now();
    const sampler = new Sampler(t0);
    const end = t0 + o.seconds * 1000;
    const pending = new Set<Promise<void>>();
    let now = t0;
    while (now < end) {
      for (let b = 0; b < BATCH; b++) {
        const started = performance.now();
        submitted++;
        seed = (seed + 1) | 0;
        const p: Promise<void> = pool.run({ seed, iterations: HEAVY_ITERATIONS }).then(
          () => {
            completed++;
            rec.add(performance.now() - started);
            pending.delete(p);
          },
          (err: unknown) => {
            const msg = err instanceof Error ? err.message : String(err);
            if (msg === QUEUE_FULL) rejected++;
            else {
              failed++;
              failedByReason[msg] = (failedByReason[msg] ?? 0) + 1;
            }
            pending.delete(p);
          },
        );
        pending.add(p);
        // The pool's own backpressure signal: the next run() would be refused.
        if (pool.queueSize >= maxQueue) break;
      }
      await yieldToEventLoop();
      now = performance.now();
      sampler.tick(now, completed, submitted - rejected - completed - failed);
      o.onProgress?.((now - t0) / (end - t0), now, () => `piscina  done ${completed.toLocaleString('en-US')}  refused ${rejected.toLocaleString('en-US')}`);
    }
    const submitEnd = performance.now();
    const timeout = o.collectTimeoutMs ?? 10_000;
    const collectDeadline = submitEnd + timeout;
    while (pending.size > 0 && performance.now() < collectDeadline) {
      await yieldToEventLoop();
      sampler.tick(performance.now(), completed, pending.size);
    }
    const tEnd = performance.now();
    sampler.take(tEnd, completed, pending.size);
    const inFlight = pending.size;
    const testS = (tEnd - t0) / 1000;
    return {
      engine: 'piscina',
      mode: 'burst',
      seed: o.seed,
      seconds: o.seconds,
      workers: { configured: threads, alive: pool.threads.length, respawned: 0, killed: 0 },
      jobs: {
        submitted,
        received: completed + failed,
        completed,
        failed,
        rejected,
        expired: 0,
        cancelled: 0,
        inFlight,
        lost: submitted - completed - failed - rejected - inFlight,
        duplicates: 0,
      },
      rejectedByReason: rejected > 0 ? { 'queue-at-limit': rejected } : {},
      failedByReason,
      unexpectedFailed: failed,
      throughputPerS: completed / testS,
      latencyMs: rec.summary(),
      histogram: rec.histogram(),
      timing: { testS, submitS: (submitEnd - t0) / 1000, collectS: (tEnd - submitEnd) / 1000 },
      samples: sampler.samples(),
      notes: [`piscina ${Piscina.version}, maxQueue 'auto' (${maxQueue}), ${threads} threads`],
    };
  } finally {
    await pool.destroy();
  }
}
