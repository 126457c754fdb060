/**
 * The engine's tiny-job throughput through its public API, as `npm run bench` measures it:
 * noop jobs submitted in batches, polled between batches, every result checked.
 */
import type { ResultView } from '../engine/api.js';
import type { EngineCore } from '../engine/core.js';
import { yieldToEventLoop } from '../game/time.js';

export interface Throughput {
  jobs: number;
  seconds: number;
  perSecond: number;
}

/** Where the main thread's time went in an engine throughput run. */
export interface MainSplit {
  /** Submitting, per job accepted (refused submits included in the time). */
  submitNs: number;
  /** Polls that delivered results, per result. */
  pollNs: number;
  /** Share of the run spent in polls that found nothing: the main thread waiting for workers. */
  idleShare: number;
}

/**
 * How the jobs go in: one submit per job, submitMany (1,024 jobs a call, each its own job
 * id and record), or submitBundle (1,024 jobs a call under one id and one record).
 */
export type SubmitMode = 'one' | 'many' | 'bundle';

/**
 * Submits noop jobs in batches of up to 1,024 and polls between batches (a submit refused
 * for a full ring ends its batch). Also times the two halves of the main thread's loop,
 * which is where a tiny job's cost lies: two clock readings per batch.
 */
export async function engineThroughput(engine: EngineCore, seconds: number, mode: SubmitMode = 'one'): Promise<Throughput & MainSplit> {
  const NOOP = engine.kindId('noop');
  const p = new Float64Array(2);
  const batch = new Float64Array(2 * 1024);
  let done = 0;
  // A typed array, not a closure variable: a double stored in a closure is a new heap
  // number per job, garbage the bare ring's loop does not make either.
  const checksum = new Float64Array(1);
  const sink = (r: ResultView): void => {
    done++;
    checksum[0] += r.values[0];
  };
  let submitted = 0;
  let submitMs = 0;
  let pollMs = 0;
  let idleMs = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let spins = 0;
  let now = start;
  while (now < end) {
    if (mode !== 'one') {
      for (let b = 0; b < 1024; b++) {
        batch[2 * b] = (submitted + b) & 0xffff;
        batch[2 * b + 1] = 1;
      }
      if (mode === 'many') {
        const n = engine.submitMany(NOOP, batch, 1024);
        if (n > 0) submitted += n;
      } else if (engine.submitBundle(NOOP, batch, 1024) >= 0) submitted += 1024;
    } else {
      for (let b = 0; b < 1024; b++) {
        p[0] = submitted & 0xffff;
        p[1] = 1;
        if (engine.submit(NOOP, p) < 0) break;
        submitted++;
      }
    }
    const polledFrom = performance.now();
    submitMs += polledFrom - now;
    const before = done;
    engine.poll(sink);
    now = performance.now();
    if (done === before) idleMs += now - polledFrom;
    else pollMs += now - polledFrom;
    // Yield now and then so timers (the heartbeat watchdog) still run.
    if ((++spins & 1023) === 0) {
      await yieldToEventLoop();
      now = performance.now();
    }
  }
  while (done < submitted) engine.poll(sink);
  const elapsedMs = performance.now() - start;
  // Inputs wrap at 2^16, so the sums stay exact however many jobs a run moves.
  const cycles = Math.floor(submitted / 65536);
  const rest = submitted % 65536;
  const expected = cycles * ((65536 * 65535) / 2) + (rest * (rest - 1)) / 2 + submitted;
  if (checksum[0] !== expected) throw new Error('engine throughput run returned wrong results');
  return {
    jobs: done,
    seconds: elapsedMs / 1000,
    perSecond: (done * 1000) / elapsedMs,
    submitNs: (submitMs * 1e6) / submitted,
    pollNs: (pollMs * 1e6) / done,
    idleShare: idleMs / elapsedMs,
  };
}
