/**
 * Parallel-for: one job over [0, count) in chunks claimed dynamically by the workers. The
 * chunks cover the range exactly once, the output is the same with 0, 1, 2 and 4 workers,
 * the job has one outcome (failed if a chunk threw), and a worker killed mid-range fails
 * the job worker-lost without losing or duplicating anything.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ResultView } from '../engine/api.js';
import type { EngineCore } from '../engine/core.js';
import { MAX_RANGE } from '../engine/layout.js';
import { Outcome, Rejection } from '../engine/outcome.js';
import type { WorkerLink } from '../engine/worker-link.js';
import { accountingHolds, fixtureKinds, fixtureModule, pollUntil, rng, seedFromEnv, startEngine } from './fixtures/engine.js';

const engines: EngineCore[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.shutdown({ timeoutMs: 2000 }).catch(() => {});
});
async function engine(workers: number): Promise<EngineCore> {
  const e = await startEngine({ workers, hangTimeoutMs: 10_000 });
  engines.push(e);
  return e;
}
const expected = (seed: number, i: number): number => Math.sqrt(seed + i) * 3 + i;

interface Got {
  status: number;
  reason: string | null;
  message: string;
  output: number[];
  times: number;
}

async function rangeJob(e: EngineCore, seed: number, count: number, grain: number, failAt = -1, usPerItem = 0): Promise<Got> {
  const RANGE = e.kindId('test.range');
  const id = e.parallelFor(RANGE, [seed, count, failAt, usPerItem], count, grain);
  expect(id).toBeGreaterThanOrEqual(0);
  const got: Got = { status: 0, reason: null, message: '', output: [], times: 0 };
  await pollUntil(e, (r: ResultView) => {
    expect(r.jobId).toBe(id);
    got.times++;
    got.status = r.status;
    got.reason = r.error?.reason ?? null;
    got.message = r.error?.message ?? '';
    const base = r.arenaOffset >> 3;
    got.output = Array.from(e.arenaF64.subarray(base, base + count));
  }, () => got.times > 0);
  return got;
}

describe('parallel-for', () => {
  it('covers the range exactly once and gives the same output with 0, 1, 2 and 4 workers', async () => {
    const seed = seedFromEnv() % 1000;
    const outputs: string[] = [];
    for (const workers of [0, 1, 2, 4]) {
      const e = await engine(workers);
      for (const [count, grain] of [[1000, 7], [64, 64], [5, 1], [100_000, 1000], [0, 1]] as const) {
        const got = await rangeJob(e, seed, count, grain);
        expect(got.times, `seed ${seed}`).toBe(1);
        expect(got.status, `seed ${seed}`).toBe(Outcome.Done);
        expect(got.output.every((v, i) => v === expected(seed, i)), `seed ${seed}: ${count} items, grain ${grain}`).toBe(true);
        outputs[workers] = (outputs[workers] ?? '') + got.output.length;
      }
      expect(accountingHolds(e)).toBe(true);
      expect(e.inFlight).toBe(0);
      expect(e.stats().arenaBytesUsed).toBe(0);
    }
    expect(new Set(outputs.filter(Boolean)).size).toBe(1);
  });

  it('seeded random ranges interleaved with plain jobs: every job exactly once, books balanced', async () => {
    const seed = seedFromEnv();
    const random = rng(seed);
    const e = await engine(2);
    const RANGE = e.kindId('test.range');
    const ECHO = e.kindId('test.echo');
    const want = new Map<number, { count: number; seed: number }>();
    const seen = new Map<number, number>();
    const bad: string[] = [];
    const check = (r: ResultView): void => {
      seen.set(r.jobId, (seen.get(r.jobId) ?? 0) + 1);
      const w = want.get(r.jobId);
      if (w === undefined || r.status !== Outcome.Done) return void bad.push(`job ${r.jobId}: status ${r.status}`);
      if (w.count >= 0) {
        const base = r.arenaOffset >> 3;
        for (let i = 0; i < w.count; i++) if (e.arenaF64[base + i] !== expected(w.seed, i)) return void bad.push(`job ${r.jobId}: item ${i}`);
      }
    };
    for (let i = 0; i < 60; i++) {
      if (random() < 0.5) {
        const count = Math.floor(random() * 3000);
        const s = Math.floor(random() * 100);
        const id = e.parallelFor(RANGE, [s, count, -1, 0], count, 1 + Math.floor(random() * 200));
        if (id >= 0) want.set(id, { count, seed: s });
      } else {
        const id = e.submit(ECHO, [i, i]);
        if (id >= 0) want.set(id, { count: -1, seed: i });
      }
      if (random() < 0.3) e.poll(check);
    }
    await pollUntil(e, check, () => [...want.keys()].every((id) => seen.has(id)));
    expect(bad, `seed ${seed}`).toEqual([]);
    expect([...seen.values()].every((n) => n === 1), `seed ${seed}`).toBe(true);
    expect(accountingHolds(e)).toBe(true);
  });

  it('a chunk that throws fails the whole job once, with the chunk error', async () => {
    for (const workers of [2, 0]) {
      const e = await engine(workers);
      const got = await rangeJob(e, 1, 5000, 50, 4321);
      expect(got.times).toBe(1);
      expect(got.status).toBe(Outcome.Failed);
      expect(got.reason).toBe('threw');
      expect(got.message).toContain('item 4321 failed');
      expect(accountingHolds(e)).toBe(true);
    }
  });

  it('a worker killed mid-range: the job fails worker-lost exactly once and the engine goes on', async () => {
    const e = await engine(2);
    const RANGE = e.kindId('test.range');
    // About 20 s of chunks of 8 ms: the kill lands mid-range however late the test is.
    const id = e.parallelFor(RANGE, [3, 20_000, -1, 2000], 20_000, 4);
    e.flush();
    for (let i = 0; i < 5000 && !e.health().some((h) => h.currentJob === id); i++) await new Promise((r) => setTimeout(r, 2));
    const holder = e.health().find((h) => h.currentJob === id)!.index;
    e.killWorker(holder);
    const seen: { status: number; reason: string | null; worker?: number; errorWorker?: number }[] = [];
    await pollUntil(e, (r) => seen.push({ status: r.status, reason: r.error?.reason ?? null, worker: r.worker, errorWorker: r.error?.workerIndex ?? -9 }), () => seen.length > 0);
    // Reported against the worker whose loss failed it, as a plain job is.
    expect(seen).toEqual([{ status: Outcome.Failed, reason: 'worker-lost', worker: holder, errorWorker: holder }]);
    // Nothing more for it, and the engine runs the next range in full.
    const after = await rangeJob(e, 9, 2000, 10);
    expect(after.status).toBe(Outcome.Done);
    expect(after.output.every((v, i) => v === expected(9, i))).toBe(true);
    await pollUntil(e, () => seen.push({ status: -1, reason: 'extra' }), () => e.stats().arenaBytesUsed === 0);
    expect(seen.length).toBe(1);
    expect(accountingHolds(e)).toBe(true);
  });

  it('a worker gone for good: a parallel-for job queued only on it fails worker-lost, once', async () => {
    const e = await startEngine({ workers: 1, heartbeatMs: 20, maxRespawnsPerMinute: 0 });
    engines.push(e);
    const BUSY = e.kindId('test.busy');
    const RANGE = e.kindId('test.range');
    const busy = e.submit(BUSY, [5000]);
    const range = e.parallelFor(RANGE, [1, 64, -1, 0], 64, 4);
    expect(busy).toBeGreaterThanOrEqual(0);
    expect(range).toBeGreaterThanOrEqual(0);
    e.flush();
    for (let i = 0; i < 5000 && !e.health().some((h) => h.currentJob === busy); i++) await new Promise((r) => setTimeout(r, 2));
    e.killWorker(0);
    const seen = new Map<number, { reason: string | null; worker: number; n: number }>();
    await pollUntil(e, (r) => {
      const was = seen.get(r.jobId);
      seen.set(r.jobId, { reason: r.error?.reason ?? null, worker: r.worker, n: (was?.n ?? 0) + 1 });
    }, () => seen.size === 2);
    expect(seen.get(busy)).toEqual({ reason: 'worker-lost', worker: 0, n: 1 });
    expect(seen.get(range)).toEqual({ reason: 'worker-lost', worker: 0, n: 1 });
    expect(e.submit(RANGE, [1, 1, -1, 0])).toBe(Rejection.NoWorkers);
    expect(e.inFlight).toBe(0);
    expect(accountingHolds(e)).toBe(true);
  });

  it('a worker lost while a parallel-for job is queued on it and on another: the job runs once and no worker stays charged with it', async () => {
    // Both workers are held inside latch jobs, so the range job's helper records wait
    // queued on both. The lost worker's record is not moved onto a worker that holds one
    // of the same job already: that worker's helper opens the range anyway.
    const latch = new SharedArrayBuffer(12);
    const words = new Int32Array(latch);
    const e = await startEngine({ workers: 2, hangTimeoutMs: 60_000, kindModules: [fixtureKinds, fixtureModule('latch-kinds')], shared: { latch } });
    engines.push(e);
    const LATCH = e.kindId('test.latch');
    const RANGE = e.kindId('test.range');
    const held = [e.submit(LATCH, []), e.submit(LATCH, [])];
    expect(Math.min(...held)).toBeGreaterThanOrEqual(0);
    e.flush();
    for (let i = 0; i < 5000 && Atomics.load(words, 1) < 2; i++) await new Promise((r) => setTimeout(r, 2));
    expect(Atomics.load(words, 1)).toBe(2);
    const range = e.parallelFor(RANGE, [4, 64, -1, 0], 64, 4);
    expect(range).toBeGreaterThanOrEqual(0);
    e.flush();
    e.killWorker(0);
    const seen = new Map<number, { status: number; times: number; output: number[] }>();
    const sink = (r: ResultView): void => {
      const was = seen.get(r.jobId);
      const base = r.arenaOffset >> 3;
      const output = r.jobId === range && r.status === Outcome.Done ? Array.from(e.arenaF64.subarray(base, base + 64)) : [];
      seen.set(r.jobId, { status: r.status, times: (was?.times ?? 0) + 1, output });
    };
    // The lost worker's latch job fails when its loss is handled, which is when its queue moves.
    await pollUntil(e, sink, () => seen.size > 0);
    expect([...seen.values()].map((g) => g.status)).toEqual([Outcome.Failed]);
    Atomics.store(words, 0, 1);
    Atomics.notify(words, 0);
    await pollUntil(e, sink, () => seen.size === 3 && e.stats().arenaBytesUsed === 0);
    expect([...seen.values()].map((g) => g.times)).toEqual([1, 1, 1]);
    const got = seen.get(range)!;
    expect(got.status).toBe(Outcome.Done);
    expect(got.output.every((v, i) => v === expected(4, i))).toBe(true);
    const workers = (e as unknown as { workers: readonly WorkerLink[] }).workers;
    expect(workers.map((w) => [w.inflight, w.background, w.unmeasured])).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(accountingHolds(e)).toBe(true);
  });

  it('cancel before it starts, runInline (the deterministic fallback) and bad ranges', async () => {
    const e = await engine(1);
    const RANGE = e.kindId('test.range');
    const BUSY = e.kindId('test.busy');
    e.submit(BUSY, [2000]); // holds the one worker: the jobs below stay queued
    const cancelled = e.parallelFor(RANGE, [1, 100, -1, 0], 100, 10);
    expect(e.cancel(cancelled)).toBe(true);
    const inline = e.parallelFor(RANGE, [2, 500, -1, 0], 500, 10);
    const out: number[] = [];
    expect(e.runInline(inline, (r) => out.push(...e.arenaF64.subarray(r.arenaOffset >> 3, (r.arenaOffset >> 3) + 500)))).toBe(true);
    expect(out.every((v, i) => v === expected(2, i))).toBe(true);
    expect(out.length).toBe(500);
    for (const [count, grain] of [[-1, 1], [MAX_RANGE + 1, 1], [1.5, 1], [10, -1], [10, 0.5], [Number.NaN, 1]] as const) {
      expect(e.parallelFor(RANGE, [1, 10, -1, 0], count, grain)).toBe(Rejection.BadParams);
    }
    await pollUntil(e, () => {}, () => e.inFlight === 0);
    expect(accountingHolds(e)).toBe(true);
  });
});
