/**
 * Memory limits.
 *
 * - Shared memory is fixed at start: after the rings and the job table have been filled
 *   to refusal, the arena exhausted and a worker respawned, the engine still owns the
 *   very same buffer of the same size, stats().sharedBytes says how big it is, and the
 *   capacities it reports have not moved. A full engine refuses work; it never grows.
 * - Rapier's wasm memory in each worker, read from inside the worker by the probe.memory
 *   kind (tools/soak-probe.ts), stays flat across thousands of physics jobs.
 *
 * (A worker over its V8 heap limit is reported worker-out-of-memory and respawned:
 * test/engine-faults.test.ts covers that.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineStats, ResultView } from '../engine/api.js';
import { EngineCore } from '../engine/core.js';
import { Outcome, Rejection } from '../engine/outcome.js';
import { builtModuleUrl } from '../engine/paths.js';
import { generateLevel } from '../game/grid.js';
import { RAY_IN_FLOATS } from '../game/kinds.js';
import { PROBE_WASM_BYTES, PROBE_WORKER } from '../tools/soak-probe.js';
import { accountingHolds, pollUntil, rng, seedFromEnv, startEngine } from './fixtures/engine.js';

let engine: EngineCore | null = null;
afterEach(async () => {
  await engine?.shutdown({ timeoutMs: 1000 });
  engine = null;
});

const capacities = (s: EngineStats): number[] => [s.sharedBytes, s.queueCapacity, s.resultCapacity, s.arenaBytes];

describe('shared memory is fixed at start', () => {
  it('the buffer, its size and every capacity are unchanged after filling rings, job table and arena', async () => {
    const e = (engine = await startEngine({ workers: 2, jobCapacity: 256, arenaBytes: 64 * 1024 }));
    const buffer = e.buffer;
    const bytes = buffer.byteLength;
    const before = e.stats();
    // The report says how much shared memory the engine allocated: all of it, once.
    expect(before.sharedBytes).toBe(bytes);
    expect(before.sharedBytes).toBe(e.layout.totalBytes);
    expect((buffer as SharedArrayBuffer & { growable?: boolean }).growable ?? false).toBe(false);

    const BUSY = e.kindId('test.busy');
    const ECHO = e.kindId('test.echo');
    const ARENA = e.kindId('test.arena');
    let done = 0;
    const sink = (r: ResultView): void => {
      if (r.status === Outcome.Done) done++;
    };
    // Occupy both workers, then submit until the engine refuses: it must say ring-full.
    const accepted: number[] = [e.submit(BUSY, [150]), e.submit(BUSY, [150])];
    let refusal = 0;
    for (let i = 0; i < 1000 && refusal === 0; i++) {
      const id = e.submit(ECHO, [i, i]);
      if (id >= 0) accepted.push(id);
      else refusal = id;
    }
    expect(refusal).toBe(Rejection.RingFull);
    expect(accepted.length).toBeLessThanOrEqual(256);
    expect(capacities(e.stats())).toEqual(capacities(before));
    await pollUntil(e, sink, () => e.stats().inFlight === 0);

    // Exhaust the arena: caller slices until none fits, then jobs that need a slice.
    const slices: number[] = [];
    for (let off = e.arenaAlloc(8192); off >= 0; off = e.arenaAlloc(8192)) slices.push(off);
    expect(slices.length).toBe(8);
    expect(e.submit(ARENA, [1, 16])).toBe(Rejection.ArenaFull);
    expect(e.submit(ARENA, [1, 1 << 20])).toBe(Rejection.PayloadTooLarge);
    for (const off of slices) expect(e.arenaFree(off)).toBe(true);
    expect(capacities(e.stats())).toEqual(capacities(before));

    // A respawned worker gets a block of the same buffer, not a new one.
    e.killWorker(0);
    await pollUntil(e, sink, () => e.stats().respawns === 1 && e.health().every((h) => h.state === 'alive'));
    const rand = rng(seedFromEnv());
    const more: number[] = [];
    for (let i = 0; i < 200; i++) more.push(e.submit(ARENA, [i, 1 + Math.floor(rand() * 64)]));
    expect(more.every((id) => id >= 0)).toBe(true);
    await pollUntil(e, sink, () => e.stats().inFlight === 0);

    const after = e.stats();
    expect(e.buffer).toBe(buffer);
    expect(e.buffer.byteLength).toBe(bytes);
    expect(capacities(after)).toEqual(capacities(before));
    expect(after.arenaBytesUsed).toBe(0);
    expect(accountingHolds(e)).toBe(true);
    const report = await e.shutdown({ timeoutMs: 1000 });
    expect(report.stats.sharedBytes).toBe(bytes);
  });
});

describe('Rapier wasm memory per worker', () => {
  it('stays flat across thousands of physics jobs', async () => {
    const grid = generateLevel({ seed: 3, width: 128, height: 128 });
    const e = (engine = await EngineCore.start({
      workers: 2,
      kindModules: [builtModuleUrl(import.meta.url, '../game/kinds.js'), builtModuleUrl(import.meta.url, '../tools/soak-probe.js')],
      shared: { nav: grid.sab },
      arenaBytes: 4 << 20,
    }));
    const PREDICT = e.kindId('physics.predict');
    const RAYS = e.kindId('physics.raycasts');
    const PROBE = e.kindId('probe.memory');
    const rand = rng(seedFromEnv());
    const wasm = [new Map<number, number>(), new Map<number, number>()];
    let phase = 0;
    let outstanding = 0;
    const sink = (r: ResultView): void => {
      outstanding--;
      expect(r.status).toBe(Outcome.Done);
      if (r.kind === PROBE) wasm[phase].set(r.values[PROBE_WORKER], r.values[PROBE_WASM_BYTES]);
    };
    const physics = async (predictions: number, rayBatches: number): Promise<void> => {
      for (let i = 0; i < predictions; i++) {
        const x = 1 + rand() * 126;
        const z = 1 + rand() * 126;
        while (e.submit(PREDICT, [x, 1, z, 20 * (rand() - 0.5), 4, 20 * (rand() - 0.5), 0.3, 60]) < 0) await pollUntil(e, sink, () => outstanding < 64);
        outstanding++;
      }
      for (let b = 0; b < rayBatches; b++) {
        const n = 64;
        const off = e.arenaAlloc(28 * n);
        expect(off).toBeGreaterThanOrEqual(0);
        const f = e.arenaF32;
        for (let r = 0; r < n; r++) {
          const o = (off >> 2) + r * RAY_IN_FLOATS;
          f.set([rand() * 128, 0.5, rand() * 128, rand() * 128, 0.5, rand() * 128], o);
        }
        expect(e.submit(RAYS, [n], 0, { arenaOffset: off, arenaBytes: 28 * n })).toBeGreaterThanOrEqual(0);
        outstanding++;
      }
      await pollUntil(e, sink, () => outstanding === 0);
    };
    const probe = async (): Promise<void> => {
      // Probes go to the least-loaded worker; with a few in flight each worker answers.
      for (let tries = 0; wasm[phase].size < 2 && tries < 50; tries++) {
        for (let i = 0; i < 4; i++) {
          expect(e.submit(PROBE, [])).toBeGreaterThanOrEqual(0);
          outstanding++;
        }
        await pollUntil(e, sink, () => outstanding === 0);
      }
      expect(wasm[phase].size).toBe(2);
    };

    await physics(500, 20); // warm-up: first queries size Rapier's scratch space
    await probe();
    phase = 1;
    await physics(6000, 300);
    await probe();
    for (const w of [0, 1]) {
      expect(wasm[0].get(w)).toBeGreaterThan(0);
      expect(wasm[1].get(w)).toBe(wasm[0].get(w));
    }
    expect(e.stats().respawns).toBe(0);
  });
});
