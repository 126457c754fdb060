/**
 * Faults on real worker threads: a worker that exits, one stuck in a loop, one that
 * runs out of memory, and kinds whose init hangs or throws. Each must end in the
 * right outcome with the worker respawned and the books balanced.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineEvent, ResultView, WorkerHost } from '../engine/api.js';
import { nodeHost } from '../engine/host-node.js';
import { EngineCore } from '../engine/core.js';
import { Outcome } from '../engine/outcome.js';
import { accountingHolds, copyResult, fixtureModule, pollUntil, startEngine, type Got } from './fixtures/engine.js';

let engine: EngineCore | null = null;
afterEach(async () => {
  await engine?.shutdown({ timeoutMs: 500 });
  engine = null;
});

const allAlive = (e: EngineCore): boolean => e.health().every((h) => h.state === 'alive');

async function exercise(e: EngineCore, fault: () => number, reason: string): Promise<void> {
  const events: EngineEvent[] = [];
  e.onEvent = (ev) => events.push(ev);
  const ECHO = e.kindId('test.echo');
  const base = e.stats();
  const before: number[] = [];
  for (let i = 0; i < 20; i++) before.push(e.submit(ECHO, [i, i]));
  const faulty = fault();
  expect(faulty).toBeGreaterThanOrEqual(0);
  const after: number[] = [];
  for (let i = 0; i < 200; i++) after.push(e.submit(ECHO, [i, i]));
  const got = new Map<number, Got>();
  const sink = (r: ResultView): void => {
    expect(got.has(r.jobId)).toBe(false);
    got.set(r.jobId, copyResult(r));
  };
  await pollUntil(e, sink, () => got.size === 221);
  expect(got.get(faulty)?.status).toBe(Outcome.Failed);
  expect(got.get(faulty)?.reason).toBe(reason);
  for (const id of [...before, ...after]) expect(got.get(id)?.status).toBe(Outcome.Done);
  await pollUntil(e, sink, () => allAlive(e) && e.stats().respawns >= base.respawns + 1);
  expect(events.some((ev) => ev.type === 'worker-respawned')).toBe(true);
  // The engine takes work again after the fault.
  const again = e.submit(ECHO, [5, 5]);
  await pollUntil(e, sink, () => got.has(again));
  expect(got.get(again)?.status).toBe(Outcome.Done);
  const s = e.stats();
  expect(s.inFlight).toBe(0);
  expect(s.failed - base.failed).toBe(1);
  expect(s.completed - base.completed).toBe(221);
  expect(accountingHolds(e)).toBe(true);
}

describe('worker faults', () => {
  it('a worker that exits: its job fails worker-lost, the worker is respawned', async () => {
    const e = (engine = await startEngine({ workers: 2 }));
    await exercise(e, () => e.submit(e.kindId('test.crash'), [3]), 'worker-lost');
  });

  it('an event listener that polls, submits and kills the other worker from inside worker-exit: every job has one outcome', async () => {
    const e = (engine = await startEngine({ workers: 2 }));
    const ECHO = e.kindId('test.echo');
    const got = new Map<number, Got>();
    const sink = (r: ResultView): void => {
      expect(got.has(r.jobId)).toBe(false);
      got.set(r.jobId, copyResult(r));
    };
    const submitted: number[] = [];
    let exits = 0;
    e.onEvent = (ev) => {
      if (ev.type !== 'worker-exit') return;
      exits++;
      // Inside the engine's handling of the loss, before its jobs are accounted for.
      e.poll(sink);
      for (let i = 0; i < 10; i++) submitted.push(e.submit(ECHO, [i, -i]));
      if (exits === 1) e.killWorker(1 - ev.worker);
      throw new Error('a listener that throws as well');
    };
    for (let i = 0; i < 50; i++) submitted.push(e.submit(ECHO, [i, i]));
    const crash = e.submit(e.kindId('test.crash'), [0]);
    for (let i = 0; i < 50; i++) submitted.push(e.submit(ECHO, [i, 2 * i]));
    await pollUntil(e, sink, () => exits >= 2 && allAlive(e) && e.inFlight === 0);
    const accepted = submitted.filter((id) => id >= 0);
    for (const id of [crash, ...accepted]) expect(got.has(id)).toBe(true);
    expect(got.get(crash)?.status).toBe(Outcome.Failed);
    expect(got.size).toBe(accepted.length + 1);
    const again = e.submit(ECHO, [5, 5]);
    await pollUntil(e, sink, () => got.has(again));
    expect(got.get(again)?.status).toBe(Outcome.Done);
    expect(accountingHolds(e)).toBe(true);
  });

  it('a handler that returns a promise fails its job, on a worker and inline; a promise that rejects later costs no thread', async () => {
    for (const workers of [2, 0]) {
      const e = (engine = await startEngine({ workers }));
      const K = e.kindId('test.returns-promise');
      const ECHO = e.kindId('test.echo');
      const ids = [e.submit(K, [0]), e.submit(K, [1]), e.submit(ECHO, [1, 1]), e.submit(K, [1])];
      expect(Math.min(...ids)).toBeGreaterThanOrEqual(0);
      const got = new Map<number, Got>();
      await pollUntil(e, (r) => got.set(r.jobId, copyResult(r)), () => got.size === 4);
      for (const id of [ids[0], ids[1], ids[3]]) {
        expect(got.get(id)).toMatchObject({ status: Outcome.Failed, reason: 'threw' });
        expect(got.get(id)?.message).toContain('returned a promise');
      }
      expect(got.get(ids[2])?.status).toBe(Outcome.Done);
      // The rejections land after the jobs; the workers are still the ones that ran them.
      await new Promise((r) => setTimeout(r, 50));
      expect(e.stats().respawns).toBe(0);
      const again = e.submit(ECHO, [2, 2]);
      await pollUntil(e, (r) => got.set(r.jobId, copyResult(r)), () => got.has(again));
      expect(got.get(again)?.status).toBe(Outcome.Done);
      expect(accountingHolds(e)).toBe(true);
      await e.shutdown();
      engine = null;
    }
  });

  it('a handler stuck in a loop is detected by its heartbeat, terminated and respawned', async () => {
    const e = (engine = await startEngine({ workers: 2, hangTimeoutMs: 300 }));
    const seen: EngineEvent[] = [];
    const id = e.submit(e.kindId('test.hang'), []);
    const prev = e.onEvent;
    e.onEvent = (ev) => {
      seen.push(ev);
      prev?.(ev);
    };
    const got: Got[] = [];
    await pollUntil(e, (r) => got.push(copyResult(r)), () => got.length === 1);
    expect(got[0]).toMatchObject({ jobId: id, status: Outcome.Failed, reason: 'worker-lost' });
    expect(seen.some((ev) => ev.type === 'worker-hung' && ev.jobId === id)).toBe(true);
    await exercise(e, () => e.submit(e.kindId('test.hang'), []), 'worker-lost');
  });

  it('hangTimeoutMs bounds one job: a worker running many jobs each well under it in one pass is not hung', async () => {
    // 24 jobs of 150 ms queued on one worker: a pass of 3.6 s, each job far inside 2.5 s.
    const e = (engine = await startEngine({ workers: 1, hangTimeoutMs: 2500 }));
    const events: EngineEvent[] = [];
    e.onEvent = (ev) => events.push(ev);
    const BUSY = e.kindId('test.busy');
    const ids: number[] = [];
    for (let i = 0; i < 24; i++) ids.push(e.submit(BUSY, [150]));
    const got = new Map<number, Got>();
    await pollUntil(e, (r) => void got.set(r.jobId, copyResult(r)), () => got.size === ids.length, 100_000);
    expect(events.filter((ev) => ev.type === 'worker-hung')).toEqual([]);
    expect(ids.every((id) => got.get(id)?.status === Outcome.Done)).toBe(true);
    expect(e.health()[0].respawns).toBe(0);
  });

  it('killWorker: the running job fails, queued jobs move to the other worker', async () => {
    // The long job only ends by the kill, however slowly the test gets to it.
    const e = (engine = await startEngine({ workers: 2, hangTimeoutMs: 120_000 }));
    const BUSY = e.kindId('test.busy');
    const ECHO = e.kindId('test.echo');
    const long = e.submit(BUSY, [60_000]);
    const queued: number[] = [];
    for (let i = 0; i < 100; i++) queued.push(e.submit(ECHO, [i, i]));
    const got = new Map<number, Got>();
    const sink = (r: ResultView): void => void got.set(r.jobId, copyResult(r));
    await pollUntil(e, sink, () => e.health().some((h) => h.currentJob === long));
    const victim = e.health().find((h) => h.currentJob === long)!.index;
    e.killWorker(victim);
    await pollUntil(e, sink, () => got.size === 101);
    expect(got.get(long)).toMatchObject({ status: Outcome.Failed, reason: 'worker-lost' });
    expect(queued.every((id) => got.get(id)?.status === Outcome.Done)).toBe(true);
    await pollUntil(e, () => {}, () => allAlive(e));
    expect(e.health()[victim].respawns).toBe(1);
    expect(accountingHolds(e)).toBe(true);
  });

  it('a worker over its memory limit is reported worker-out-of-memory and respawned', async () => {
    // No hang verdict while the job eats memory: on a loaded machine the collector's last
    // efforts near the limit can take longer than the default hangTimeoutMs, and a worker
    // terminated as hung is lost, not out of memory.
    const e = (engine = await startEngine({ workers: 2, hangTimeoutMs: 60_000, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } }));
    const events: EngineEvent[] = [];
    e.onEvent = (ev) => events.push(ev);
    const id = e.submit(e.kindId('test.eat-memory'), []);
    const got: Got[] = [];
    await pollUntil(e, (r) => got.push(copyResult(r)), () => got.length === 1);
    expect(got[0]).toMatchObject({ jobId: id, status: Outcome.Failed, reason: 'worker-out-of-memory' });
    expect(events.some((ev) => ev.type === 'worker-out-of-memory')).toBe(true);
    await pollUntil(e, () => {}, () => allAlive(e));
    expect(accountingHolds(e)).toBe(true);
  });
});

describe('worker init', () => {
  it('an init that never finishes is reported, not waited on forever', async () => {
    const t = EngineCore.start({ workers: 2, initTimeoutMs: 300, kindModules: [fixtureModule('slow-init-kinds')] });
    await expect(t).rejects.toMatchObject({ code: 'WORKER_INIT_TIMEOUT' });
  });

  it('an init that throws carries the worker message', async () => {
    const t = EngineCore.start({ workers: 2, kindModules: [fixtureModule('bad-init-kinds')] });
    await expect(t).rejects.toMatchObject({ code: 'WORKER_INIT_FAILED', message: expect.stringContaining('cannot load navigation data') });
  });
});

/**
 * A custom host (EngineOptions.host) whose terminate misbehaves: the engine asks it to stop
 * a thread and the thread really stops, but the promise never settles, the call throws, or
 * the promise rejects. Recovery and shutdown must not depend on that answer.
 */
describe('a host whose terminate misbehaves', () => {
  const answers: ReadonlyArray<readonly [string, () => Promise<void>]> = [
    ['never settles', () => new Promise<void>(() => {})],
    [
      'throws',
      () => {
        throw new Error('host terminate broke');
      },
    ],
    ['rejects', () => Promise.reject(new Error('host terminate broke'))],
  ];

  const hostAnswering = (answer: () => Promise<void>): WorkerHost => ({
    name: 'node',
    spawn: (source, init, cb, limits) => {
      const real = nodeHost.spawn(source, init, cb, limits);
      return {
        terminate: () => {
          void real.terminate();
          return answer();
        },
      };
    },
  });

  /** Submits a job that runs for a minute and waits until a worker has it; returns its id and that worker. */
  async function longJob(e: EngineCore): Promise<{ id: number; worker: number }> {
    const id = e.submit(e.kindId('test.busy'), [60_000]);
    expect(id).toBeGreaterThanOrEqual(0);
    await pollUntil(e, () => {}, () => e.health().some((h) => h.currentJob === id));
    return { id, worker: e.health().find((h) => h.currentJob === id)!.index };
  }

  for (const [name, answer] of answers) {
    it(`${name}: a killed worker is still replaced, and shutdown ends with every job accounted`, async () => {
      const e = (engine = await startEngine({ workers: 2, hangTimeoutMs: 120_000, host: hostAnswering(answer) }));
      const ECHO = e.kindId('test.echo');
      const got = new Map<number, Got>();
      const sink = (r: ResultView): void => {
        expect(got.has(r.jobId)).toBe(false);
        got.set(r.jobId, copyResult(r));
      };
      const killed = await longJob(e);
      e.killWorker(killed.worker);
      await pollUntil(e, sink, () => got.has(killed.id) && allAlive(e) && e.stats().respawns === 1);
      expect(got.get(killed.id)).toMatchObject({ status: Outcome.Failed, reason: 'worker-lost' });
      const echoes = Array.from({ length: 20 }, (_, i) => e.submit(ECHO, [i, i]));
      await pollUntil(e, sink, () => echoes.every((id) => got.has(id)));
      for (const id of echoes) expect(got.get(id)?.status).toBe(Outcome.Done);
      // A job still running at shutdown keeps its worker from leaving by itself: only the
      // host's terminate ends that thread.
      const stuck = await longJob(e);
      engine = null;
      const report = await e.shutdown({ timeoutMs: 100, onResult: sink });
      expect(got.get(stuck.id)).toMatchObject({ status: Outcome.Failed, reason: 'shutdown' });
      expect(got.size).toBe(22);
      expect(report.stats.inFlight).toBe(0);
      expect(accountingHolds(e)).toBe(true);
    });
  }
});
