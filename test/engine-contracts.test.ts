/**
 * Start, shutdown and deadline contracts: kind init failures on the engine's own thread,
 * a hung handler during shutdown, workers that used up their respawns, deadlines checked
 * per job, ids of another engine.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ResultView } from '../engine/api.js';
import { runBatch } from '../engine/batch.js';
import { EngineCore } from '../engine/core.js';
import { Outcome, Rejection } from '../engine/outcome.js';
import { accountingHolds, fixtureKinds, fixtureModule, pollUntil, resultsIn, startEngine } from './fixtures/engine.js';

const engines: EngineCore[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.shutdown({ timeoutMs: 1000 }).catch(() => {});
});
const keep = (e: EngineCore): EngineCore => {
  engines.push(e);
  return e;
};

describe('kind init on the engine thread', () => {
  it('an init that throws rejects start with WORKER_INIT_FAILED naming the kind', async () => {
    const start = EngineCore.start({ workers: 0, kindModules: [fixtureModule('main-init-kinds')], config: { mainInit: 'throw' } });
    await expect(start).rejects.toMatchObject({ code: 'WORKER_INIT_FAILED', message: expect.stringContaining('test.main-init') });
  });

  it('an init that never settles rejects start with WORKER_INIT_TIMEOUT after initTimeoutMs', async () => {
    const start = EngineCore.start({ workers: 0, initTimeoutMs: 200, kindModules: [fixtureModule('main-init-kinds')], config: { mainInit: 'hang' } });
    await expect(start).rejects.toMatchObject({ code: 'WORKER_INIT_TIMEOUT' });
  });
});

describe('shutdown with a hung handler', () => {
  it('shutdown({ timeoutMs: Infinity }) still resolves: the watchdog retires the hung worker', async () => {
    const e = await startEngine({ workers: 2, hangTimeoutMs: 200 });
    const HANG = e.kindId('test.hang');
    const ECHO = e.kindId('test.echo');
    const hung = e.submit(HANG, []);
    const ok = e.submit(ECHO, [1, 2]);
    e.flush();
    // Wait until a worker is inside the hanging job.
    for (let i = 0; i < 2000 && !e.health().some((h) => h.currentJob === hung); i++) await new Promise((r) => setTimeout(r, 2));
    const seen = new Map<number, string | null>();
    const report = await e.shutdown({ timeoutMs: Infinity, onResult: (r) => seen.set(r.jobId, r.error?.reason ?? 'done') });
    expect(report.timedOut).toBe(false);
    expect(seen.get(hung)).toBe('shutdown');
    expect(seen.get(ok)).toBe('done');
    expect(e.inFlight).toBe(0);
    expect(accountingHolds(e)).toBe(true);
  });
});

describe('workers that used up their respawns', () => {
  it('queued jobs fail worker-lost at once instead of waiting for shutdown', async () => {
    // The 2 s job must end by the kill below, never by a hang verdict on a slow machine.
    const e = keep(await startEngine({ workers: 1, maxRespawnsPerMinute: 0, hangTimeoutMs: 60_000 }));
    const BUSY = e.kindId('test.busy');
    const ECHO = e.kindId('test.echo');
    const running = e.submit(BUSY, [2000]);
    e.flush();
    for (let i = 0; i < 2000 && !e.health().some((h) => h.currentJob === running); i++) await new Promise((r) => setTimeout(r, 2));
    const queued = Array.from({ length: 5 }, (_, i) => e.submit(ECHO, [i, i]));
    expect(queued.every((id) => id >= 0)).toBe(true);
    e.killWorker(0);
    const reasons = new Map<number, string | null>();
    await pollUntil(e, (r) => reasons.set(r.jobId, r.error?.reason ?? null), () => reasons.size === 6);
    for (const id of [running, ...queued]) expect(reasons.get(id)).toBe('worker-lost');
    expect(e.inFlight).toBe(0);
    expect(e.health()[0].state).toBe('dead');
    // Nothing will ever run a job now: a refusal that says so, not one that invites a retry.
    expect(e.submit(ECHO, [1, 1])).toBe(Rejection.NoWorkers);
    expect(e.submit(ECHO, [1, 1], 0, { deadlineFrames: 5 })).toBe(Rejection.NoWorkers);
    // A batch on such an engine ends (every task lost), instead of retrying for ever.
    const batchReasons: (string | null)[] = [];
    const report = await runBatch(e, { kind: 'test.echo', count: 5, params: (i, _s, out) => out.set([i, i]), onResult: (_i, r) => batchReasons.push(r.reason) });
    expect(report).toMatchObject({ total: 5, done: 0, failed: 5 });
    expect(batchReasons).toEqual(['worker-lost', 'worker-lost', 'worker-lost', 'worker-lost', 'worker-lost']);
    expect(accountingHolds(e)).toBe(true);
  });
});

describe('runInline on a job a worker has', () => {
  interface Seen {
    status: number;
    worker: number;
    n: number;
  }
  const recorder = (got: Map<number, Seen>) => (r: ResultView): void => {
    got.set(r.jobId, { status: r.status, worker: r.worker, n: (got.get(r.jobId)?.n ?? 0) + 1 });
  };

  it('running: a twin runs on this thread, and the worker\'s own result is dropped', async () => {
    const latch = new SharedArrayBuffer(12);
    const words = new Int32Array(latch);
    const e = keep(await EngineCore.start({ workers: 1, heartbeatMs: 20, hangTimeoutMs: 60_000, kindModules: [fixtureKinds, fixtureModule('latch-kinds')], shared: { latch } }));
    const held = e.submit(e.kindId('test.latch'), []);
    e.flush();
    for (let i = 0; i < 30_000 && Atomics.load(words, 1) < 1; i++) await new Promise((r) => setTimeout(r, 1));
    expect(Atomics.load(words, 1)).toBe(1); // the worker is inside the job
    const got = new Map<number, Seen>();
    const sink = recorder(got);
    expect(e.runInline(held, sink)).toBe(true);
    expect(got.get(held)).toEqual({ status: Outcome.Done, worker: -1, n: 1 });
    expect(e.runInline(held, sink)).toBe(false);
    Atomics.store(words, 0, 1);
    Atomics.notify(words, 0);
    await pollUntil(e, sink, () => e.stats().workers[0].queued === 0 && Atomics.load(words, 1) === 0);
    for (let i = 0; i < 20; i++) e.poll(sink);
    expect(got.get(held)?.n).toBe(1);
    expect(e.stats().completed).toBe(1);
    expect(accountingHolds(e)).toBe(true);
  });

  it('ended on its worker, result not yet polled: false, and poll delivers the worker\'s result once', async () => {
    const e = keep(await startEngine({ workers: 1 }));
    const ECHO = e.kindId('test.echo');
    const ids = [e.submit(ECHO, [1, 2], 3), e.submit(ECHO, [4, 5], 6)];
    e.flush();
    await resultsIn(e);
    const got = new Map<number, Seen>();
    const sink = recorder(got);
    for (const id of ids) expect(e.runInline(id, sink)).toBe(false);
    expect(got.size).toBe(0);
    e.poll(sink);
    for (const id of ids) expect(got.get(id)).toEqual({ status: Outcome.Done, worker: 0, n: 1 });
    expect(e.inFlight).toBe(0);
    expect(accountingHolds(e)).toBe(true);
  });
});

describe('deadlines', () => {
  it('a job whose deadline frame passed while it waited behind another job is expired, not run', async () => {
    const latch = new SharedArrayBuffer(12);
    const e = keep(await EngineCore.start({ workers: 1, heartbeatMs: 20, hangTimeoutMs: 60_000, kindModules: [fixtureKinds, fixtureModule('latch-kinds')], shared: { latch } }));
    const LATCH = e.kindId('test.latch');
    const ECHO = e.kindId('test.echo');
    const statuses: number[] = [];
    e.beginFrame(10);
    const holder = e.submit(LATCH, []);
    const late = e.submit(ECHO, [1, 2], 0, { deadlineFrames: 0 });
    e.flush();
    for (let i = 0; i < 2000 && !e.health().some((h) => h.currentJob === holder); i++) await new Promise((r) => setTimeout(r, 2));
    // Both records are in the worker's current batch; the frame moves on before it reaches the second.
    e.beginFrame(14);
    Atomics.store(new Int32Array(latch), 0, 1);
    Atomics.notify(new Int32Array(latch), 0);
    const byId = new Map<number, number>();
    await pollUntil(e, (r: ResultView) => {
      byId.set(r.jobId, r.status);
      statuses.push(r.status);
    }, () => byId.size === 2);
    expect(byId.get(holder)).toBe(Outcome.Done);
    expect(byId.get(late)).toBe(Outcome.Expired);
    expect(accountingHolds(e)).toBe(true);
  });
});

describe('ids of another engine', () => {
  it('cancel, runInline and poll never act on a job of another engine', async () => {
    const a = keep(await startEngine({ workers: 0 }));
    const b = keep(await startEngine({ workers: 0 }));
    const A_ECHO = a.kindId('test.echo');
    const B_ECHO = b.kindId('test.echo');
    for (let round = 0; round < 50; round++) {
      const ida = a.submit(A_ECHO, [round, 0]);
      const idb = b.submit(B_ECHO, [round, 1]);
      expect(a.cancel(idb)).toBe(false);
      expect(a.runInline(idb, () => {})).toBe(false);
      expect(b.cancel(ida)).toBe(false);
      const got: number[] = [];
      a.poll((r) => got.push(r.jobId));
      b.poll((r) => got.push(r.jobId));
      expect(got.sort()).toEqual([ida, idb].sort());
    }
    expect(accountingHolds(a) && accountingHolds(b)).toBe(true);
  });
});
