/**
 * submitMany: many plain jobs of one kind in one call. Every accepted job has its id and
 * exactly one outcome, the batch stops at the first job refused (its code in `ids`), and
 * each bad argument is refused with its code, counted once in the books.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultView } from '../engine/api.js';
import type { EngineCore } from '../engine/core.js';
import { Outcome, Rejection } from '../engine/outcome.js';
import { accountingHolds, pollUntil, rng, seedFromEnv, startEngine } from './fixtures/engine.js';

describe('submitMany on two workers', () => {
  let e: EngineCore;
  beforeAll(async () => {
    e = await startEngine({ workers: 2, arenaBytes: 4096 });
  });
  afterAll(async () => {
    await e.shutdown();
  });

  it('seeded random batches: every job once, with its own parameters and the batch tag', async () => {
    const seed = seedFromEnv();
    try {
      const random = rng(seed);
      const ECHO = e.kindId('test.echo');
      const want = new Map<number, [number, number, number]>();
      const got = new Map<number, number>();
      const sink = (r: ResultView): void => {
        const w = want.get(r.jobId);
        expect(w).toBeDefined();
        expect(got.has(r.jobId)).toBe(false);
        expect(r.status).toBe(Outcome.Done);
        expect([r.values[0], r.values[1], r.values[2]]).toEqual(w);
        got.set(r.jobId, r.worker);
      };
      for (let round = 0; round < 40; round++) {
        const count = Math.floor(random() * 200);
        const tag = Math.floor(random() * 1000) - 500;
        const params = new Float64Array(count * 2);
        for (let j = 0; j < count; j++) {
          params[2 * j] = random() * 1e6;
          params[2 * j + 1] = Math.floor(random() * 2000) - 1000;
        }
        const ids = new Int32Array(count);
        // On a loaded machine the workers may fall behind until admission refuses: the rest
        // of the batch is submitted again once some results are in.
        for (let from = 0; from < count; ) {
          const n = e.submitMany(ECHO, params.subarray(2 * from), count - from, ids.subarray(from), tag);
          const accepted = Math.max(0, n);
          for (let j = from; j < from + accepted; j++) {
            expect(want.has(ids[j])).toBe(false);
            want.set(ids[j], [params[2 * j], params[2 * j + 1], tag]);
          }
          if (accepted < count - from) {
            expect([Rejection.RingFull, Rejection.Overloaded]).toContain(n < 0 ? n : ids[from + accepted]);
            await pollUntil(e, sink, () => e.inFlight < 64);
          }
          from += accepted;
        }
        e.poll(sink);
      }
      await pollUntil(e, sink, () => got.size === want.size);
      expect(new Set(got.values()).size).toBe(2);
      expect(accountingHolds(e)).toBe(true);
    } catch (err) {
      console.error(`submitMany batches failed with TEST_SEED=${seed}`);
      throw err;
    }
  });

  it('a batch in a subclass of Float64Array, at an offset into its buffer, with getters that lie: its own values are run', async () => {
    const ECHO = e.kindId('test.echo');
    class Lying extends Float64Array {
      override get length(): number {
        return 2;
      }
      override get buffer(): ArrayBuffer {
        throw new Error('buffer');
      }
      override get byteOffset(): number {
        return 0;
      }
    }
    const view = Reflect.construct(Float64Array, [new ArrayBuffer(8 * 12), 8 * 4, 8], Lying) as Lying;
    for (let i = 0; i < 8; i++) view[i] = 100 + i;
    const ids = new Int32Array(4);
    expect(e.submitMany(ECHO, view, 4, ids, 7)).toBe(4);
    const got = new Map<number, number[]>();
    await pollUntil(e, (r) => got.set(r.jobId, [r.values[0], r.values[1], r.values[2]]), () => got.size === 4);
    expect([...ids].map((id) => got.get(id))).toEqual([[100, 101, 7], [102, 103, 7], [104, 105, 7], [106, 107, 7]]);
  });

  it('stops at the first job refused: the ones before it run, its code follows their ids', async () => {
    const ECHO = e.kindId('test.echo');
    const before = e.stats();
    // Job 3's i32 parameter is not an integer.
    const params = Float64Array.of(0, 0, 1, 1, 2, 2, 3, 3.5, 4, 4);
    const ids = new Int32Array(5).fill(7);
    expect(e.submitMany(ECHO, params, 5, ids)).toBe(3);
    expect(ids[3]).toBe(Rejection.BadParams);
    expect(ids[4]).toBe(7);
    const seen: number[] = [];
    await pollUntil(e, (r) => seen.push(r.jobId), () => seen.length === 3);
    expect(seen.sort((a, b) => a - b)).toEqual([...ids.subarray(0, 3)].sort((a, b) => a - b));
    const after = e.stats();
    expect(after.submitted - before.submitted).toBe(4);
    expect(after.rejected - before.rejected).toBe(1);
    expect(accountingHolds(e)).toBe(true);
  });

  it('a refused first job returns its code; without ids the count alone tells', async () => {
    const ECHO = e.kindId('test.echo');
    expect(e.submitMany(ECHO, Float64Array.of(Number.NaN, 1, 2, 2), 2)).toBe(Rejection.BadParams);
    expect(e.submitMany(ECHO, Float64Array.of(1, 1, 2, 2_000_000), 2)).toBe(1);
    expect(e.submitMany(ECHO, new Float64Array(0), 0)).toBe(0);
    await pollUntil(e, () => {}, () => e.inFlight === 0);
    expect(accountingHolds(e)).toBe(true);
  });

  it('an arena kind: a job refused for a full arena ends the batch with arena-full', async () => {
    const ARENA = e.kindId('test.arena');
    // 4 KiB of arena and 1 KiB asked per job (with the guard words, fewer than 4 fit).
    const params = new Float64Array(10 * 2);
    for (let j = 0; j < 10; j++) {
      params[2 * j] = j;
      params[2 * j + 1] = 256;
    }
    const ids = new Int32Array(10);
    const n = e.submitMany(ARENA, params, 10, ids);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(10);
    expect(ids[n]).toBe(Rejection.ArenaFull);
    const sums = new Map<number, number>();
    await pollUntil(e, (r) => sums.set(r.jobId, r.values[0]), () => sums.size === n);
    for (let j = 0; j < n; j++) expect(sums.get(ids[j])).toBe(256 * j + (255 * 256) / 2);
    await pollUntil(e, () => {}, () => e.stats().arenaBytesUsed === 0);
    expect(accountingHolds(e)).toBe(true);
  });

  it('every bad argument is refused with its code and counted once', () => {
    const ECHO = e.kindId('test.echo');
    const two = Float64Array.of(1, 2);
    const before = e.stats();
    const cases: [string, () => number, number][] = [
      ['unknown kind', () => e.submitMany(9999, two, 1), Rejection.UnknownKind],
      ['kind not an integer', () => e.submitMany(0.5, two, 1), Rejection.UnknownKind],
      ['params a plain array', () => e.submitMany(ECHO, [1, 2] as unknown as Float64Array, 1), Rejection.BadParams],
      ['params an Int32Array', () => e.submitMany(ECHO, Int32Array.of(1, 2) as unknown as Float64Array, 1), Rejection.BadParams],
      ['params a Proxy of a Float64Array', () => e.submitMany(ECHO, new Proxy(two, {}), 1), Rejection.BadParams],
      ['params null', () => e.submitMany(ECHO, null as unknown as Float64Array, 1), Rejection.BadParams],
      ['too few values', () => e.submitMany(ECHO, two, 2), Rejection.BadParams],
      ['too many values', () => e.submitMany(ECHO, Float64Array.of(1, 2, 3), 1), Rejection.BadParams],
      ['count negative', () => e.submitMany(ECHO, new Float64Array(0), -1), Rejection.BadParams],
      ['count not an integer', () => e.submitMany(ECHO, two, 0.5), Rejection.BadParams],
      ['count NaN', () => e.submitMany(ECHO, two, Number.NaN), Rejection.BadParams],
      ['count a BigInt', () => e.submitMany(ECHO, two, 1n as unknown as number), Rejection.BadParams],
      ['ids too short', () => e.submitMany(ECHO, two, 1, new Int32Array(0)), Rejection.BadParams],
      ['ids a plain array', () => e.submitMany(ECHO, two, 1, [0] as unknown as Int32Array), Rejection.BadParams],
      ['ids a Proxy', () => e.submitMany(ECHO, two, 1, new Proxy(new Int32Array(1), {})), Rejection.BadParams],
      ['tag not an integer', () => e.submitMany(ECHO, two, 1, undefined, 1.5), Rejection.BadParams],
      ['tag a string', () => e.submitMany(ECHO, two, 1, undefined, '1' as unknown as number), Rejection.BadParams],
    ];
    for (const [name, call, want] of cases) expect([name, call()]).toEqual([name, want]);
    // Arrays claiming another length than their own: their own is the one that counts.
    const liar = new Float64Array(4).fill(1);
    Object.defineProperty(liar, 'length', { get: () => 6 });
    expect(e.submitMany(ECHO, liar, 3)).toBe(Rejection.BadParams);
    const shortIds = new Int32Array(1);
    Object.defineProperty(shortIds, 'length', { get: () => 2 });
    expect(e.submitMany(ECHO, Float64Array.of(1, 1, 2, 2), 2, shortIds)).toBe(Rejection.BadParams);
    const after = e.stats();
    expect(after.rejected - before.rejected).toBe(cases.length + 2);
    expect(after.submitted - before.submitted).toBe(cases.length + 2);
  });
});

describe('submitMany and shutdown', () => {
  it('a shutdown begun by a kind\'s arenaBytes mid-batch: the rest are refused shut-down, the accepted one has one outcome', async () => {
    const e = await startEngine({ workers: 1 });
    const MEDDLES = e.kindId('test.arena-bytes-meddles');
    const hook = globalThis as { onArenaBytes?: () => void };
    let stopping: Promise<unknown> | null = null;
    hook.onArenaBytes = () => {
      stopping ??= e.shutdown();
    };
    try {
      const ids = new Int32Array(3);
      expect(e.submitMany(MEDDLES, Float64Array.of(1, 2, 3), 3, ids)).toBe(1);
      expect(ids[1]).toBe(Rejection.ShutDown);
      await stopping;
      const s = e.stats();
      expect(s.inFlight).toBe(0);
      expect(s.completed + s.cancelled + s.failed).toBe(1);
      expect(accountingHolds(e)).toBe(true);
    } finally {
      hook.onArenaBytes = undefined;
    }
  });


  it('is refused shut-down', async () => {
    const e = await startEngine({ workers: 1 });
    const ECHO = e.kindId('test.echo');
    await e.shutdown();
    const before = e.stats();
    expect(e.submitMany(ECHO, Float64Array.of(1, 2), 1)).toBe(Rejection.ShutDown);
    // An empty batch has no job to refuse.
    expect(e.submitMany(ECHO, new Float64Array(0), 0)).toBe(0);
    expect(e.stats().rejected - before.rejected).toBe(1);
  });
});
