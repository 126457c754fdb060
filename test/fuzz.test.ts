/**
 * Model-based fuzzing inside `npm test`: a few hundred short random command sequences
 * against a real engine with two workers, each checked against the reference model in
 * test/fuzz-model.ts. `npm run fuzz -- --runs N [--seed S]` runs the same property longer.
 * A failure prints the seed and a shrunk sequence; replay it with TEST_SEED=<seed>.
 */
import * as fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { seedFromEnv } from './fixtures/engine.js';
import { FuzzEnv, STALL_MS, fuzzProperty } from './fuzz-model.js';

const RUNS = 250;
const MAX_COMMANDS = 12;

describe('model-based fuzzing of the public API', () => {
  const env = new FuzzEnv();
  afterAll(() => env.close());

  it(`${RUNS} random sequences of up to ${MAX_COMMANDS} commands agree with the reference model`, async () => {
    const seed = seedFromEnv();
    console.log(`fuzz: seed ${seed} (replay with TEST_SEED=${seed})`);
    // A command that has not returned in this long is stuck; say which, and in what state,
    // before the test's own timeout ends the run with no word of where.
    const watchdog = setInterval(() => {
      const stalled = env.stallReport();
      if (stalled !== null) console.error(stalled);
    }, STALL_MS / 2);
    watchdog.unref();
    try {
      // No shrinking here: a failing sequence can take seconds a run, and the first one found
      // is short already (at most MAX_COMMANDS). `npm run fuzz` shrinks.
      await fc.assert(fuzzProperty(env, MAX_COMMANDS), { numRuns: RUNS, seed, endOnFailure: true });
    } finally {
      clearInterval(watchdog);
    }
    const t = env.totals;
    console.log(`fuzz: ${JSON.stringify(t)}`);
    // The run must have exercised what it claims to: jobs of every outcome and every fault.
    expect(t.outcomes.done).toBeGreaterThan(0);
    expect(t.outcomes.failed).toBeGreaterThan(0);
    expect(t.outcomes.cancelled).toBeGreaterThan(0);
    expect(t.malformed).toBeGreaterThan(0);
    expect(t.bundles).toBeGreaterThan(0);
    expect(t.faults.kills + t.faults.hangs + t.faults.crashes).toBeGreaterThan(0);
  }, 180_000);
});
