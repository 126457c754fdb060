/**
 * `npm run sweep -- --backend bullmq --redis URL --spawn-workers N` as a real process on
 * the tiny grid, against a real redis-server with a password: the same result bytes as
 * the local backend, the JSON line's backend, duplicates and redelivered, the password
 * nowhere in the output; an unreachable Redis ends the run with its code, and --resume
 * then finishes with the same bytes. Needs the build (`npm test` makes it first).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtModuleUrl } from '../engine/paths.js';
import { UsageError, parseSweepArgs } from '../tools/sweep/cli.js';
import { RedisServer, freePort } from './fixtures/redis-server.js';

const CLI = fileURLToPath(builtModuleUrl(import.meta.url, '../tools/sweep/cli.js'));
const PASSWORD = 'sw33p:p@ss';
const dir = mkdtempSync(join(tmpdir(), 'framejobs-sweep-bullmq-'));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sweep(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--grid', 'tiny', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const lastJson = (r: Run): Record<string, unknown> => JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;

describe('sweep on the bullmq backend', () => {
  let server: RedisServer;
  const outputs: string[] = [];
  beforeAll(async () => {
    server = await RedisServer.start({ password: PASSWORD });
  });
  afterAll(async () => {
    await server?.dispose();
    rmSync(dir, { recursive: true, force: true });
    for (const text of outputs) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(encodeURIComponent(PASSWORD));
    }
  });

  it('takes --backend bullmq with --redis and --spawn-workers, and refuses them otherwise', () => {
    expect(parseSweepArgs(['--backend', 'bullmq', '--redis', 'redis://h:1', '--spawn-workers', '2'])).toMatchObject({ backend: 'bullmq', redis: 'redis://h:1', spawnWorkers: 2 });
    expect(parseSweepArgs(['--backend', 'engine']).backend).toBeUndefined();
    for (const argv of [['--backend', 'nope'], ['--redis', 'redis://h:1'], ['--spawn-workers', '1'], ['--backend', 'bullmq', '--redis', 'redis://h:1', '--spawn-workers', 'x']]) {
      expect(() => parseSweepArgs(argv), JSON.stringify(argv)).toThrow(UsageError);
    }
  });

  it('writes the same result bytes as the local backend, with spawned remote workers', async () => {
    const local = await sweep(['--workers', '2', '--out', join(dir, 'local.jsonl')]);
    expect(local.code, local.stderr).toBe(0);
    const remote = await sweep(['--backend', 'bullmq', '--redis', server.url, '--spawn-workers', '2', '--workers', '1', '--out', join(dir, 'remote.jsonl')]);
    outputs.push(remote.stdout, remote.stderr);
    expect(remote.code, remote.stderr).toBe(0);
    const l = lastJson(local);
    const r = lastJson(remote);
    expect(r.result_sha256).toBe(l.result_sha256);
    expect(r).toMatchObject({ backend: 'bullmq', tasks: l.tasks, completed: l.tasks, failed: 0, duplicates: 0, redelivered: 0 });
  });

  it('ends with REDIS_UNREACHABLE when Redis is not there, and --resume finishes with the same bytes', async () => {
    const port = await freePort();
    const out = join(dir, 'unreachable.jsonl');
    const down = await sweep(['--backend', 'bullmq', '--redis', `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`, '--out', out]);
    outputs.push(down.stdout, down.stderr);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('[REDIS_UNREACHABLE]');
    const resumed = await sweep(['--backend', 'bullmq', '--redis', server.url, '--spawn-workers', '1', '--workers', '1', '--out', out, '--resume']);
    outputs.push(resumed.stdout, resumed.stderr);
    expect(resumed.code, resumed.stderr).toBe(0);
    const local = await sweep(['--workers', '2', '--out', join(dir, 'local2.jsonl')]);
    expect(lastJson(resumed).result_sha256).toBe(lastJson(local).result_sha256);
  });
});
