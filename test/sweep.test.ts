/**
 * `npm run sweep` as a real process on the tiny grid: the same result bytes with 0 and 2
 * workers; killed with SIGKILL (from outside at an arbitrary moment, and from inside at
 * each phase of a commit) and resumed, the same bytes again; a corrupt, foreign or
 * mismatched checkpoint refused with its code and nothing mixed; bad options refused
 * with a usage line and exit code 2. Needs the build (`npm test` makes it first).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { builtModuleUrl } from '../engine/paths.js';
import { createEngineBackend, type SweepBackend } from '../tools/sweep/backend.js';
import { checkpointPathFor, readCheckpoint } from '../tools/sweep/checkpoint.js';
import { UsageError, parseSweepArgs } from '../tools/sweep/cli.js';
import { GRIDS, SweepPlan } from '../tools/sweep/grid.js';
import { runSweep } from '../tools/sweep/sweep.js';

const CLI = fileURLToPath(builtModuleUrl(import.meta.url, '../tools/sweep/cli.js'));
const dir = mkdtempSync(join(tmpdir(), 'framejobs-sweep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Summary {
  tasks: number;
  completed: number;
  failed: number;
  resumed: number;
  computed: number;
  result_sha256: string;
  tasks_per_s: number;
}

function sweep(args: string[], env: Record<string, string> = {}, onSpawn?: (kill: () => void) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    onSpawn?.(() => child.kill('SIGKILL'));
  });
}

const lastJson = (r: Run): Summary => {
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Summary;
};

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const tiny = (out: string, ...more: string[]): string[] => ['--grid', 'tiny', '--out', out, '--json', ...more];
const TASKS = new SweepPlan(GRIDS.tiny, 1).tasks;

/** The uninterrupted run's bytes, from the first test. */
let reference = '';
let referencePath = '';

describe('sweep CLI options', () => {
  it('has defaults and takes every option', () => {
    expect(parseSweepArgs([])).toMatchObject({ seed: 1, grid: 'full', out: 'sweep-results.jsonl', resume: false, json: false, commitMs: 100 });
    expect(parseSweepArgs(['--workers', '0', '--seed=-5', '--quick', '--out', 'x.jsonl', '--resume', '--json', '--commit-ms', '0'])).toEqual({
      workers: 0, seed: -5, grid: 'quick', out: 'x.jsonl', resume: true, commitMs: 0, json: true, help: false,
    });
    expect(parseSweepArgs(['--grid', 'tiny']).grid).toBe('tiny');
  });

  for (const argv of [
    ['--workers'], ['--workers', 'x'], ['--workers', '-1'], ['--workers', '65'], ['--workers', '1.5'], ['--seed', 'abc'], ['--seed', ''],
    ['--grid', 'huge'], ['--quick', '--grid', 'tiny'], ['--out', ''], ['--commit-ms', '-1'], ['--bogus'], ['extra'], ['--json=yes'],
  ]) {
    it(`refuses ${JSON.stringify(argv)}`, () => {
      expect(() => parseSweepArgs(argv)).toThrow(UsageError);
    });
  }

  it('the process exits 2 with a usage line for bad options', async () => {
    for (const argv of [['--workers', 'x'], ['--frobnicate']]) {
      const r = await sweep(argv);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^usage: npm run sweep -- /m);
      expect(r.stdout).toBe('');
    }
  });
});

describe('sweep: deterministic result file, crash and resume', () => {
  it('gives the same bytes with --workers 0 and --workers 2', async () => {
    const a = join(dir, 'w0.jsonl');
    const b = join(dir, 'w2.jsonl');
    const r0 = await sweep(tiny(a, '--workers', '0'));
    expect(r0.code, r0.stderr).toBe(0);
    const r2 = await sweep(tiny(b, '--workers', '2'));
    expect(r2.code, r2.stderr).toBe(0);
    const s0 = lastJson(r0);
    const s2 = lastJson(r2);
    expect(s0).toMatchObject({ tasks: TASKS, completed: TASKS, failed: 0, resumed: 0, computed: TASKS });
    expect(s0.tasks_per_s).toBeGreaterThan(0);
    expect(s2.result_sha256).toBe(s0.result_sha256);
    expect(sha(a)).toBe(s0.result_sha256);
    expect(sha(b)).toBe(s0.result_sha256);
    // One line per task, in task order, every one done.
    const lines = readFileSync(a, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { task: number; status: string; goals: number });
    expect(lines.map((l) => l.task)).toEqual(Array.from({ length: TASKS }, (_, i) => i));
    expect(lines.every((l) => l.status === 'done')).toBe(true);
    expect(lines.some((l) => l.goals > 0)).toBe(true);
    reference = s0.result_sha256;
    referencePath = a;
  });

  it('killed with SIGKILL mid-run and resumed: the same bytes', async () => {
    expect(reference).not.toBe('');
    const out = join(dir, 'killed.jsonl');
    const ckpt = out + '.ckpt';
    let committedAtKill = -1;
    const first = await sweep(tiny(out, '--workers', '2', '--commit-ms', '0'), {}, (kill) => {
      // Kill as soon as the checkpoint shows some committed lines.
      const t = setInterval(() => {
        if (!existsSync(ckpt)) return;
        let c: { committed: number };
        try {
          c = JSON.parse(readFileSync(ckpt, 'utf8')) as { committed: number };
        } catch {
          return;
        }
        if (c.committed >= 1) {
          clearInterval(t);
          committedAtKill = c.committed;
          kill();
        }
      }, 5);
    });
    expect(first.signal).toBe('SIGKILL');
    expect(committedAtKill).toBeGreaterThan(0);
    expect(committedAtKill).toBeLessThan(TASKS);
    // Resumed on another worker count: the bytes do not depend on it either.
    const resumed = await sweep(tiny(out, '--workers', '0', '--resume'));
    expect(resumed.code, resumed.stderr).toBe(0);
    const s = lastJson(resumed);
    expect(s.resumed).toBeGreaterThanOrEqual(committedAtKill);
    expect(s.resumed + s.computed).toBe(TASKS);
    expect(s.result_sha256).toBe(reference);
    expect(sha(out)).toBe(reference);
  });

  // Lines written but not synced nor covered by the checkpoint; a new checkpoint written but not renamed into place.
  for (const at of ['append:3', 'tmp:2']) {
    it(`killed at commit phase ${at} and resumed: the same bytes`, async () => {
      const out = join(dir, `phase-${at.replace(':', '-')}.jsonl`);
      const first = await sweep(tiny(out, '--workers', '0', '--commit-ms', '0'), { FRAMEJOBS_SWEEP_CRASH: at });
      expect(first.signal, first.stderr).toBe('SIGKILL');
      const resumed = await sweep(tiny(out, '--workers', '0', '--resume'));
      expect(resumed.code, resumed.stderr).toBe(0);
      const s = lastJson(resumed);
      // Commit n holds task n-1 (one line per commit with --commit-ms 0); the checkpoint covers n-1 or n lines.
      const n = Number(at.split(':')[1]);
      expect(s.resumed).toBe(n - 1);
      expect(s.result_sha256).toBe(reference);
    });
  }

  it('resuming a finished sweep computes nothing and keeps the bytes', async () => {
    const out = join(dir, 'w0.jsonl');
    const r = await sweep(tiny(out, '--workers', '0', '--resume'));
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r)).toMatchObject({ resumed: TASKS, computed: 0, completed: TASKS, result_sha256: reference });
  });

  it('refuses a corrupt checkpoint, a damaged one, another sweep\'s, and a changed result file; nothing is mixed', async () => {
    const out = join(dir, 'refuse.jsonl');
    const ckpt = out + '.ckpt';
    writeFileSync(out, readFileSync(referencePath));
    const good = readFileSync(referencePath + '.ckpt', 'utf8');

    const refused = async (args: string[], code: string): Promise<void> => {
      const before = readFileSync(out);
      const r = await sweep(args);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(code);
      expect(readFileSync(out).equals(before)).toBe(true);
    };

    writeFileSync(ckpt, '{"format":"framejobs-sweep-checkpoint", trunc');
    await refused(tiny(out, '--workers', '0', '--resume'), 'CHECKPOINT_CORRUPT');

    // Valid JSON, edited in place: its own check fails.
    writeFileSync(ckpt, good.replace(`"committed":${TASKS}`, `"committed":${TASKS - 1}`).replace(`"done":${TASKS}`, `"done":${TASKS - 1}`));
    await refused(tiny(out, '--workers', '0', '--resume'), 'CHECKPOINT_CORRUPT');

    writeFileSync(ckpt, good);
    await refused(tiny(out, '--workers', '0', '--resume', '--seed', '2'), 'CHECKPOINT_FOREIGN');
    await refused(['--grid', 'quick', '--out', out, '--workers', '0', '--resume'], 'CHECKPOINT_FOREIGN');

    const text = readFileSync(out, 'utf8');
    writeFileSync(out, text.replace('"goals":', '"goals":1'));
    await refused(tiny(out, '--workers', '0', '--resume'), 'RESULT_FILE_MISMATCH');
  });
});

describe('sweep commits', () => {
  it('lines that arrive together are committed within commitMs even when no later result comes to commit them', async () => {
    const out = join(dir, 'commit-timer.jsonl');
    const plan = new SweepPlan(GRIDS.tiny, 1);
    const HELD_BACK = 3;
    // The real engine backend runs every task; this wrapper holds its results back and then
    // hands all but the last HELD_BACK to the sweep at once, so the first may commit and the
    // rest wait for a commit that no later result makes.
    const real = await createEngineBackend({ workers: 2, kindModules: [builtModuleUrl(import.meta.url, '../tools/sweep/kinds.js')] });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let handed = 0;
    const held: SweepBackend = {
      name: 'held',
      workers: real.workers,
      async runBatch(req) {
        const results: [number, { status: 'done' | 'failed' | 'cancelled'; values: number[]; reason?: string }][] = [];
        const summary = await real.runBatch({
          ...req,
          onResult: (i, r) => results.push([i, { status: r.status, values: Array.from(r.values), ...(r.reason === undefined ? {} : { reason: r.reason }) }]),
        });
        results.sort((a, b) => a[0] - b[0]);
        for (const [i, r] of results.slice(0, results.length - HELD_BACK)) req.onResult(i, r);
        handed = results.length - HELD_BACK;
        await released;
        for (const [i, r] of results.slice(results.length - HELD_BACK)) req.onResult(i, r);
        return summary;
      },
      close: () => real.close(),
    };
    const run = runSweep({ plan, backend: async () => held, out, resume: false, commitMs: 200 });
    const ckpt = checkpointPathFor(out);
    let committed = -1;
    for (let i = 0; i < 3000 && committed !== plan.tasks - HELD_BACK; i++) {
      await new Promise((r) => setTimeout(r, 10));
      if (handed > 0 && existsSync(ckpt)) committed = readCheckpoint(ckpt)!.committed;
    }
    // Every line handed over is committed while the last results are still held back.
    expect(handed).toBe(plan.tasks - HELD_BACK);
    expect(committed).toBe(plan.tasks - HELD_BACK);
    release();
    const summary = await run;
    expect(summary.completed + summary.failed).toBe(plan.tasks);
    expect(readCheckpoint(ckpt)!.committed).toBe(plan.tasks);
  });
});
