/**
 * The hot path does not allocate. The measurement runs in a plain Node process on the
 * built engine (test/alloc-probe.ts), where the code is exactly what users run.
 *
 * The one allowance is the clock: on Node 20 performance.now() returns a new heap
 * number (16 bytes) per call. Submit reads it once per 32 jobs; a job run inline
 * (workers: 0) reads it once per job. Anything made per job (the smallest heap
 * object is 12 bytes) would exceed these bounds.
 */
import { describe, expect, it } from 'vitest';
import { leastOfProbe } from './fixtures/alloc.js';

type ProbeResult = { inline?: number; workers?: number; traced?: number; many?: number; views?: number; manyViews?: number; bundle?: number };

/** The probe in fresh processes, retried under load (fixtures/alloc.ts); the least of each figure. */
const leastOf = (args: string[], bounds: Record<'inline' | 'workers' | 'traced' | 'many' | 'views' | 'manyViews' | 'bundle', number>): ProbeResult => leastOfProbe('alloc-probe.js', args, bounds);

// A bundle's code runs once per 1,024 jobs, so it is optimised later than the per-job
// path, and until then its doubles are heap numbers: a few hundred bytes a bundle in some
// windows (0.02-0.8 bytes a job measured). Anything made per job (12 bytes at least) is
// far over this bound.
const BOUNDS = { inline: 20, workers: 8, traced: 8, many: 8, views: 8, manyViews: 8, bundle: 2 };

describe('hot path allocation', () => {
  it('submit + poll allocate nothing per job on the main thread; inline runs only the clock', () => {
    const r = leastOf([], BOUNDS);
    expect(r.workers).toBeLessThan(BOUNDS.workers);
    expect(r.inline).toBeLessThan(BOUNDS.inline);
  });

  it('with the job timeline on, submit + poll still allocate nothing per job on the main thread', () => {
    expect(leastOf(['traced'], BOUNDS).traced).toBeLessThan(BOUNDS.traced);
  });

  it('parameters filled by name in createParams() views of three kinds: submit + poll still allocate nothing per job', () => {
    expect(leastOf(['views'], BOUNDS).views).toBeLessThan(BOUNDS.views);
  });

  it('submitMany + poll allocate nothing per job on the main thread', () => {
    expect(leastOf(['many'], BOUNDS).many).toBeLessThan(BOUNDS.many);
  });

  it('submitMany with batches in Float64Arrays of six classes of the game\'s own allocates nothing per job', () => {
    expect(leastOf(['many-views'], BOUNDS).manyViews).toBeLessThan(BOUNDS.manyViews);
  });

  it('submitBundle + poll allocate nothing per job on the main thread', () => {
    expect(leastOf(['bundle'], BOUNDS).bundle).toBeLessThan(BOUNDS.bundle);
  });
});
