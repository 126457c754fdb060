/**
 * engine.whenResults(): waiting for a result without polling in a loop. Real workers, a
 * latch kind that holds a job on its worker until the test opens it, so what is waiting
 * when is decided by the test, not by timing; every job exactly once.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ResultView } from '../engine/api.js';
import { EngineCore } from '../engine/core.js';
import { EngineError } from '../engine/errors.js';
import { Outcome } from '../engine/outcome.js';
import { accountingHolds, fixtureKinds, fixtureModule, rng, seedFromEnv } from './fixtures/engine.js';

const engines: EngineCore[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.shutdown({ timeoutMs: 2000 }).catch(() => {});
});

async function latchEngine(workers: number): Promise<{ e: EngineCore; latch: Int32Array }> {
  const shared = new SharedArrayBuffer(12);
  const e = await EngineCore.start({ workers, heartbeatMs: 20, hangTimeoutMs: 60_000, kindModules: [fixtureKinds, fixtureModule('latch-kinds')], shared: { latch: shared } });
  engines.push(e);
  return { e, latch: new Int32Array(shared) };
}

/** Waits (without polling the engine) until at least `n` latch jobs hold a worker. */
async function untilHeld(latch: Int32Array, n: number): Promise<void> {
  for (let i = 0; i < 10_000 && Atomics.load(latch, 1) < n; i++) await new Promise((r) => setTimeout(r, 1));
  expect(Atomics.load(latch, 1)).toBeGreaterThanOrEqual(n);
}

function open(latch: Int32Array): void {
  Atomics.store(latch, 0, 1);
  Atomics.notify(latch, 0);
}

describe('whenResults', () => {
  it('waits while the jobs run, and resolves true once a worker publishes a result', async () => {
    const { e, latch } = await latchEngine(2);
    const LATCH = e.kindId('test.latch');
    const ids = [e.submit(LATCH, []), e.submit(LATCH, [])];
    expect(ids.every((id) => id >= 0)).toBe(true);
    // Each holds a worker, or both went to one: the first holds it, the second waits behind it.
    await untilHeld(latch, 1);
    // Every job is held or queued: nothing can be waiting, so a short wait times out.
    expect(await e.whenResults(20)).toBe(false);
    const woken = e.whenResults(60_000);
    open(latch);
    expect(await woken).toBe(true);
    const seen = new Map<number, number>();
    const sink = (r: ResultView): void => {
      expect(r.status).toBe(Outcome.Done);
      seen.set(r.jobId, (seen.get(r.jobId) ?? 0) + 1);
    };
    while (seen.size < 2) {
      e.poll(sink);
      if (seen.size < 2) expect(await e.whenResults(60_000)).toBe(true);
    }
    expect([...seen.keys()].sort()).toEqual([...ids].sort());
    expect([...seen.values()]).toEqual([1, 1]);
    expect(accountingHolds(e)).toBe(true);
  });

  it('resolves true at once while a result is waiting, and false at once with nothing in flight', async () => {
    const { e, latch } = await latchEngine(2);
    open(latch);
    expect(await e.whenResults(60_000)).toBe(false);
    const NOOP = e.kindId('noop');
    const id = e.submit(NOOP, [2, 3]);
    expect(await e.whenResults(60_000)).toBe(true);
    // Not polled yet: still waiting, so the next wait needs no new result.
    expect(await e.whenResults(60_000)).toBe(true);
    const got: number[] = [];
    expect(e.poll((r) => got.push(r.jobId, r.values[0]))).toBe(1);
    expect(got).toEqual([id, 5]);
    expect(await e.whenResults(60_000)).toBe(false);
  });

  it('takes every job of a seeded random stream with no poll loop, each exactly once', async () => {
    const seed = seedFromEnv();
    const rand = rng(seed);
    const e = await EngineCore.start({ workers: 2 });
    engines.push(e);
    const NOOP = e.kindId('noop');
    const expected = new Map<number, number>();
    const seen = new Map<number, number>();
    const sink = (r: ResultView): void => {
      seen.set(r.jobId, (seen.get(r.jobId) ?? 0) + 1);
      expect(r.values[0]).toBe(expected.get(r.jobId));
    };
    try {
      for (let round = 0; round < 200; round++) {
        const n = 1 + Math.floor(rand() * 20);
        for (let i = 0; i < n; i++) {
          const a = Math.floor(rand() * 1000);
          const id = e.submit(NOOP, [a, round]);
          expect(id).toBeGreaterThanOrEqual(0);
          expected.set(id, a + round);
        }
        while (e.inFlight > 0) {
          expect(await e.whenResults(60_000)).toBe(true);
          e.poll(sink);
        }
      }
      expect(seen.size).toBe(expected.size);
      expect([...seen.values()].every((c) => c === 1)).toBe(true);
      expect(accountingHolds(e)).toBe(true);
    } catch (err) {
      console.error(`whenResults stream failed with seed ${seed} (FRAMEJOBS_SEED=${seed} to repeat)`);
      throw err;
    }
  });

  it('is woken by a failure decided on the main thread: a worker killed under its job', async () => {
    const { e, latch } = await latchEngine(2);
    const LATCH = e.kindId('test.latch');
    const id = e.submit(LATCH, []);
    await untilHeld(latch, 1);
    const woken = e.whenResults(60_000);
    const holder = e.health().findIndex((h) => h.currentJob === id);
    expect(holder).toBeGreaterThanOrEqual(0);
    e.killWorker(holder);
    expect(await woken).toBe(true);
    const got: ResultView[] = [];
    for (let i = 0; i < 100 && got.length === 0; i++) {
      e.poll((r) => got.push({ ...r, error: r.error }));
      if (got.length === 0) await e.whenResults(60_000);
    }
    expect(got.length).toBe(1);
    expect(got[0]!.jobId).toBe(id);
    expect(got[0]!.status).toBe(Outcome.Failed);
    expect(got[0]!.error?.reason).toBe('worker-lost');
    open(latch);
  });

  it('on an engine without workers resolves true while jobs wait for the poll that runs them', async () => {
    const e = await EngineCore.start({ workers: 0 });
    engines.push(e);
    const id = e.submit(e.kindId('noop'), [1, 1]);
    expect(await e.whenResults(60_000)).toBe(true);
    const got: number[] = [];
    e.poll((r) => got.push(r.jobId));
    expect(got).toEqual([id]);
    expect(await e.whenResults(60_000)).toBe(false);
  });

  it('works where the platform has no Atomics.waitAsync, by looking every millisecond', async () => {
    const saved = Object.getOwnPropertyDescriptor(Atomics, 'waitAsync');
    // A fresh copy of the engine's modules, loaded while waitAsync is missing.
    delete (Atomics as { waitAsync?: unknown }).waitAsync;
    vi.resetModules();
    try {
      const fresh = (await import('../engine/core.js')) as typeof import('../engine/core.js');
      const shared = new SharedArrayBuffer(12);
      const latch = new Int32Array(shared);
      const e = await fresh.EngineCore.start({ workers: 2, heartbeatMs: 20, hangTimeoutMs: 60_000, kindModules: [fixtureKinds, fixtureModule('latch-kinds')], shared: { latch: shared } });
      engines.push(e as unknown as EngineCore);
      const id = e.submit(e.kindId('test.latch'), []);
      await untilHeld(latch, 1);
      expect(await e.whenResults(10)).toBe(false);
      const woken = e.whenResults(60_000);
      open(latch);
      expect(await woken).toBe(true);
      const got: number[] = [];
      e.poll((r) => got.push(r.jobId));
      expect(got).toEqual([id]);
      const runs = await Promise.all([e.run('noop', [1, 2]), e.run('noop', [3, 4])]);
      expect(runs.map((r) => r.values[0])).toEqual([3, 7]);
    } finally {
      if (saved !== undefined) Object.defineProperty(Atomics, 'waitAsync', saved);
      vi.resetModules();
    }
  });

  it('may be called from inside a poll callback: the poll goes on, each job is delivered once', async () => {
    const e = await EngineCore.start({ workers: 2 });
    engines.push(e);
    const NOOP = e.kindId('noop');
    const ids = new Set<number>();
    for (let i = 0; i < 50; i++) ids.add(e.submit(NOOP, [i, 1]));
    const seen: number[] = [];
    const waits: Promise<boolean>[] = [];
    while (seen.length < 50) {
      e.poll((r) => {
        seen.push(r.jobId);
        waits.push(e.whenResults(60_000));
      });
      if (seen.length < 50) await e.whenResults(60_000);
    }
    expect(new Set(seen)).toEqual(ids);
    expect(seen.length).toBe(50);
    // Each resolves: true while more were waiting or came, false once nothing was in flight.
    expect((await Promise.all(waits)).length).toBe(50);
    expect(accountingHolds(e)).toBe(true);
  });

  it('after shutdown resolves false at once', async () => {
    const e = await EngineCore.start({ workers: 2 });
    await e.shutdown();
    expect(await e.whenResults(60_000)).toBe(false);
  });

  it.each([
    ['NaN', Number.NaN],
    ['a negative number', -1],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a string', '5'],
    ['a BigInt', 5n],
    ['null', null],
  ])('refuses %s as the timeout with INVALID_ARGUMENT', async (_name, bad) => {
    const e = await EngineCore.start({ workers: 1 });
    engines.push(e);
    const err = await e.whenResults(bad as number).then(
      () => null,
      (x: unknown) => x,
    );
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('INVALID_ARGUMENT');
  });
});
