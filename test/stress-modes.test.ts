/**
 * Short real stress runs (real workers, real piscina): the accounting must add up in
 * every mode. Nothing here asserts a time, a rate or a grade that depends on speed.
 */
import { describe, expect, it } from 'vitest';
import { runBurst } from '../stress/modes/burst.js';
import { main, toJson } from '../stress/cli/main.js';
import { runFrames } from '../stress/modes/frame.js';
import { grade } from '../stress/report/grade.js';
import { runPiscinaBurst } from '../stress/peers/piscina.js';
import type { StressResult } from '../stress/report/result.js';

const SEED = Number(process.env.STRESS_TEST_SEED ?? 20260521);

function expectBooksBalance(r: StressResult): void {
  const j = r.jobs;
  const why = `seed ${SEED}, ${r.mode}: ${JSON.stringify(j)}`;
  expect(j.lost, why).toBe(0);
  expect(j.duplicates, why).toBe(0);
  expect(j.inFlight, why).toBe(0);
  expect(j.submitted, why).toBe(j.completed + j.failed + j.rejected + j.expired + j.cancelled + j.inFlight);
  expect(j.received, why).toBe(j.completed + j.failed + j.expired + j.cancelled);
  expect(j.completed, why).toBeGreaterThan(0);
  expect(r.latencyMs.count, why).toBe(j.completed);
  expect(Object.values(r.rejectedByReason).reduce((a, b) => a + b, 0), why).toBe(j.rejected);
  expect(Object.values(r.failedByReason).reduce((a, b) => a + b, 0), why).toBe(j.failed);
  // The engine's own counters agree with the run's books (buildResult notes any disagreement).
  expect(r.notes.filter((n) => n.startsWith('engine counter') || n.startsWith('run still awaits')), why).toEqual([]);
  expect(r.workers.alive, why).toBe(r.workers.configured);
}

describe('stress modes, accounting only', () => {
  it('burst: every submit is completed or refused with a reason, nothing lost', async () => {
    const r = await runBurst({ seconds: 1, workers: 2, seed: SEED, collectTimeoutMs: 20_000 });
    expectBooksBalance(r);
    expect(r.jobs.failed).toBe(0);
    for (const reason of Object.keys(r.rejectedByReason)) expect(['overloaded', 'ring-full']).toContain(reason);
    const json = toJson(r, grade(r));
    expect(Object.keys(json).slice(0, 6)).toEqual(['mode', 'grade', 'workers', 'jobs', 'throughput_per_s', 'latency_ms']);
    expect(Object.keys(json.jobs as object)).toEqual(expect.arrayContaining(['submitted', 'completed', 'failed', 'rejected', 'expired', 'cancelled', 'lost']));
    expect(Object.keys(json.latency_ms as object)).toEqual(['avg', 'p50', 'p99', 'max']);
  });

  it('frame: the game load at 30 Hz, every job accounted, no failure', async () => {
    const r = await runFrames({ seconds: 1, workers: 2, seed: SEED, chaos: false, warmUpFrames: 5, collectTimeoutMs: 20_000 });
    expectBooksBalance(r);
    expect(r.jobs.failed).toBe(0);
    expect(r.frames!.frames).toBeGreaterThan(0);
    expect(r.frames!.appliedAfterFrames.reduce((a, b) => a + b, 0)).toBe(r.jobs.completed);
  });

  it('chaos: kills, a hang, throws and malformed submits; recovered, nothing lost, every failure explained', async () => {
    const r = await runFrames({ seconds: 2.2, workers: 2, seed: SEED, chaos: true, warmUpFrames: 5, collectTimeoutMs: 30_000 });
    expectBooksBalance(r);
    const f = r.faults!;
    const why = `seed ${SEED}: ${JSON.stringify({ faults: f, workers: r.workers, failed: r.failedByReason })}`;
    // Faults are counted only when they took effect (a kill needs a worker that is up, a
    // hang or throw job must be accepted), so only the first kill is certain on a busy machine.
    expect(f.kills, why).toBeGreaterThanOrEqual(1);
    expect(f.malformed, why).toBeGreaterThan(0);
    expect(f.malformedRejected, why).toBe(f.malformed);
    expect(r.unexpectedFailed, why).toBe(0);
    // Jobs that threw on purpose came back failed with reason `threw`, and only they did.
    expect(f.throws, why).toBeGreaterThan(0);
    expect(r.failedByReason.threw ?? 0, why).toBeGreaterThan(0);
    expect(r.failedByReason.threw ?? 0, why).toBeLessThanOrEqual(f.throws);
    // Every worker chaos killed was replaced (a hang adds one more respawn each).
    expect(r.workers.respawned, why).toBeGreaterThanOrEqual(f.kills);
  });

  it('piscina peer: the same burst through piscina, books balance', async () => {
    const r = await runPiscinaBurst({ seconds: 0.5, workers: 2, seed: SEED });
    expectBooksBalance({ ...r, notes: [] });
  });

  it('cli: a bad option exits 2 without running anything', async () => {
    const writes: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (writes.push(s), true)) as typeof process.stderr.write;
    try {
      expect(await main(['--mode', 'storm'])).toBe(2);
    } finally {
      process.stderr.write = orig;
    }
    expect(writes.join('')).toContain('--mode must be one of');
  });
});
