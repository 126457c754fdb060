/**
 * Worker thread priorities on Linux: workerNice for frame jobs, the lowest priority for
 * background-lane jobs where the thread may come back up, and with workerNice 0 (a
 * process with no game loop: a sweep, a remote worker) no lowering at all, so its
 * background work does not crawl behind every other busy process on the machine. And
 * batchThreads: the workers (respawned ones too) in SCHED_BATCH, the engine's own
 * thread left in SCHED_OTHER.
 */
import { spawnSync } from 'node:child_process';
import { getPriority } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineCore } from '../engine/core.js';
import { fixtureModule, pollUntil, startEngine } from './fixtures/engine.js';
import { threadPolicy } from './fixtures/nice-kinds.js';

const SCHED_OTHER = 0;
const SCHED_BATCH = 3;
/** Whether util-linux's chrt runs here: without it batchThreads leaves every policy alone. */
const hasChrt = spawnSync('chrt', ['--version']).status === 0;

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

  /** The policy a frame job ran under. */
  async function policy(e: EngineCore): Promise<number> {
    const id = e.submit(e.kindId('test.policy'), []);
    expect(id).toBeGreaterThanOrEqual(0);
    let got = -1;
    await pollUntil(e, (r) => (got = r.jobId === id ? r.values[0] : got), () => got >= 0);
    return got;
  }

  it('batchThreads (default): workers run in SCHED_BATCH, respawned ones too; the engine\'s thread stays SCHED_OTHER', async () => {
    const e = (engine = await startEngine({ workers: 2, kindModules: [fixtureModule('nice-kinds')] }));
    expect(e.stats().threadsBatched).toBe(hasChrt);
    expect(threadPolicy()).toBe(SCHED_OTHER);
    if (!hasChrt) {
      expect(await policy(e)).toBe(SCHED_OTHER);
      return;
    }
    for (let i = 0; i < 4; i++) expect(await policy(e)).toBe(SCHED_BATCH);
    const respawned = new Promise<void>((resolve) => {
      e.onEvent = (ev) => {
        if (ev.type === 'worker-respawned') resolve();
      };
    });
    e.killWorker(0);
    e.killWorker(1);
    await respawned;
    // The respawned thread is put in SCHED_BATCH a moment after it is up.
    let seen = -1;
    for (let i = 0; i < 500 && seen !== SCHED_BATCH; i++) seen = await policy(e);
    expect(seen).toBe(SCHED_BATCH);
    expect(threadPolicy()).toBe(SCHED_OTHER);
  });

  it('batchThreads false: workers keep the policy of the thread that started them', async () => {
    const e = (engine = await startEngine({ workers: 1, batchThreads: false, kindModules: [fixtureModule('nice-kinds')] }));
    expect(e.stats().threadsBatched).toBe(false);
    expect(await policy(e)).toBe(SCHED_OTHER);
  });
});
