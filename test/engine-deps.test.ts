/**
 * Dependencies and lanes: a job waits for its prerequisites (chains, fan-in, fan-out,
 * combine), fails `dependency-failed` without running when one does not end done, reads a
 * prerequisite's arena result in place; background work never takes the last worker
 * frame work needs. Real workers; every job exactly once; the books balance throughout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ResultView } from '../engine/api.js';
import { EngineCore } from '../engine/core.js';
import { Outcome, Rejection } from '../engine/outcome.js';
import { accountingHolds, fixtureKinds, fixtureModule, pollUntil, rng, seedFromEnv, startEngine } from './fixtures/engine.js';

const engines: EngineCore[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.shutdown({ timeoutMs: 2000 }).catch(() => {});
});
async function engine(workers = 2): Promise<EngineCore> {
  const e = await startEngine({ workers, hangTimeoutMs: 10_000 });
  engines.push(e);
  return e;
}

/**
 * An engine with the latch kinds (fixtures/latch-kinds.ts) and its latch words: [0] opens
 * the latch, [1] latch jobs holding a worker now, [2] the most that ever did at once.
 */
async function latchEngine(workers: number): Promise<{ e: EngineCore; words: Int32Array }> {
  const latch = new SharedArrayBuffer(12);
  const e = await EngineCore.start({ workers, heartbeatMs: 20, hangTimeoutMs: 30_000, kindModules: [fixtureKinds, fixtureModule('latch-kinds')], shared: { latch } });
  engines.push(e);
  return { e, words: new Int32Array(latch) };
}

/** Polls until at least `n` latch jobs hold a worker (or about 5 s pass). */
async function untilHeld(e: EngineCore, words: Int32Array, n: number, sink: (r: ResultView) => void): Promise<void> {
  for (let i = 0; i < 5000 && Atomics.load(words, 1) < n; i++) {
    e.poll(sink);
    await new Promise((r) => setTimeout(r, 1));
  }
}

function openLatch(words: Int32Array): void {
  Atomics.store(words, 0, 1);
  Atomics.notify(words, 0);
}

interface Seen {
  status: number;
  reason: string | null;
  values: number[];
  order: number;
}
class Log {
  readonly byId = new Map<number, Seen>();
  readonly twice: number[] = [];
  private n = 0;
  sink = (r: ResultView): void => {
    if (this.byId.has(r.jobId)) this.twice.push(r.jobId);
    this.byId.set(r.jobId, { status: r.status, reason: r.error?.reason ?? null, values: Array.from(r.values.subarray(0, r.valueCount)), order: this.n++ });
  };
  get(id: number): Seen {
    const s = this.byId.get(id);
    if (s === undefined) throw new Error(`job ${id} has no outcome`);
    return s;
  }
}

describe('dependencies', () => {
  it('a chain runs in order; each link starts only after the one before ended', async () => {
    const e = await engine();
    const ECHO = e.kindId('test.echo');
    const log = new Log();
    const ids: number[] = [];
    for (let i = 0; i < 30; i++) ids.push(e.submit(ECHO, [i, i], i, i === 0 ? undefined : { after: ids[i - 1] }));
    expect(ids.every((id) => id >= 0)).toBe(true);
    await pollUntil(e, log.sink, () => log.byId.size === ids.length);
    for (let i = 1; i < ids.length; i++) expect(log.get(ids[i]).order).toBeGreaterThan(log.get(ids[i - 1]).order);
    expect(log.twice).toEqual([]);
    expect(accountingHolds(e)).toBe(true);
  });

  it('fan-out and fan-in, with combine: seeded random graphs, every job once and after all its prerequisites', async () => {
    const seed = seedFromEnv();
    const random = rng(seed);
    const e = await engine();
    const ECHO = e.kindId('test.echo');
    const BUSY = e.kindId('test.busy');
    for (let round = 0; round < 5; round++) {
      const log = new Log();
      const ids: number[] = [];
      const prereqs = new Map<number, number[]>();
      for (let i = 0; i < 60; i++) {
        const k = ids.length === 0 ? 0 : Math.floor(random() * 4);
        const pre = Array.from({ length: k }, () => ids[Math.floor(random() * ids.length)]);
        // Unique prerequisites still pending: a delivered job cannot be named.
        const live = [...new Set(pre)].filter((p) => !log.byId.has(p));
        let id: number;
        if (live.length > 1 && random() < 0.3) {
          const handle = e.combine(live);
          expect(handle, `seed ${seed}`).toBeGreaterThanOrEqual(0);
          prereqs.set(handle, live);
          ids.push(handle);
          id = e.submit(ECHO, [i, i], i, { after: handle });
          prereqs.set(id, [handle]);
        } else {
          id = random() < 0.2 ? e.submit(BUSY, [random() * 2], i, { after: live }) : e.submit(ECHO, [i, i], i, { after: live });
          prereqs.set(id, live);
        }
        expect(id, `seed ${seed}`).toBeGreaterThanOrEqual(0);
        ids.push(id);
        if (random() < 0.2) e.poll(log.sink);
      }
      await pollUntil(e, log.sink, () => ids.every((id) => log.byId.has(id)));
      expect(log.twice, `seed ${seed}`).toEqual([]);
      for (const [id, pre] of prereqs) {
        expect(log.get(id).status, `seed ${seed}`).toBe(Outcome.Done);
        for (const p of pre) expect(log.get(id).order, `seed ${seed}: job ${id} before its prerequisite ${p}`).toBeGreaterThan(log.get(p).order);
      }
    }
    expect(accountingHolds(e)).toBe(true);
  });

  it('a prerequisite that fails, expires or is cancelled fails its dependents (and theirs) without running them', async () => {
    const e = await engine();
    const ECHO = e.kindId('test.echo');
    const THROW = e.kindId('test.throw');
    const BUSY = e.kindId('test.busy');
    const log = new Log();
    // Fails: the handler throws.
    const thrower = e.submit(THROW, [1]);
    const d1 = e.submit(ECHO, [1, 1], 0, { after: thrower });
    const d2 = e.submit(ECHO, [2, 2], 0, { after: [d1] });
    // Expires: deadline 0, then the frame moves on before the workers get to it.
    e.beginFrame(1);
    // Both workers busy for 2 s: `late` waits in a ring until the frame below has passed.
    const blockers = [e.submit(BUSY, [2000]), e.submit(BUSY, [2000])];
    const late = e.submit(ECHO, [3, 3], 0, { deadlineFrames: 0 });
    const d3 = e.submit(ECHO, [4, 4], 0, { after: [late, blockers[0]] });
    e.beginFrame(5);
    // Cancelled: a waiting job is cancelled before its prerequisite ends.
    const slow = e.submit(BUSY, [20]);
    const waiting = e.submit(ECHO, [5, 5], 0, { after: slow });
    const d4 = e.submit(ECHO, [6, 6], 0, { after: waiting });
    expect(e.cancel(waiting)).toBe(true);
    await pollUntil(e, log.sink, () => [thrower, d1, d2, late, d3, slow, d4, ...blockers].every((id) => log.byId.has(id)));
    expect(log.get(thrower).reason).toBe('threw');
    expect(log.get(d1).reason).toBe('dependency-failed');
    expect(log.get(d2).reason).toBe('dependency-failed');
    expect(log.get(late).status).toBe(Outcome.Expired);
    expect(log.get(d3).reason).toBe('dependency-failed');
    expect(log.get(slow).status).toBe(Outcome.Done);
    expect(log.byId.has(waiting)).toBe(false);
    expect(log.get(d4).reason).toBe('dependency-failed');
    // Dependents that failed never ran: they carry no values.
    for (const id of [d1, d2, d3, d4]) expect(log.get(id).values).toEqual([]);
    expect(log.twice).toEqual([]);
    expect(e.inFlight).toBe(0);
    expect(accountingHolds(e)).toBe(true);
  });

  it('a worker killed while a prerequisite runs: the prerequisite fails worker-lost and its dependents dependency-failed', async () => {
    const e = await engine();
    const BUSY = e.kindId('test.busy');
    const ECHO = e.kindId('test.echo');
    const pre = e.submit(BUSY, [3000]);
    const deps = Array.from({ length: 5 }, (_, i) => e.submit(ECHO, [i, i], 0, { after: pre }));
    e.flush();
    for (let i = 0; i < 2000 && !e.health().some((h) => h.currentJob === pre); i++) await new Promise((r) => setTimeout(r, 2));
    const w = e.health().find((h) => h.currentJob === pre)!.index;
    e.killWorker(w);
    const log = new Log();
    await pollUntil(e, log.sink, () => log.byId.size === 6);
    expect(log.get(pre).reason).toBe('worker-lost');
    for (const id of deps) expect(log.get(id).reason).toBe('dependency-failed');
    expect(accountingHolds(e)).toBe(true);
  });

  it('a dependent reads its prerequisite arena result in place, and the slice lives until the dependent ends', async () => {
    const e = await engine();
    const ARENA = e.kindId('test.arena');
    const SUM = e.kindId('test.sum-input');
    const log = new Log();
    const pairs: [number, number][] = [];
    for (let i = 0; i < 20; i++) {
      const writer = e.submit(ARENA, [i * 10, 16]);
      const off = e.arenaOffsetOf(writer);
      expect(off).toBeGreaterThanOrEqual(0);
      // The reader names the writer's slice as its own payload: no copy.
      const reader = e.submit(SUM, [16], 0, { after: writer, arenaOffset: off, arenaBytes: 64 });
      pairs.push([writer, reader]);
    }
    await pollUntil(e, log.sink, () => log.byId.size === 40);
    for (const [writer, reader] of pairs) expect(log.get(reader).values).toEqual(log.get(writer).values);
    expect(e.stats().arenaBytesUsed).toBe(0);
    expect(accountingHolds(e)).toBe(true);
  });

  for (const end of ['finishes', 'is killed'] as const) {
    it(`a prerequisite run inline while its worker still runs it: dependents wait until that worker ${end}, then read what was delivered`, async () => {
      const { e, words } = await latchEngine(2);
      const WRITER = e.kindId('test.latch-arena');
      const SUM = e.kindId('test.sum-input');
      const log = new Log();
      const writer = e.submit(WRITER, [16]);
      const off = e.arenaOffsetOf(writer);
      const before = e.submit(SUM, [16], 0, { after: writer, arenaOffset: off, arenaBytes: 64 });
      await untilHeld(e, words, 1, log.sink);
      expect(Atomics.load(words, 1)).toBe(1);
      // The twin writes 0..15 (sum 120); the worker, held, would write 1000..1015.
      const inline: number[] = [];
      expect(e.runInline(writer, (r) => inline.push(r.values[0]))).toBe(true);
      expect(inline).toEqual([120]);
      // Named after the outcome was delivered, while the worker still runs the job.
      const after = e.submit(SUM, [16], 0, { after: writer, arenaOffset: off, arenaBytes: 64 });
      expect(after).toBeGreaterThanOrEqual(0);
      for (let i = 0; i < 50; i++) {
        e.poll(log.sink);
        await new Promise((r) => setTimeout(r, 1));
      }
      // Neither dependent has run: the worker may still write the slice they read.
      expect(log.byId.has(before)).toBe(false);
      expect(log.byId.has(after)).toBe(false);
      if (end === 'finishes') {
        openLatch(words);
      } else {
        const holder = e.health().find((h) => h.currentJob === writer);
        expect(holder).toBeDefined();
        e.killWorker(holder!.index);
      }
      await pollUntil(e, log.sink, () => log.byId.has(before) && log.byId.has(after));
      // Both read the delivered (inline) result, never the worker's.
      expect(log.get(before).values).toEqual([120]);
      expect(log.get(after).values).toEqual([120]);
      expect(log.byId.has(writer)).toBe(false); // its one outcome went to runInline's callback
      expect(log.twice).toEqual([]);
      expect(e.stats().arenaBytesUsed).toBe(0);
      expect(accountingHolds(e)).toBe(true);
      openLatch(words);
    });
  }

  it('bad prerequisites are refused with bad-params and leak nothing', async () => {
    const e = await engine(0);
    const ECHO = e.kindId('test.echo');
    const done = e.submit(ECHO, [1, 1]);
    e.poll(() => {});
    const live = e.submit(ECHO, [2, 2]);
    const bad: unknown[] = [done, -1, 2.5, 10n, Symbol('x'), null, 'a', [live, done], Array.from({ length: 9 }, () => live), { length: 2 ** 40 }];
    for (const after of bad) expect(e.submit(ECHO, [1, 1], 0, { after: after as never })).toBe(Rejection.BadParams);
    e.poll(() => {});
    expect(e.inFlight).toBe(0);
    expect(accountingHolds(e)).toBe(true);
  });

  it('jobs with dependencies give the same results with 0, 1, 2 and 4 workers', async () => {
    const results: string[] = [];
    for (const workers of [0, 1, 2, 4]) {
      const e = await engine(workers);
      const ECHO = e.kindId('test.echo');
      const log = new Log();
      const ids: number[] = [];
      for (let i = 0; i < 40; i++) ids.push(e.submit(ECHO, [i, i % 7], i, i < 4 ? undefined : { after: [ids[i - 4], ids[i - 3]] }));
      await pollUntil(e, log.sink, () => log.byId.size === ids.length);
      results.push(JSON.stringify(ids.map((id) => log.get(id).values)));
    }
    expect(new Set(results).size).toBe(1);
  });
});

describe('lanes', () => {
  it('background work never takes the last worker: frame jobs complete while every background job is held', async () => {
    const { e, words } = await latchEngine(3);
    const LATCH = e.kindId('test.latch');
    const ECHO = e.kindId('test.echo');
    const bg = Array.from({ length: 12 }, () => e.submit(LATCH, [], 0, { lane: 'background' }));
    expect(bg.every((id) => id >= 0)).toBe(true);
    const log = new Log();
    // Wait until background work holds its two workers.
    await untilHeld(e, words, 2, log.sink);
    expect(Atomics.load(words, 1)).toBe(2);
    const frame = Array.from({ length: 200 }, (_, i) => e.submit(ECHO, [i, i]));
    expect(frame.every((id) => id >= 0)).toBe(true);
    await pollUntil(e, log.sink, () => frame.every((id) => log.byId.has(id)));
    // Every frame job is done and no background job has ended: the latch is still closed.
    expect(bg.some((id) => log.byId.has(id))).toBe(false);
    openLatch(words);
    await pollUntil(e, log.sink, () => bg.every((id) => log.byId.has(id)));
    expect(Atomics.load(words, 2)).toBe(2); // never more than backgroundWorkers (workers - 1) at once
    expect(log.twice).toEqual([]);
    expect(accountingHolds(e)).toBe(true);
  });

  it('a background parallel-for job spreads its chunks over backgroundWorkers workers only: frame jobs still complete', async () => {
    const { e, words } = await latchEngine(3);
    const LATCH = e.kindId('test.latch');
    const ECHO = e.kindId('test.echo');
    // 12 chunks of one item each: helpers for every worker, were they allowed.
    const job = e.parallelFor(LATCH, [], 12, 1, 0, { lane: 'background' });
    expect(job).toBeGreaterThanOrEqual(0);
    // Which workers got a helper record is decided at submit (a helper that arrives before
    // the first one has opened the range leaves, so how many hold chunks is up to timing).
    const table = (e as unknown as { jobs: { slotOf(id: number): number; rangeMask: ArrayLike<number> } }).jobs;
    const mask = table.rangeMask[table.slotOf(job)];
    expect(mask.toString(2).replace(/0/g, '').length).toBe(2);
    const log = new Log();
    await untilHeld(e, words, 1, log.sink);
    expect(Atomics.load(words, 1)).toBeGreaterThanOrEqual(1);
    const frame = Array.from({ length: 100 }, (_, i) => e.submit(ECHO, [i, i]));
    expect(frame.every((id) => id >= 0)).toBe(true);
    await pollUntil(e, log.sink, () => frame.every((id) => log.byId.has(id)));
    expect(log.byId.has(job)).toBe(false);
    openLatch(words);
    await pollUntil(e, log.sink, () => log.byId.has(job));
    expect(log.get(job).status).toBe(Outcome.Done);
    expect(Atomics.load(words, 2)).toBeLessThanOrEqual(2); // chunks never ran on more than backgroundWorkers (workers - 1) at once
    expect(log.twice).toEqual([]);
    expect(accountingHolds(e)).toBe(true);
  });

  it('a background job can be cancelled or run inline while it waits, and shutdown cancels the rest', async () => {
    const { e, words } = await latchEngine(2);
    const LATCH = e.kindId('test.latch');
    const ECHO = e.kindId('test.echo');
    const holder = e.submit(LATCH, [], 0, { lane: 'background' });
    await untilHeld(e, words, 1, () => {});
    const waiting = Array.from({ length: 5 }, (_, i) => e.submit(ECHO, [i, i], 0, { lane: 'background' }));
    e.poll(() => {});
    expect(e.cancel(waiting[0])).toBe(true);
    const inline: number[] = [];
    expect(e.runInline(waiting[1], (r) => inline.push(r.values[0]))).toBe(true);
    expect(inline).toEqual([1]);
    openLatch(words);
    const seen = new Map<number, number>();
    const report = await e.shutdown({ timeoutMs: 5000, onResult: (r) => seen.set(r.jobId, r.status) });
    expect(seen.get(holder)).toBe(Outcome.Done);
    expect(e.inFlight).toBe(0);
    expect(report.stats.submitted).toBe(report.stats.completed + report.stats.failed + report.stats.rejected + report.stats.expired + report.stats.cancelled);
    expect(e.submit(ECHO, [1, 1], 0, { lane: 'sideways' as never })).toBe(Rejection.ShutDown);
  });

  it('an unknown lane is bad-params', async () => {
    const e = await engine(0);
    expect(e.submit(e.kindId('test.echo'), [1, 1], 0, { lane: 'sideways' as never })).toBe(Rejection.BadParams);
  });
});
