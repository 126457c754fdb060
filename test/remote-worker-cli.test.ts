/** `framejobs worker`: help, refused options (exit 2), start failures (exit 1) with typed, redacted messages. */
import { describe, expect, it } from 'vitest';
import { WORKER_USAGE, workerMain } from '../remote/worker-cli.js';
import { fixtureModule } from './fixtures/engine.js';
import { freePort } from './fixtures/redis-server.js';

const kinds = fixtureModule('remote-kinds').pathname;

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await workerMain(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env, stopSignal: Promise.resolve() });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('framejobs worker command', () => {
  it('prints its usage with --help', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(WORKER_USAGE);
  });

  it('refuses bad options with a usage line and exit code 2', async () => {
    const cases: string[][] = [
      ['--kinds', kinds],
      ['--redis', 'redis://127.0.0.1:1'],
      ['--redis', 'redis://127.0.0.1:1', '--kinds', kinds, '--concurrency', 'many'],
      ['--redis', 'redis://127.0.0.1:1', '--kinds', 'my-kinds.ts'],
      ['--redis', 'redis://127.0.0.1:1', '--kinds', kinds, '--frobnicate'],
      ['--redis', 'http://:s3cr3t-pw@127.0.0.1:1', '--kinds', kinds, '--threads', '1'],
      ['--redis', 'redis://127.0.0.1:1', '--kinds', kinds, '--threads', '0'],
      ['--redis', 'redis://127.0.0.1:1', '--kinds', kinds, '--config', '[1]'],
      ['--redis', 'redis://127.0.0.1:1', '--kinds', kinds, '--config', '{nope'],
    ];
    for (const argv of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toContain('usage: framejobs worker');
      expect(r.err).not.toContain('s3cr3t-pw');
    }
  });

  it('exits 1 with a typed error when Redis is unreachable (password redacted) or a kind module does not load', async () => {
    const port = await freePort();
    const url = `redis://:s3cr3t-pw@127.0.0.1:${port}`;
    const r = await run(['--kinds', kinds, '--threads', '1', '--connect-timeout-ms', '500'], { FRAMEJOBS_REDIS_URL: url });
    expect(r.code).toBe(1);
    expect(r.err).toContain('[REDIS_UNREACHABLE]');
    expect(r.err).toContain('redis://:***@127.0.0.1');
    expect(r.err).not.toContain('s3cr3t-pw');
    const missing = await run(['--redis', url, '--kinds', '/nowhere/kinds.js', '--threads', '1']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('[KIND_MODULE_FAILED]');
  });
});
