/**
 * Tiny jobs against the bare ring, measured in turns: runs of a few seconds each,
 * one after the other, differ by up to 2x on a shared machine (the bare ring alone read
 * 26M and 43M jobs/s in two runs of the same bench), more than anything the engine could
 * change. Here each round is a window of the engine (one submit per job), one of the bare
 * ring and one of the engine again with submitMany (the order reversed every other round),
 * and each ratio is an engine's rate over all its windows to the ring's over all of its.
 *
 * The engine has its default options, so its worker count is the machine's (cores minus
 * one): on two cores one worker, as many as the bare ring has.
 */
import { EngineCore } from '../engine/core.js';
import { BareRing } from './bare-ring.js';
import { engineThroughput } from './engine-throughput.js';

export interface InterleavedTiny {
  readonly workers: number;
  readonly rounds: number;
  readonly enginePerS: number;
  /** The same engine with its jobs submitted 1,024 at a time by submitMany. */
  readonly manyPerS: number;
  /** The same engine with its jobs submitted 1,024 at a time as bundles (submitBundle). */
  readonly bundlePerS: number;
  readonly bareRingPerS: number;
  readonly ratio: number;
  readonly manyRatio: number;
  readonly bundleRatio: number;
  /** Each round's bundle rate over its bare-ring rate. */
  readonly bundleRoundRatios: readonly number[];
  /** Each round's engine rate over its bare-ring rate. */
  readonly roundRatios: readonly number[];
}

export async function interleavedTiny(rounds: number, windowMs: number): Promise<InterleavedTiny> {
  const engine = await EngineCore.start({});
  const ring = await BareRing.start();
  try {
    await engineThroughput(engine, 0.3);
    await engineThroughput(engine, 0.3, 'many');
    await engineThroughput(engine, 0.3, 'bundle');
    ring.run(0.3);
    let engineJobs = 0;
    let engineS = 0;
    let manyJobs = 0;
    let manyS = 0;
    let bundleJobs = 0;
    let bundleS = 0;
    let ringJobs = 0;
    let ringS = 0;
    const roundRatios: number[] = [];
    const bundleRoundRatios: number[] = [];
    const w = windowMs / 1000;
    for (let k = 0; k < rounds; k++) {
      let e: { jobs: number; seconds: number };
      let m: { jobs: number; seconds: number };
      let bu: { jobs: number; seconds: number };
      let r: { jobs: number; perSecond: number };
      if (k % 2 === 0) {
        e = await engineThroughput(engine, w);
        bu = await engineThroughput(engine, w, 'bundle');
        r = ring.run(w);
        m = await engineThroughput(engine, w, 'many');
      } else {
        m = await engineThroughput(engine, w, 'many');
        r = ring.run(w);
        bu = await engineThroughput(engine, w, 'bundle');
        e = await engineThroughput(engine, w);
      }
      engineJobs += e.jobs;
      engineS += e.seconds;
      manyJobs += m.jobs;
      manyS += m.seconds;
      bundleJobs += bu.jobs;
      bundleS += bu.seconds;
      ringJobs += r.jobs;
      ringS += r.jobs / r.perSecond;
      roundRatios.push(Number((e.jobs / e.seconds / r.perSecond).toFixed(3)));
      bundleRoundRatios.push(Number((bu.jobs / bu.seconds / r.perSecond).toFixed(3)));
    }
    const enginePerS = engineJobs / engineS;
    const manyPerS = manyJobs / manyS;
    const bundlePerS = bundleJobs / bundleS;
    const bareRingPerS = ringJobs / ringS;
    return {
      workers: engine.workerCount,
      rounds,
      enginePerS,
      manyPerS,
      bundlePerS,
      bareRingPerS,
      ratio: enginePerS / bareRingPerS,
      manyRatio: manyPerS / bareRingPerS,
      bundleRatio: bundlePerS / bareRingPerS,
      bundleRoundRatios,
      roundRatios,
    };
  } finally {
    await ring.close();
    await engine.shutdown();
  }
}
