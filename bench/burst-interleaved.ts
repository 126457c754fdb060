/**
 * The burst against the machine's limit, the two measured in turns: on a shared machine
 * the cores' speed drifts by 10-20 % over seconds, so a burst measured for seconds and a
 * limit measured for one second after it can differ by that much with no engine in the
 * question. Here each round is a window of the burst (the seed's COMPUTE_HEAVY, submitted
 * until refused, polled, 1 ms sleeps, as `npm run stress` runs it) followed, once the
 * engine is idle, by a window of the handler run back to back on this thread; the ratio
 * is the burst's rate over all its windows to the handler's over all of its, times the cores.
 */
import { availableParallelism } from 'node:os';
import type { ResultView } from '../engine/api.js';
import { EngineCore } from '../engine/core.js';
import { Outcome } from '../engine/outcome.js';
import { FRAME_MS, sleep } from '../game/time.js';
import { JOB_CAPACITY } from '../stress/modes/common.js';
import { HEAVY_ITERATIONS, HEAVY_KIND, BURST_QUEUE_MS, handlerWindow, warmUpKind } from '../stress/modes/heavy.js';

export interface InterleavedBurst {
  readonly workers: number;
  readonly rounds: number;
  readonly burstPerS: number;
  readonly limitPerS: number;
  readonly ratio: number;
  /** Each round's burst rate over its limit (the handler's rate times the cores). */
  readonly roundRatios: readonly number[];
}

const BATCH = 512;

export async function interleavedBurst(workers: number, rounds: number, burstMs: number, windowMs: number, seed = 1): Promise<InterleavedBurst> {
  const cores = availableParallelism();
  const engine = await EngineCore.start({ workers, jobCapacity: JOB_CAPACITY, maxQueueMs: BURST_QUEUE_MS });
  try {
    const kind = engine.kindId(HEAVY_KIND);
    const params = new Float64Array([seed | 0, HEAVY_ITERATIONS]);
    await warmUpKind(engine, kind, params, 4000, 10_000);
    handlerWindow(seed, windowMs);
    const done = new Int32Array(1);
    let counting = false;
    const onResult = (r: ResultView): void => {
      if (counting && r.status === Outcome.Done) done[0]++;
    };
    let burstJobs = 0;
    let burstMsTotal = 0;
    let handlerJobsPerS = 0;
    const roundRatios: number[] = [];
    let frame = 0;
    for (let k = 0; k < rounds; k++) {
      done[0] = 0;
      counting = true;
      const t0 = performance.now();
      const end = t0 + burstMs;
      let now = t0;
      let frameAt = t0;
      while (now < end) {
        if (now - frameAt >= FRAME_MS) {
          frameAt = now;
          engine.beginFrame(++frame);
        }
        let refused = false;
        for (let b = 0; b < BATCH; b++) {
          params[0] = (params[0]! + 1) | 0;
          if (engine.submit(kind, params, b) < 0) {
            refused = true;
            break;
          }
        }
        engine.poll(onResult);
        if (refused) await sleep(1);
        now = performance.now();
      }
      engine.poll(onResult);
      const t1 = performance.now();
      counting = false;
      const burstRate = (done[0] * 1000) / (t1 - t0);
      burstJobs += done[0];
      burstMsTotal += t1 - t0;
      while (engine.inFlight > 0) {
        engine.poll(onResult);
        await sleep(1);
      }
      const rate = handlerWindow(seed + k, windowMs);
      handlerJobsPerS += rate;
      roundRatios.push(Number((burstRate / (rate * cores)).toFixed(3)));
    }
    const burstPerS = (burstJobs * 1000) / burstMsTotal;
    const limitPerS = (handlerJobsPerS / rounds) * cores;
    return { workers, rounds, burstPerS, limitPerS, ratio: burstPerS / limitPerS, roundRatios };
  } finally {
    await engine.shutdown();
  }
}
