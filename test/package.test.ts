/**
 * The package as a user gets it: `npm pack` once, then the tarball checked (its files,
 * publint, attw) and installed without the network into a copy of each project in
 * examples/, built and run. The Node examples run as processes; the browser ones are
 * served cross-origin isolated and run in Debian's Chromium. Each example runs jobs on
 * two workers, checks every result, shuts down, and reports one JSON line.
 *
 * `npm install --offline` works because every package the examples need is locked in
 * their package-lock.json at a version the repository's own lockfile has, so `npm ci`
 * has put it in npm's cache (the first test checks that).
 */
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../scripts/serve.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = join(ROOT, 'examples');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const run = promisify(execFile);

let work = '';
let tarball = '';
let files: string[] = [];
let packedSize = 0;

interface Result {
  ok: boolean;
  jobs: number;
  wrong: number;
  workers: number;
  paths?: number;
  pathWrong?: number;
  pathCost?: number;
  shutdownAt?: number;
  timedOut?: boolean;
  shutdownMs?: number;
  error?: string;
}

/** npm in `cwd`, never reaching the network. */
async function npm(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, maxBuffer: 64 << 20, timeout: 240_000 });
  return stdout;
}

/** node-ts's path jobs: 40 over its 8 x 5 corridor level, every one the 25-step path through its corners. */
const NODE_TS_PATHS = { paths: 40, pathWrong: 0, pathCost: 25 };

const prepared = new Map<string, Promise<string>>();
/** `p`, or a rejection naming `what` (and `detail()`) after `ms`, so a hang fails with its cause. */
function within<T>(ms: number, p: Promise<T>, what: string, detail: () => string = () => ''): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`${what} took over ${ms} ms\n${detail()}`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/** Copies an example next to the tarball, installs the tarball into it offline, and builds it (once per example). */
function prepare(name: string): Promise<string> {
  let p = prepared.get(name);
  if (!p) prepared.set(name, (p = prepareOnce(name)));
  return p;
}

async function prepareOnce(name: string): Promise<string> {
  const dir = join(work, name);
  cpSync(join(EXAMPLES, name), dir, { recursive: true, filter: (src) => !/[\\/](node_modules|dist)$/.test(src) });
  await npm(dir, ['install', '--offline', tarball]);
  await npm(dir, ['run', 'build']);
  return dir;
}

/** Runs a Node example; returns its JSON line and when (epoch ms) the process had exited. */
/**
 * Longest time from a process's shutdown() resolving to its exit seen here. A timer left
 * behind by shutdown() would hold the process for its timeoutMs (2 s by default); the
 * rest of the margin is for a loaded machine.
 */
const EXIT_BOUND_MS = 1500;

function runNode(dir: string, script: string, args: readonly string[] = []): Promise<{ result: Result; exitedAt: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      const exitedAt = Date.now();
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`${script} exited with ${code}: ${err || out}`));
      try {
        resolve({ result: JSON.parse(line) as Result, exitedAt, stderr: err });
      } catch {
        reject(new Error(`${script} printed no JSON line: ${out}${err}`));
      }
    });
  });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'framejobs-pack-'));
  // prepack builds dist/ from scratch (esbuild, then tsc for the declarations).
  const out = await npm(ROOT, ['pack', '--json', '--pack-destination', work]);
  // prepack's own output comes first; npm's JSON report is the rest.
  const info = (JSON.parse(out.slice(out.search(/^\[/m))) as { filename: string; size: number; files: { path: string }[] }[])[0]!;
  tarball = join(work, info.filename);
  files = info.files.map((f) => f.path).sort();
  packedSize = info.size;
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('holds the built engine, its declarations and maps, and nothing of the demo', () => {
    console.log(`tarball: ${files.length} files, ${packedSize} bytes packed`);
    for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/engine/index.js', 'dist/engine/index.d.ts', 'dist/engine/index.js.map']) {
      expect(files).toContain(f);
    }
    for (const f of ['dist/frame/index.d.ts', 'dist/engine/worker.d.ts', 'dist/engine/worker-entry.js', 'dist/bin/framejobs.js']) expect(files).toContain(f);
    for (const f of ['dist/remote/index.js', 'dist/remote/index.d.ts', 'dist/remote/bullmq.js', 'dist/remote/bullmq.d.ts']) expect(files).toContain(f);
    // The ready-made kinds, with their declarations; the demo's own copies of them are gone.
    for (const f of ['dist/kinds/grid/index.js', 'dist/kinds/grid/index.d.ts', 'dist/kinds/rapier/index.js', 'dist/kinds/rapier/index.d.ts']) expect(files).toContain(f);
    expect(files.filter((f) => /^dist\/game\/(kinds|astar|physics|search-scratch)\./.test(f))).toEqual([]);
    const demo = files.filter((f) => /(^|\/)(test|bench|web|scripts)\/|\.test\.|\.ts$(?<!\.d\.ts)|soak|piscina|game\/(world|run|cli)\./.test(f));
    expect(demo).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    // Installing the engine alone pulls in nothing, no physics engine in particular.
    expect(pkg.dependencies ?? {}).toEqual({});
  });

  it('passes publint and attw (ESM-only profile)', async () => {
    const bin = join(ROOT, 'node_modules', '.bin');
    const publint = await run(join(bin, 'publint'), ['run', tarball, '--strict'], { timeout: 120_000 });
    expect(publint.stdout).toContain('All good');
    // attw exits non-zero on any problem its profile counts (ESM-only: CommonJS resolution is out of scope).
    const attw = await run(join(bin, 'attw'), [tarball, '--profile', 'esm-only', '--no-color', '--no-emoji'], { timeout: 120_000, maxBuffer: 64 << 20 });
    expect(attw.stdout).toContain('"framejobs/worker"');
    expect(attw.stdout).toContain('"framejobs/kinds/grid"');
    expect(attw.stdout).toContain('"framejobs/kinds/rapier"');
    expect(attw.stdout).toContain('"framejobs/remote"');
    expect(attw.stdout).toContain('"framejobs/remote/bullmq"');
  }, 240_000);

  it('locks every example dependency at a version the repository locks, so it is in npm cache', () => {
    const lockOf = (f: string) => (JSON.parse(readFileSync(f, 'utf8')) as { packages: Record<string, { version?: string }> }).packages;
    const have = new Set(Object.entries(lockOf(join(ROOT, 'package-lock.json'))).map(([k, v]) => `${k.replace(/.*node_modules\//, '')}@${v.version}`));
    for (const ex of ['node-ts', 'esbuild-browser', 'vite']) {
      const missing = Object.entries(lockOf(join(EXAMPLES, ex, 'package-lock.json')))
        .filter(([k]) => k !== '')
        .map(([k, v]) => `${k.replace(/.*node_modules\//, '')}@${v.version}`)
        .filter((x) => !have.has(x));
      expect(missing, `${ex}: add these to the repository's devDependencies or relock the example`).toEqual([]);
    }
  });
});

describe('examples, installed from the tarball', () => {
  for (const [name, script] of [
    ['node-esm', 'main.js'],
    ['node-ts', 'dist/main.js'],
  ] as const) {
    it(`${name}: runs its own kind on two workers, checks every result, exits within a second of shutdown`, async () => {
      const dir = await prepare(name);
      const { result, exitedAt } = await runNode(dir, script);
      expect(result).toMatchObject({ ok: true, wrong: 0, jobs: 2000, workers: 2 });
      // node-ts also runs the path kind of framejobs/kinds/grid over a grid of its own (examples/node-ts/src/main.ts).
      if (name === 'node-ts') expect(result).toMatchObject(NODE_TS_PATHS);
      expect(exitedAt - result.shutdownAt!).toBeLessThan(EXIT_BOUND_MS);
    }, 240_000);
  }

  it('node-ts from source under tsx (its worker registers tsx itself) gives the same results', async () => {
    const dir = await prepare('node-ts');
    const { result, exitedAt } = await runNode(dir, join('node_modules', 'tsx', 'dist', 'cli.mjs'), ['src/main.ts']);
    expect(result).toMatchObject({ ok: true, wrong: 0, jobs: 2000, workers: 2, ...NODE_TS_PATHS });
    expect(exitedAt - result.shutdownAt!).toBeLessThan(EXIT_BOUND_MS);
  }, 240_000);

  it('framejobs/remote runs a batch on two workers with no BullMQ installed; framejobs/remote/bullmq names the peer it needs', async () => {
    const dir = await prepare('node-esm');
    // Every index once, in index order, with its own value: the batch contract, through the installed package.
    const script = `
      import { EngineCore } from 'framejobs';
      import { JobGroups, BackendError } from 'framejobs/remote';
      const engine = await EngineCore.start({ workers: 2 });
      const groups = new JobGroups({ engine, defaults: { backend: 'local' } });
      const N = 3000;
      let next = 0, wrong = 0;
      const summary = await groups.runBatch({
        tasks: { count: N, task: (i) => ({ kind: 'noop', params: [i, 1] }) },
        maxInFlight: 64,
        onResult: (i, r) => { if (i !== next++ || r.status !== 'done' || r.values[0] !== i + 1) wrong++; },
      });
      let refused = '';
      try { await groups.runBatch({ tasks: { count: 1, task: () => ({ kind: 'noop', params: [0, 1] }) }, onResult: () => {} }, { group: { backend: 'bullmq' } }); }
      catch (e) { refused = e instanceof BackendError ? e.code : String(e); }
      let peer = '';
      try { await import('framejobs/remote/bullmq'); } catch (e) { peer = e.code + ' ' + e.message; }
      await groups.close();
      await engine.shutdown();
      console.log(JSON.stringify({ summary, delivered: next, wrong, refused, peer }));
    `;
    writeFileSync(join(dir, 'remote-batch.mjs'), script);
    const { stdout } = await run(process.execPath, ['remote-batch.mjs'], { cwd: dir, timeout: 120_000 });
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as { summary: Record<string, unknown>; delivered: number; wrong: number; refused: string; peer: string };
    expect(out.summary).toMatchObject({ completed: 3000, failed: 0, skipped: 0, duplicates: 0, backend: 'local' });
    expect(out).toMatchObject({ delivered: 3000, wrong: 0, refused: 'INVALID_OPTION' });
    expect(out.peer).toMatch(/ERR_MODULE_NOT_FOUND.*'bullmq'/);
  }, 240_000);

  it('node-ts bundled by esbuild for Node (the Node host by a static import) runs with no node_modules beside it', async () => {
    const dir = await prepare('node-ts');
    const { build } = await import('esbuild');
    const out = join(work, 'node-bundle');
    await build({
      absWorkingDir: dir,
      entryPoints: ['src/main.ts', 'src/worker.ts'],
      outdir: out,
      bundle: true,
      platform: 'node',
      format: 'esm',
      logLevel: 'silent',
    });
    const { result, exitedAt } = await runNode(out, 'main.js');
    expect(result).toMatchObject({ ok: true, wrong: 0, jobs: 2000, workers: 2, ...NODE_TS_PATHS });
    expect(exitedAt - result.shutdownAt!).toBeLessThan(EXIT_BOUND_MS);
  }, 240_000);

  describe('in Chromium', () => {
    let browser: BrowserContext;
    let profile = '';
    beforeAll(async () => {
      if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
      profile = mkdtempSync(join(tmpdir(), 'framejobs-chromium-'));
      browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
      });
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      if (profile) rmSync(profile, { recursive: true, force: true });
    });

    /** Loads `url` and returns the example's JSON result. */
    async function resultOf(page: Page, url: string): Promise<Result> {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(url);
      await page.waitForFunction(() => document.body.dataset.result !== undefined, null, { timeout: 90_000 });
      const result = JSON.parse((await page.evaluate(() => document.body.dataset.result)) ?? '{}') as Result;
      if (!result.ok) throw new Error(`${JSON.stringify(result)} ${errors.join(' | ')}`);
      return result;
    }

    it('vite: the dev server (vite) serves the same app, TypeScript worker and all', async () => {
      const dir = await within(150_000, prepare('vite'), 'installing and building the vite example');
      const port = await new Promise<number>((resolve) => {
        const s = createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as { port: number }).port;
          s.close(() => resolve(p));
        });
      });
      const vite = spawn(process.execPath, [join(dir, 'node_modules', 'vite', 'bin', 'vite.js'), '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let log = '';
      vite.stdout.on('data', (d: Buffer) => (log += d.toString()));
      vite.stderr.on('data', (d: Buffer) => (log += d.toString()));
      const page = await browser.newPage();
      page.on('console', (m) => (log += `\n[page ${m.type()}] ${m.text()}`));
      try {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`vite did not start: ${log}`)), 60_000);
          const check = (): void => {
            if (log.includes(`${port}`)) {
              clearTimeout(t);
              resolve();
            } else setTimeout(check, 50);
          };
          check();
        });
        const result = await within(
          100_000,
          resultOf(page, `http://127.0.0.1:${port}/`),
          'the app on the dev server',
          () => log,
        );
        expect(result).toMatchObject({ ok: true, wrong: 0, jobs: 2000, workers: 2, timedOut: false });
        // optimizeDeps.include in the example: a dependency found late reloads the page mid-run.
        expect(log).not.toContain('optimized dependencies changed');
      } finally {
        vite.kill();
        await within(10_000, page.close(), 'closing the page').catch(() => {});
      }
    }, 300_000);

    for (const name of ['esbuild-browser', 'vite']) {
      it(`${name}: bundles the worker and its kinds, runs them on two Web Workers, shuts down without waiting for the timeout`, async () => {
        const dir = await prepare(name);
        const server = await startServer({ root: join(dir, 'dist'), port: 0 });
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        try {
          await page.goto(`${server.url}index.html`);
          await page.waitForFunction(() => document.body.dataset.result !== undefined, null, { timeout: 60_000 });
          const result = JSON.parse((await page.evaluate(() => document.body.dataset.result)) ?? '{}') as Result;
          expect(result, errors.join(' | ')).toMatchObject({ ok: true, wrong: 0, jobs: 2000, workers: 2, timedOut: false });
          // shutdown({ timeoutMs: 10_000 }): resolved when the workers were gone, not at the timeout.
          expect(result.shutdownMs!).toBeLessThan(5000);
        } finally {
          await page.close();
          await server.close();
        }
      }, 240_000);
    }
  });
});

describe('the framejobs bin, from the installed tarball', () => {
  /** Runs the bin in the node-esm example; resolves with its exit code and output, whatever the code. */
  const bin = async (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    const dir = await prepare('node-esm');
    return new Promise((resolve) => {
      execFile(join(dir, 'node_modules', '.bin', 'framejobs'), args, { cwd: dir, timeout: 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  };
  const lastJson = (out: string): Record<string, any> => JSON.parse(out.trim().split('\n').pop()!) as Record<string, any>;

  it('framejobs stress runs the graded report (burst) without Rapier installed', async () => {
    const r = await bin(['stress', '--seconds', '0.5', '--workers', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(j.mode).toBe('burst');
    expect(j.grade).not.toBe('F');
    expect(j.jobs.lost).toBe(0);
    expect(j.jobs.completed).toBeGreaterThan(0);
  }, 180_000);

  it('framejobs stress --mode frame runs the ready-made kinds from the package once Rapier is installed', async () => {
    // A copy of node-esm with the optional peer added (from npm's cache, like every install here).
    const dir = join(work, 'node-esm-rapier');
    cpSync(join(EXAMPLES, 'node-esm'), dir, { recursive: true, filter: (src) => !/[\\/](node_modules|dist)$/.test(src) });
    const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules', '@dimforge', 'rapier3d-compat', 'package.json'), 'utf8')) as { version: string };
    // By its tarball's URL: npm's cache holds the tarball `npm ci` fetched, not the registry's metadata.
    await npm(dir, ['install', '--offline', tarball, `https://registry.npmjs.org/@dimforge/rapier3d-compat/-/rapier3d-compat-${version}.tgz`]);
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(join(dir, 'node_modules', '.bin', 'framejobs'), ['stress', '--mode', 'frame', '--seconds', '0.5', '--workers', '2', '--json'], { cwd: dir, timeout: 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
    expect(r.code, r.stderr).not.toBe(2);
    const j = lastJson(r.stdout);
    expect(j.mode).toBe('frame');
    expect(j.jobs.lost).toBe(0);
    expect(j.jobs.failed).toBe(0);
    expect(j.jobs.completed).toBeGreaterThan(0);
  }, 240_000);

  it('grades the user\'s own kinds in burst and frame modes, checking every result', async () => {
    const r = await bin(['stress', '--kinds', 'kinds.js', '--workload', 'workload.js', '--seconds', '0.5', '--workers', '2', '--seed', '7', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(j.kind).toBe('example.distance');
    expect(j.runs.map((x: { mode: string }) => x.mode)).toEqual(['burst', 'frame']);
    for (const run of j.runs) {
      expect(run.grade).not.toBe('F');
      expect(run.jobs.lost).toBe(0);
      expect(run.jobs.completed).toBeGreaterThan(0);
      expect(run.unexpected_failed, JSON.stringify({ mode: run.mode, failed: run.failed_by_reason, jobs: run.jobs })).toBe(0);
    }
    expect(r.stdout).toContain('every completed result passed workload.check');
  }, 180_000);

  it.each([
    [['stress', '--mode', 'frame'], '@dimforge/rapier3d-compat'],
    [['stress', '--kinds', 'kinds.js'], '--kinds and --workload go together'],
    [['stress', '--kinds', 'kinds.js', '--workload', 'no-such-workload.js'], 'could not import the workload module'],
    [['stress', '--kinds', 'kinds.js', '--workload', 'workload.js', '--mode', 'chaos'], '--mode must be burst, frame or both'],
    [['launch'], 'unknown command'],
  ])('%j exits 2 and says why', async (args, why) => {
    const r = await bin(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(why);
  }, 120_000);
});
