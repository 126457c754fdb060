/**
 * The hot path does not allocate. The measurement runs in a plain Node process on the
 * built engine (test/alloc-probe.ts), where the code is exactly what users run.
 *
 * The one allowance is the clock: on Node 20 performance.now() returns a new heap
 * number (16 bytes) per call. Submit reads it once per 32 jobs; a job run inline
 * (workers: 0) reads it once per job. Anything made per job (the smallest heap
 * object is 12 bytes) would exceed these bounds.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtModuleUrl } from '../engine/paths.js';

describe('hot path allocation', () => {
  it('submit + poll allocate nothing per job on the main thread; inline runs only the clock', () => {
    const probe = fileURLToPath(builtModuleUrl(import.meta.url, './alloc-probe.js'));
    const out = execFileSync(process.execPath, ['--expose-gc', probe], { encoding: 'utf8', timeout: 120_000 });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { inline: number; workers: number };
    expect(r.workers).toBeLessThan(8);
    expect(r.inline).toBeLessThan(20);
  });

  it('with the job timeline on, submit + poll still allocate nothing per job on the main thread', () => {
    const probe = fileURLToPath(builtModuleUrl(import.meta.url, './alloc-probe.js'));
    // Two tries, each a fresh process: a run whose main thread polls much faster than the
    // workers deliver can settle into a slower mode (seen with tracing off too); a per-job
    // allocation would show in both.
    let least = Infinity;
    for (let attempt = 0; attempt < 2 && !(least < 8); attempt++) {
      const out = execFileSync(process.execPath, ['--expose-gc', probe, 'traced'], { encoding: 'utf8', timeout: 120_000 });
      least = Math.min(least, (JSON.parse(out.trim().split('\n').pop()!) as { traced: number }).traced);
    }
    expect(least).toBeLessThan(8);
  });
});
