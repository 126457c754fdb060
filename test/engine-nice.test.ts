/**
 * Worker thread priorities on Linux: workerNice for frame jobs, the lowest priority for
 * background-lane jobs where the thread may come back up, and with workerNice 0 (a
 * process with no game loop: a sweep, a remote worker) no lowering at all, so its
 * background work does not crawl behind every other busy process on the machine.
 */
import { getPriority } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineCore } from '../engine/core.js';
import { fixtureModule, pollUntil, startEngine } from './fixtures/engine.js';

describe.runIf(process.platform === 'linux')('worker thread priority', () => {
  let engine: EngineCore | null = null;
  afterEach(async () => {
    await engine?.shutdown({ timeoutMs: 1000 });
    engine = null;
  });

  /** The niceness a frame job and a background job ran at, in that order. */
  async function niceness(workerNice: number): Promise<[number, number]> {
    const e = (engine = await startEngine({ workers: 1, workerNice, kindModules: [fixtureModule('nice-kinds')] }));
    const NICE = e.kindId('test.nice');
    const frame = e.submit(NICE, []);
    const background = e.submit(NICE, [], 0, { lane: 'background' });
    expect(frame).toBeGreaterThanOrEqual(0);
    expect(background).toBeGreaterThanOrEqual(0);
    const got = new Map<number, number>();
    await pollUntil(e, (r) => got.set(r.jobId, r.values[0]), () => got.size === 2);
    return [got.get(frame)!, got.get(background)!];
  }

  it('workerNice 0: frame and background jobs both keep the process priority', async () => {
    const base = getPriority();
    expect(await niceness(0)).toEqual([base, base]);
  });

  it('workerNice 10: frame jobs at 10 above the process, background jobs no higher than that', async () => {
    const base = getPriority();
    const [frame, background] = await niceness(10);
    expect(frame).toBe(Math.min(19, base + 10));
    // 19 where the thread may raise its priority again afterwards; otherwise it stays at workerNice.
    expect([frame, 19]).toContain(background);
  });
});
