/**
 * The hot path does not allocate: after warm-up, runs of submit + poll leave the main
 * thread's heap where it was. Each window is measured with garbage collection forced
 * before it and none during it (a window is far smaller than the young generation);
 * the least of several windows is taken, so a stray allocation elsewhere in the
 * process cannot fail the test, while a per-job allocation shows in every window.
 *
 * The one allowance is the clock: on Node 20 performance.now() returns a new heap
 * number (16 bytes) per call. Submit reads it once per 32 jobs; a job run inline
 * (workers: 0) reads it once per job, so the inline bound is one clock reading.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineCore } from '../engine/core.js';
import { startEngine } from './fixtures/engine.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let engine: EngineCore | null = null;
afterEach(async () => {
  await engine?.shutdown();
  engine = null;
});

function bytesPerJob(e: EngineCore, jobs: number): number {
  const NOOP = e.kindId('noop');
  const ECHO = e.kindId('test.echo');
  const p = new Float64Array(2);
  let done = 0;
  // A typed array, not a captured `let`: a double held in a closure is re-boxed on every add.
  const sum = new Float64Array(1);
  const sink = (r: { values: Float64Array }): void => {
    done++;
    sum[0] += r.values[0];
  };
  const run = (n: number): void => {
    let s = 0;
    const target = done + n;
    while (s < n) {
      for (let b = 0; b < 256 && s < n; b++) {
        p[0] = s;
        p[1] = s & 1023;
        if (e.submit(s & 1 ? NOOP : ECHO, p, s & 0xffff) < 0) break;
        s++;
      }
      e.poll(sink);
    }
    while (done < target) e.poll(sink);
  };
  run(100_000);
  let least = Infinity;
  for (let w = 0; w < 5; w++) {
    gc();
    const before = process.memoryUsage().heapUsed;
    run(jobs);
    const after = process.memoryUsage().heapUsed;
    least = Math.min(least, (after - before) / jobs);
  }
  expect(sum[0]).toBeGreaterThan(0);
  return least;
}

describe('hot path allocation', () => {
  it('inline: submit, run and poll allocate no more than one clock reading per job', async () => {
    engine = await startEngine({ workers: 0 });
    expect(bytesPerJob(engine, 20_000)).toBeLessThanOrEqual(17);
  });

  it('two workers: submit and poll allocate nothing per job on the main thread', async () => {
    engine = await startEngine({ workers: 2 });
    // One clock reading per 32 submits is half a byte per job; anything made per job
    // (the smallest heap object is 12 bytes) would be far above this bound.
    expect(bytesPerJob(engine, 20_000)).toBeLessThan(2);
  });
});
