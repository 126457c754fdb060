/**
 * The rings under real threads: seeded random interleavings of submit, poll (with
 * random limits) and cancel, on small rings so the run goes around them many times.
 * A sequence verifier checks that every job ends exactly once with the right result,
 * and canaries around the shared structures check nothing wrote outside its region.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineCore } from '../engine/core.js';
import { HEADER_BYTES, WB_HISTOGRAM, HIST_BUCKETS, WB_ERRORS, W_SLEEPING } from '../engine/layout.js';
import { Outcome, Rejection } from '../engine/outcome.js';
import { sleep } from '../game/time.js';
import { accountingHolds, rng, seedFromEnv, startEngine } from './fixtures/engine.js';

let engine: EngineCore | null = null;
afterEach(async () => {
  await engine?.shutdown({ timeoutMs: 500 });
  engine = null;
});

const CANARY = 0x5a5aa5a5 | 0;

/** Fills the unused words of the header and of each worker block's padding with a canary. */
function plantCanaries(e: EngineCore): () => number {
  const i32 = new Int32Array(e.buffer);
  const spots: number[] = [];
  for (let w = 32; w < HEADER_BYTES / 4; w++) spots.push(w);
  for (let k = 0; k < Math.max(1, e.workerCount); k++) {
    const base = (e.layout.workersOffset + k * e.layout.workerBlockBytes) / 4;
    // The padding after the histogram, but for the sleeping flag's word (its own line).
    for (let b = (WB_HISTOGRAM + HIST_BUCKETS * 4) / 4; b < WB_ERRORS / 4; b++) if (b !== W_SLEEPING) spots.push(base + b);
    // The words between each head/tail pair's own word and the next line.
    for (const line of [64, 128, 192, 256]) for (let b = 1; b < 16; b++) spots.push(base + line / 4 + b);
  }
  for (const s of spots) i32[s] = CANARY;
  return () => spots.filter((s) => i32[s] !== CANARY).length;
}

describe('job and result rings on real threads', () => {
  for (const workers of [2, 4]) {
    it(`delivers every job exactly once over many laps (${workers} workers)`, async () => {
      const seed = seedFromEnv();
      try {
        const rand = rng(seed);
        engine = await startEngine({ workers, jobCapacity: 64, ringCapacity: 16, arenaBytes: 1 << 16 });
        const e = engine;
        const broken = plantCanaries(e);
        const ECHO = e.kindId('test.echo');
        const ARENA = e.kindId('test.arena');
        const total = 20_000;
        const expected = new Map<number, number>(); // job id -> expected a
        const arenaJobs = new Map<number, number>(); // job id -> expected sum
        const seen = new Set<number>();
        let duplicates = 0;
        let wrong = 0;
        let cancelled = 0;
        const params = new Float64Array(2);
        const sink = (r: import('../engine/api.js').ResultView): void => {
          if (seen.has(r.jobId)) duplicates++;
          seen.add(r.jobId);
          if (r.status !== Outcome.Done) {
            wrong++;
            return;
          }
          const want = expected.get(r.jobId);
          if (want !== undefined) {
            if (r.values[0] !== want || r.values[1] !== (want % 1000) || r.tag !== (want & 0xffff)) wrong++;
          } else {
            const sum = arenaJobs.get(r.jobId);
            let check = 0;
            const base = r.arenaOffset >> 2;
            for (let i = 0; i < r.arenaBytes / 4; i++) check += e.arenaI32[base + i];
            if (sum === undefined || r.values[0] !== sum || check !== sum) wrong++;
          }
        };
        let issued = 0;
        let laps = 0;
        while (issued < total) {
          const batch = 1 + Math.floor(rand() * 40);
          for (let b = 0; b < batch && issued < total; b++) {
            let id: number;
            if (rand() < 0.1) {
              const count = 1 + Math.floor(rand() * 64);
              params[0] = issued;
              params[1] = count;
              id = e.submit(ARENA, params, 0);
              if (id >= 0) arenaJobs.set(id, count * issued + (count * (count - 1)) / 2);
            } else {
              params[0] = issued;
              params[1] = issued % 1000;
              id = e.submit(ECHO, params, issued & 0xffff);
              if (id >= 0) expected.set(id, issued);
            }
            if (id === Rejection.RingFull || id === Rejection.ArenaFull) break;
            expect(id).toBeGreaterThanOrEqual(0);
            issued++;
            if (rand() < 0.05 && e.cancel(id)) {
              cancelled++;
              expected.delete(id);
              arenaJobs.delete(id);
            }
          }
          e.poll(sink, 1 + Math.floor(rand() * 30));
          if (rand() < 0.2) await sleep(0);
          laps++;
        }
        // Drained against the clock, not a count of polls: a starved machine is slow, not wrong.
        const until = Date.now() + 30_000;
        for (let i = 0; e.inFlight > 0 && Date.now() < until; i++) {
          e.poll(sink);
          if (i % 50 === 49) await sleep(1);
        }
        expect(e.inFlight).toBe(0);
        expect(duplicates).toBe(0);
        expect(wrong).toBe(0);
        expect(seen.size + cancelled).toBe(issued);
        for (const id of expected.keys()) expect(seen.has(id)).toBe(true);
        const s = e.stats();
        expect(s.completed).toBe(seen.size);
        expect(s.cancelled).toBe(cancelled);
        expect(accountingHolds(e)).toBe(true);
        // Many laps: each worker's 16-slot ring went round far more than once.
        expect(s.workers.reduce((a, w) => a + w.jobsProcessed, 0)).toBeGreaterThan(16 * workers * 10);
        expect(laps).toBeGreaterThan(100);
        expect(broken()).toBe(0);
        expect(e.staleRecords).toBe(0);
      } catch (err) {
        console.error(`ring test failed with seed ${seed} (rerun with TEST_SEED=${seed})`);
        throw err;
      }
    });
  }
});
