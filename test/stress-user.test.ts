/**
 * `framejobs stress --kinds --workload` checks every completed result against the job's
 * own parameters, even when one job comes back after tens of thousands submitted later
 * (test/fixtures/hold-kinds.ts holds one job on its worker while the other runs on).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtModuleUrl } from '../engine/paths.js';

const path = (rel: string): string => fileURLToPath(builtModuleUrl(import.meta.url, rel));

describe('framejobs stress with the user\'s kinds', () => {
  it('a result that arrives long after later jobs is checked against its own parameters', async () => {
    const args = [path('../bin/framejobs.js'), 'stress', '--kinds', path('./fixtures/hold-kinds.js'), '--workload', path('./fixtures/hold-workload.js'), '--mode', 'burst', '--seconds', '0.5', '--workers', '2', '--seed', '3', '--json'];
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, args, { timeout: 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as { runs: { jobs: { lost: number; completed: number; failed: number }; unexpected_failed: number; failed_by_reason: Record<string, number> }[] };
    expect(j.runs).toHaveLength(1);
    const run = j.runs[0]!;
    expect(run.jobs.lost).toBe(0);
    expect(run.jobs.failed, JSON.stringify(run.failed_by_reason)).toBe(0);
    expect(run.jobs.completed).toBeGreaterThan(5000);
    expect(run.unexpected_failed).toBe(0);
    expect(r.stdout).toContain('every completed result passed workload.check');
  }, 180_000);
});
