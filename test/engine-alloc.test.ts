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
    const r = JSON.parse(out.trim().split('\n').pop()!) as { inline: number; workers: number; traced: number };
    expect(r.workers).toBeLessThan(8);
    // Tracing on: a few clock readings per poll, nothing per job.
    expect(r.traced).toBeLessThan(8);
    expect(r.inline).toBeLessThan(20);
  });
});
