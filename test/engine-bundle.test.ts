/**
 * submitBundle: many jobs of one kind under one id and one record. Every job of an
 * accepted bundle has exactly one outcome, delivered on its own and in order; a refused
 * bundle is refused whole, with its code, and counted as its jobs; the callback contract
 * (a throwing callback, poll's max, shutdown) holds job by job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultView } from '../engine/api.js';
import { EngineCore } from '../engine/core.js';
import { defineKind } from '../engine/kind.js';
import { Outcome, Rejection } from '../engine/outcome.js';
import { accountingHolds, codeOf, pollUntil, rng, seedFromEnv, startEngine } from './fixtures/engine.js';
import { checkTrace } from './fixtures/trace-check.js';

/** Waits, without polling, until a result record (a whole bundle's) is in a result ring. */
async function recordIn(e: EngineCore): Promise<void> {
  for (let i = 0; i < 30_000 && e.stats().resultOccupancy === 0; i++) await new Promise((r) => setTimeout(r, 2));
  expect(e.stats().resultOccupancy).toBe(1);
}

interface Seen {
  item: number;
  status: number;
  values: number[];
  reason: string | null;
  message: string | null;
}

/** Records each delivered job by bundle id, in delivery order. */
function recorder(): { seen: Map<number, Seen[]>; sink: (r: ResultView) => void; total: () => number } {
  const seen = new Map<number, Seen[]>();
  let n = 0;
  const sink = (r: ResultView): void => {
    const list = seen.get(r.jobId) ?? [];
    list.push({ item: r.item, status: r.status, values: Array.from(r.values.subarray(0, r.valueCount)), reason: r.error?.reason ?? null, message: r.error?.message ?? null });
    seen.set(r.jobId, list);
    n++;
  };
  return { seen, sink, total: () => n };
}

/** Parameters for test.item: values, a fail flag per job and ms to spin. */
function items(values: readonly number[], failAt: readonly number[] = [], ms = 0): Float64Array {
  const p = new Float64Array(values.length * 3);
  values.forEach((v, j) => {
    p[3 * j] = v;
    p[3 * j + 1] = failAt.includes(j) ? 1 : 0;
    p[3 * j + 2] = ms;
  });
  return p;
}

describe('submitBundle on two workers', () => {
  let e: EngineCore;
  beforeAll(async () => {
    e = await startEngine({ workers: 2 });
  });
  afterAll(async () => {
    await e.shutdown();
  });

  it('seeded random bundles among single jobs: every job once, in order, with its own values', async () => {
    const seed = seedFromEnv();
    try {
      const random = rng(seed);
      const ITEM = e.kindId('test.item');
      const ECHO = e.kindId('test.echo');
      const want = new Map<number, number[]>();
      const singles = new Set<number>();
      const { seen, sink } = recorder();
      let jobs = 0;
      for (let round = 0; round < 60; round++) {
        const count = 1 + Math.floor(random() * 300);
        const values = Array.from({ length: count }, () => Math.floor(random() * 2_000_000) - 1_000_000);
        let id = e.submitBundle(ITEM, items(values), count, round);
        // On a loaded machine admission may refuse until some results are in.
        while (id === Rejection.RingFull || id === Rejection.Overloaded || id === Rejection.ArenaFull) {
          await pollUntil(e, sink, () => e.inFlight < 64);
          id = e.submitBundle(ITEM, items(values), count, round);
        }
        expect(id).toBeGreaterThanOrEqual(0);
        expect(want.has(id)).toBe(false);
        want.set(id, values);
        jobs += count;
        const single = e.submit(ECHO, [round, round]);
        if (single >= 0) singles.add(single);
        e.poll(sink);
      }
      await pollUntil(e, sink, () => [...want].every(([id, v]) => (seen.get(id)?.length ?? 0) === v.length) && [...singles].every((id) => seen.has(id)));
      for (const [id, values] of want) {
        const got = seen.get(id)!;
        expect(got.map((g) => g.item)).toEqual(values.map((_, j) => j));
        expect(got.every((g) => g.status === Outcome.Done)).toBe(true);
        expect(got.map((g) => g.values)).toEqual(values.map((v, j) => [2 * v, j, id]));
      }
      for (const id of singles) expect(seen.get(id)!.length).toBe(1);
      const s = e.stats();
      expect(s.completed).toBe(jobs + singles.size);
      expect(e.inFlight).toBe(0);
      expect(accountingHolds(e)).toBe(true);
    } catch (err) {
      console.error(`submitBundle rounds failed with TEST_SEED=${seed}`);
      throw err;
    }
  });

  it('a job whose handler throws fails alone, with the error; a dependent of the bundle fails dependency-failed', async () => {
    const ITEM = e.kindId('test.item');
    const ECHO = e.kindId('test.echo');
    const before = e.stats();
    const { seen, sink } = recorder();
    const id = e.submitBundle(ITEM, items([1, 2, 3, 4, 5, 6, 7, 8], [2, 5]), 8);
    expect(id).toBeGreaterThanOrEqual(0);
    const dependent = e.submit(ECHO, [1, 1], 0, { after: [id] });
    const clean = e.submitBundle(ITEM, items([9, 10]), 2);
    const afterClean = e.submit(ECHO, [2, 2], 0, { after: [clean] });
    await pollUntil(e, sink, () => seen.has(dependent) && seen.has(afterClean) && seen.get(id)?.length === 8);
    const got = seen.get(id)!;
    expect(got.map((g) => g.status)).toEqual([1, 1, 2, 1, 1, 2, 1, 1].map((s) => (s === 1 ? Outcome.Done : Outcome.Failed)));
    expect(got[2].reason).toBe('threw');
    expect(got[2].message).toContain('item 2 failed');
    expect(got[5].reason).toBe('threw');
    expect(got[3].values).toEqual([8, 3, id]);
    expect(seen.get(dependent)![0]).toMatchObject({ status: Outcome.Failed, reason: 'dependency-failed' });
    expect(seen.get(afterClean)![0].status).toBe(Outcome.Done);
    const s = e.stats();
    expect(s.failed - before.failed).toBe(3);
    expect(s.completed - before.completed).toBe(6 + 2 + 1);
    expect(accountingHolds(e)).toBe(true);
  });

  it('refuses a bad bundle whole, with its code, and counts each of its jobs', () => {
    const ITEM = e.kindId('test.item');
    const ARENA = e.kindId('test.arena');
    const ok = items([1, 2, 3]);
    const cases: [string, () => number, Rejection, number][] = [
      ['a value out of range in one job', () => e.submitBundle(ITEM, items([1, 2_000_000, 3]), 3), Rejection.BadParams, 3],
      ['a NaN in one job', () => e.submitBundle(ITEM, items([1, Number.NaN, 3]), 3), Rejection.BadParams, 3],
      ['a non-integer i32', () => e.submitBundle(ITEM, items([1, 2.5, 3]), 3), Rejection.BadParams, 3],
      ['too few values', () => e.submitBundle(ITEM, ok.subarray(0, 8), 3), Rejection.BadParams, 3],
      ['a plain array', () => e.submitBundle(ITEM, [1, 0, 0] as unknown as Float64Array, 1), Rejection.BadParams, 1],
      ['a Proxy', () => e.submitBundle(ITEM, new Proxy(ok, {}), 3), Rejection.BadParams, 3],
      ['count 0', () => e.submitBundle(ITEM, new Float64Array(0), 0), Rejection.BadParams, 1],
      ['count 1.5', () => e.submitBundle(ITEM, ok, 1.5), Rejection.BadParams, 1],
      ['count past the limit', () => e.submitBundle(ITEM, new Float64Array(3 * 65537), 65537), Rejection.BadParams, 1],
      ['count a BigInt', () => e.submitBundle(ITEM, ok, 3n as unknown as number), Rejection.BadParams, 1],
      ['a tag that is not an int32', () => e.submitBundle(ITEM, ok, 3, 0.5), Rejection.BadParams, 3],
      ['a kind with its own arena slices', () => e.submitBundle(ARENA, new Float64Array([1, 1]), 1), Rejection.BadParams, 1],
      ['an unknown kind', () => e.submitBundle(999, ok, 3), Rejection.UnknownKind, 3],
    ];
    for (const [what, submit, code, jobs] of cases) {
      const before = e.stats();
      expect({ what, code: submit() }).toEqual({ what, code });
      const s = e.stats();
      expect({ what, rejected: s.rejected - before.rejected, submitted: s.submitted - before.submitted }).toEqual({ what, rejected: jobs, submitted: jobs });
    }
    expect(e.inFlight).toBe(0);
    expect(accountingHolds(e)).toBe(true);
  });

  it('reads only the first count * n values of a longer buffer', async () => {
    const ITEM = e.kindId('test.item');
    // Past the bundle's jobs, values no job could take: they are not read.
    const p = items([4, 5, 6, 7_000_000, Number.NaN]);
    const id = e.submitBundle(ITEM, p, 3);
    expect(id).toBeGreaterThanOrEqual(0);
    const { seen, sink } = recorder();
    await pollUntil(e, sink, () => seen.get(id)?.length === 3);
    expect(seen.get(id)!.map((g) => g.values[0])).toEqual([8, 10, 12]);
  });

  it("poll's max and a callback that throws: the rest of the bundle comes with the next polls, each job once", async () => {
    const ITEM = e.kindId('test.item');
    const id = e.submitBundle(ITEM, items(Array.from({ length: 20 }, (_, j) => j)), 20);
    expect(id).toBeGreaterThanOrEqual(0);
    e.flush();
    await recordIn(e);
    const order: number[] = [];
    const before = e.stats();
    // Each job is counted, and leaves flight, as its callback gets it.
    const seen = (): number[] => {
      const s = e.stats();
      return [s.completed - before.completed, e.inFlight];
    };
    const counts: number[][] = [];
    expect(e.poll((r) => {
      order.push(r.item);
      counts.push(seen());
    }, 5)).toBe(5);
    expect(counts).toEqual([[1, 19], [2, 18], [3, 17], [4, 16], [5, 15]]);
    expect(() =>
      e.poll((r) => {
        order.push(r.item);
        if (r.item === 7) throw new Error('game bug');
      }),
    ).toThrow('game bug');
    expect(seen()).toEqual([8, 12]);
    await pollUntil(e, (r) => order.push(r.item), () => order.length === 20);
    expect(order).toEqual(Array.from({ length: 20 }, (_, j) => j));
    expect(e.inFlight).toBe(0);
    expect(e.stats().arenaBytesUsed).toBe(0);
  });

  it('a callback that re-enters poll or runInline mid-bundle gets REENTRANT_CALL; the bundle goes on, each job once', async () => {
    const ITEM = e.kindId('test.item');
    const id = e.submitBundle(ITEM, items([1, 2, 3, 4]), 4);
    expect(id).toBeGreaterThanOrEqual(0);
    const order: number[] = [];
    const codes: (string | undefined)[] = [];
    await pollUntil(e, (r) => {
      order.push(r.item);
      if (r.item === 1) codes.push(codeOf(() => e.poll(() => {})), codeOf(() => e.runInline(id, () => {})));
    }, () => order.length === 4);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(codes).toEqual(['REENTRANT_CALL', 'REENTRANT_CALL']);
    expect(e.inFlight).toBe(0);
  });

  it('runInline refuses a bundle with INVALID_ARGUMENT', async () => {
    const ITEM = e.kindId('test.item');
    const id = e.submitBundle(ITEM, items([1]), 1);
    expect(codeOf(() => e.runInline(id, () => {}))).toBe('INVALID_ARGUMENT');
    const { seen, sink } = recorder();
    await pollUntil(e, sink, () => seen.get(id)?.length === 1);
    expect(seen.get(id)![0].status).toBe(Outcome.Done);
  });

  it('a worker lost under a bundle: every job has one outcome, the same for all', async () => {
    const e2 = await startEngine({ workers: 2 });
    try {
      const ITEM = e2.kindId('test.item');
      const id = e2.submitBundle(ITEM, items(Array.from({ length: 400 }, (_, j) => j), [], 5), 400);
      expect(id).toBeGreaterThanOrEqual(0);
      e2.flush();
      for (let i = 0; i < 5000 && !e2.health().some((h) => h.currentJob === id); i++) await new Promise((r) => setTimeout(r, 2));
      const holder = e2.health().find((h) => h.currentJob === id);
      if (holder !== undefined) e2.killWorker(holder.index);
      const { seen, sink } = recorder();
      await pollUntil(e2, sink, () => seen.get(id)?.length === 400);
      const got = seen.get(id)!;
      expect(got.map((g) => g.item)).toEqual(Array.from({ length: 400 }, (_, j) => j));
      const outcomes = new Set(got.map((g) => `${g.status}:${g.reason}`));
      expect(outcomes.size).toBe(1);
      expect([`${Outcome.Failed}:worker-lost`, `${Outcome.Done}:null`]).toContain([...outcomes][0]);
      expect(e2.inFlight).toBe(0);
      expect(accountingHolds(e2)).toBe(true);
    } finally {
      await e2.shutdown();
    }
  });

  it('with the job timeline on, a bundle is one slice on the worker that ran it, with its flow from submit to delivery', async () => {
    const e2 = await startEngine({ workers: 2, trace: { events: 1 << 12 } });
    try {
      const ITEM = e2.kindId('test.item');
      // A frame boundary first: the main track starts there, and a submit before it is outside the window.
      e2.beginFrame(0);
      const ids = [0, 1, 2, 3].map((b) => e2.submitBundle(ITEM, items(Array.from({ length: 50 }, (_, j) => b * 100 + j), b === 2 ? [7] : []), 50));
      expect(ids.every((id) => id >= 0)).toBe(true);
      const { seen, sink } = recorder();
      // Deliveries a few at a time, so bundles span polls.
      for (let i = 0; i < 20_000 && ids.some((id) => (seen.get(id)?.length ?? 0) < 50); i++) {
        e2.poll(sink, 7);
        await new Promise((r) => setTimeout(r, 0));
      }
      const c = checkTrace(e2.exportTrace());
      expect(c.problems.slice(0, 10)).toEqual([]);
      for (const id of ids) {
        const slices = c.slicesByJob.get(id) ?? [];
        expect(slices.length).toBe(1);
        expect(c.flows.get(id)).toEqual(['s', 't', 'f']);
      }
    } finally {
      await e2.shutdown();
    }
  });

  it('shutdown delivers the rest of a bundle a poll began', async () => {
    const e2 = await startEngine({ workers: 2 });
    const ITEM = e2.kindId('test.item');
    const id = e2.submitBundle(ITEM, items(Array.from({ length: 10 }, (_, j) => j)), 10);
    e2.flush();
    await recordIn(e2);
    const order: number[] = [];
    expect(e2.poll((r) => order.push(r.item), 3)).toBe(3);
    // A bundle's jobs leave flight as the game gets them, as single jobs do.
    expect([e2.stats().completed, e2.inFlight]).toEqual([3, 7]);
    const report = await e2.shutdown({ onResult: (r) => order.push(r.jobId === id ? r.item : -1) });
    expect(order).toEqual(Array.from({ length: 10 }, (_, j) => j));
    expect([report.inFlightAtStart, report.completed]).toEqual([7, 7]);
    expect(report.stats.completed).toBe(10);
    expect(accountingHolds(e2)).toBe(true);
  });
});

describe('submitBundle among faults, seeded', () => {
  interface Model {
    id: number;
    values: number[];
    fails: Set<number>;
    soon: boolean;
    frame: number;
    cancelled: boolean;
    got: { item: number; status: number; reason: string | null; values: number[] }[];
  }

  it('random bundles, cancels, frames, lost workers, polls with limits and callbacks that throw: every job once, outcomes explained, books balanced', async () => {
    const seed = seedFromEnv();
    const e = await startEngine({ workers: 2, maxRespawnsPerMinute: 1_000_000 });
    try {
      const random = rng(seed);
      const ITEM = e.kindId('test.item');
      const SOON = e.kindId('test.item-soon');
      const bundles = new Map<number, Model>();
      let frame = 0;
      let kills = 0;
      let expectedRejected = 0;
      const sink = (r: ResultView): void => {
        const m = bundles.get(r.jobId);
        if (m === undefined) throw new Error(`delivery for unknown id ${r.jobId}`);
        m.got.push({ item: r.item, status: r.status, reason: r.error?.reason ?? null, values: Array.from(r.values.subarray(0, r.valueCount)) });
      };
      const pollSome = (): void => {
        const max = 1 + Math.floor(random() * 60);
        const throwAt = random() < 0.2 ? Math.floor(random() * max) : -1;
        let n = 0;
        try {
          e.poll((r) => {
            sink(r);
            if (n++ === throwAt) throw new Error('game bug');
          }, max);
        } catch (err) {
          if ((err as Error).message !== 'game bug') throw err;
        }
      };
      e.beginFrame(frame);
      for (let step = 0; step < 400; step++) {
        const x = random();
        if (x < 0.35) {
          const count = 1 + Math.floor(random() * 120);
          const values = Array.from({ length: count }, () => Math.floor(random() * 2000) - 1000);
          const fails = new Set<number>();
          if (random() < 0.3) for (let k = 0; k < 3; k++) fails.add(Math.floor(random() * count));
          const soon = random() < 0.3;
          // Now and then a value out of range: the whole bundle is refused.
          const bad = random() < 0.05;
          const p = items(values, [...fails], random() < 0.1 ? 0.2 : 0);
          if (bad) p[3 * Math.floor(random() * count)] = 5_000_000;
          const id = e.submitBundle(soon ? SOON : ITEM, p, count, step);
          if (bad) {
            expect(id).toBe(Rejection.BadParams);
            expectedRejected += count;
          } else if (id >= 0) {
            expect(bundles.has(id)).toBe(false);
            bundles.set(id, { id, values, fails, soon, frame, cancelled: false, got: [] });
          } else {
            expect([Rejection.RingFull, Rejection.Overloaded, Rejection.ArenaFull]).toContain(id);
            expectedRejected += count;
          }
        } else if (x < 0.45) {
          const open = [...bundles.values()].filter((m) => !m.cancelled && m.got.length === 0);
          if (open.length > 0) {
            const m = open[Math.floor(random() * open.length)];
            if (e.cancel(m.id)) m.cancelled = true;
          }
        } else if (x < 0.5) {
          const any = [...bundles.keys()];
          if (any.length > 0) {
            const id = any[Math.floor(random() * any.length)];
            try {
              expect(e.runInline(id, sink)).toBe(false);
            } catch (err) {
              expect((err as { code?: string }).code).toBe('INVALID_ARGUMENT');
            }
          }
        } else if (x < 0.58) {
          e.beginFrame(++frame);
        } else if (x < 0.6) {
          e.killWorker(Math.floor(random() * 2));
          kills++;
        } else {
          pollSome();
        }
        if (step % 20 === 0) await new Promise((r) => setTimeout(r, 0));
      }
      await pollUntil(e, sink, () => [...bundles.values()].every((m) => m.cancelled || m.got.length === m.values.length));
      for (const m of bundles.values()) {
        const what = `bundle ${m.id} of ${m.values.length} (${m.soon ? 'deadline' : 'no deadline'}, frame ${m.frame})`;
        if (m.cancelled) {
          expect(m.got, what).toEqual([]);
          continue;
        }
        expect(m.got.map((g) => g.item), what).toEqual(m.values.map((_, j) => j));
        const first = m.got[0];
        if (first.status === Outcome.Expired) {
          expect(m.soon, what).toBe(true);
          expect(m.got.every((g) => g.status === Outcome.Expired), what).toBe(true);
        } else if (first.status === Outcome.Failed && first.reason === 'worker-lost') {
          expect(kills, what).toBeGreaterThan(0);
          expect(m.got.every((g) => g.reason === 'worker-lost'), what).toBe(true);
        } else {
          m.got.forEach((g, j) => {
            if (m.fails.has(j)) expect({ what, j, status: g.status, reason: g.reason }).toEqual({ what, j, status: Outcome.Failed, reason: 'threw' });
            else expect({ what, j, status: g.status, values: g.values }).toEqual({ what, j, status: Outcome.Done, values: [2 * m.values[j], j, m.id] });
          });
        }
      }
      const s = e.stats();
      const all = [...bundles.values()];
      const items_ = all.flatMap((m) => m.got);
      expect(s.completed).toBe(items_.filter((g) => g.status === Outcome.Done).length);
      expect(s.failed).toBe(items_.filter((g) => g.status === Outcome.Failed).length);
      expect(s.expired).toBe(items_.filter((g) => g.status === Outcome.Expired).length);
      expect(s.cancelled).toBe(all.filter((m) => m.cancelled).reduce((n, m) => n + m.values.length, 0));
      expect(s.rejected).toBe(expectedRejected);
      expect(e.inFlight).toBe(0);
      expect(accountingHolds(e)).toBe(true);
      await pollUntil(e, sink, () => e.stats().arenaBytesUsed === 0);
    } catch (err) {
      console.error(`submitBundle among faults failed with TEST_SEED=${seed}`);
      throw err;
    } finally {
      await e.shutdown();
    }
  });
});

describe('submitBundle on the engine thread (workers: 0)', () => {
  const soon = defineKind({
    name: 'bundle.soon',
    params: [{ name: 'v', type: 'f64' }],
    results: ['v'],
    deadlineFrames: 0,
    run(p, out) {
      out[0] = p[0];
    },
  });

  it('a bundle is cancelled whole before it starts: each job counted cancelled, none delivered', async () => {
    const e = await EngineCore.start({ workers: 0, kinds: [soon] });
    try {
      const K = e.kindId('bundle.soon');
      const id = e.submitBundle(K, new Float64Array([1, 2, 3, 4]), 4);
      expect(e.cancel(id)).toBe(true);
      expect(e.cancel(id)).toBe(false);
      const { total, sink } = recorder();
      e.poll(sink);
      expect(total()).toBe(0);
      const s = e.stats();
      expect([s.submitted, s.cancelled, s.inFlight]).toEqual([4, 4, 0]);
      expect(s.arenaBytesUsed).toBe(0);
    } finally {
      await e.shutdown();
    }
  });

  it('a bundle past its deadline expires whole: each job delivered expired, in order', async () => {
    const e = await EngineCore.start({ workers: 0, kinds: [soon] });
    try {
      const K = e.kindId('bundle.soon');
      e.beginFrame(0);
      const late = e.submitBundle(K, new Float64Array([1, 2, 3]), 3);
      e.beginFrame(1);
      const onTime = e.submitBundle(K, new Float64Array([4, 5]), 2);
      const { seen, sink } = recorder();
      e.poll(sink);
      expect(seen.get(late)!.map((g) => [g.item, g.status])).toEqual([
        [0, Outcome.Expired],
        [1, Outcome.Expired],
        [2, Outcome.Expired],
      ]);
      expect(seen.get(onTime)!.map((g) => g.values)).toEqual([[4], [5]]);
      const s = e.stats();
      expect([s.expired, s.completed, s.inFlight]).toEqual([3, 2, 0]);
      expect(accountingHolds(e)).toBe(true);
    } finally {
      await e.shutdown();
    }
  });

  it('after shutdown a bundle is refused shut-down, counted as its jobs', async () => {
    const e = await EngineCore.start({ workers: 0, kinds: [soon] });
    const K = e.kindId('bundle.soon');
    await e.shutdown();
    expect(e.submitBundle(K, new Float64Array([1, 2]), 2)).toBe(Rejection.ShutDown);
    const s = e.stats();
    expect([s.submitted, s.rejected]).toEqual([2, 2]);
  });
});
