/**
 * Worker loading: static kinds with a worker factory (what a bundled app does), the
 * URL route, and starts that fail. A failed start rejects with an EngineError and
 * leaves nothing behind: each failure runs in a child process that must then exit by
 * itself.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { ResultView } from '../engine/api.js';
import { EngineCore } from '../engine/core.js';
import { EngineError } from '../engine/errors.js';
import { Outcome } from '../engine/outcome.js';
import { builtModuleUrl } from '../engine/paths.js';
import { serveWorker } from '../engine/worker.js';
import { accountingHolds, rng, seedFromEnv } from './fixtures/engine.js';
import { kinds, pairKind } from './fixtures/static-kinds.js';

const run = promisify(execFile);
const staticWorker = builtModuleUrl(import.meta.url, './fixtures/static-worker.js');

describe('static kinds and a worker factory', () => {
  it('runs every job exactly once on two workers, by name on both sides', async () => {
    const seed = seedFromEnv();
    const random = rng(seed);
    let made = 0;
    const engine = await EngineCore.start({
      workers: 2,
      kinds,
      workerFactory: () => {
        made++;
        return new Worker(staticWorker);
      },
    });
    try {
      expect(made).toBe(2);
      const PAIR = engine.kindId('test.pair');
      const p = pairKind.createParams();
      const N = 5000;
      const xs = new Float64Array(N);
      const ys = new Float64Array(N);
      const seen = new Uint8Array(N);
      const byWorker = [0, 0];
      let wrong = 0;
      let done = 0;
      const onResult = (r: ResultView): void => {
        done++;
        const v = pairKind.readResults(r.values);
        if (r.status !== Outcome.Done || seen[r.tag] !== 0 || v.sum !== xs[r.tag]! + ys[r.tag]! || v.diff !== xs[r.tag]! - ys[r.tag]!) wrong++;
        seen[r.tag] = 1;
        if (r.worker >= 0) byWorker[r.worker]!++;
      };
      let next = 0;
      while (done < N) {
        for (; next < N; next++) {
          p.x = xs[next] = Math.floor(random() * 1e6);
          p.y = ys[next] = Math.floor(random() * 1e6);
          if (engine.submit(PAIR, p, next) < 0) break;
        }
        engine.poll(onResult);
        await new Promise((r) => setTimeout(r, 1));
      }
      expect(wrong, `seed ${seed}`).toBe(0);
      expect(seen.every((s) => s === 1)).toBe(true);
      expect(byWorker[0]! + byWorker[1]!).toBe(N);
      expect(accountingHolds(engine)).toBe(true);
    } finally {
      await engine.shutdown();
    }
  });

  it('a respawned worker comes from the factory too', async () => {
    let made = 0;
    const engine = await EngineCore.start({ workers: 2, kinds, heartbeatMs: 20, workerFactory: () => (made++, new Worker(staticWorker)) });
    try {
      const respawned = new Promise<void>((resolve) => {
        engine.onEvent = (e) => {
          if (e.type === 'worker-respawned') resolve();
        };
      });
      engine.killWorker(0);
      await respawned;
      expect(made).toBe(3);
    } finally {
      await engine.shutdown();
    }
  });

  it('with workers: 0 the static kinds run inline, no worker entry needed', async () => {
    const engine = await EngineCore.start({ workers: 0, kinds });
    try {
      const p = pairKind.createParams();
      p.x = 5;
      p.y = 3;
      engine.submit(engine.kindId('test.pair'), p);
      let sum = 0;
      engine.poll((r) => (sum = pairKind.readResults(r.values).sum));
      expect(sum).toBe(8);
    } finally {
      await engine.shutdown();
    }
  });
});

describe('serveWorker', () => {
  it('refuses to run on the main thread with INVALID_OPTION', async () => {
    const err = await serveWorker([]).then(
      () => null,
      (e: unknown) => e as EngineError,
    );
    expect(err).toBeInstanceOf(EngineError);
    expect(err?.code).toBe('INVALID_OPTION');
  });
});

describe('a failed start rejects with an EngineError and lets the process exit by itself', () => {
  const script = fileURLToPath(builtModuleUrl(import.meta.url, './fixtures/failed-start.js'));
  it.each([
    ['missing-worker-url', 'WORKER_INIT_FAILED'],
    ['factory-throws', 'WORKER_INIT_FAILED'],
    ['factory-throws-proxy', 'WORKER_INIT_FAILED'],
    ['factory-not-a-worker', 'WORKER_INIT_FAILED'],
    ['init-timeout', 'WORKER_INIT_TIMEOUT'],
    ['init-throws', 'WORKER_INIT_FAILED'],
    ['kinds-mismatch', 'LAYOUT_MISMATCH'],
  ])('%s -> %s', async (which, code) => {
    // The child is killed if it is still running after 20 s: a start that left a timer,
    // a thread or a listener behind keeps it alive, and execFile then rejects.
    const { stdout } = await run(process.execPath, [script, which], { timeout: 20_000, killSignal: 'SIGKILL' });
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as { name: string; code: string; message: string };
    expect(r.code, r.message).toBe(code);
    expect(r.name === 'EngineError' || r.name === 'JobError').toBe(true);
  });
});

describe('a parent started with node --input-type=module -e', () => {
  // --expose-gc: a V8 flag, which Node refuses in a worker's explicit flag list.
  it.each([[[]], [['--expose-gc']]])('with %j: every job runs exactly once on two workers (--input-type is not passed on)', async (flags: string[]) => {
    const engineUrl = builtModuleUrl(import.meta.url, '../engine/index.js').href;
    const script = `
      import { EngineCore, Outcome } from ${JSON.stringify(engineUrl)};
      const engine = await EngineCore.start({ workers: 2 });
      const NOOP = engine.kindId('noop');
      const N = 2000;
      const seen = new Uint8Array(N);
      let wrong = 0;
      for (let i = 0; i < N; i++) if (engine.submit(NOOP, [i, 1], i) < 0) wrong++;
      while (engine.inFlight > 0) {
        engine.poll((r) => { if (r.status !== Outcome.Done || r.values[0] !== r.tag + 1 || seen[r.tag]++ !== 0) wrong++; });
        await new Promise((r) => setTimeout(r, 1));
      }
      const workers = engine.stats().workers.length;
      await engine.shutdown();
      console.log(JSON.stringify({ once: seen.reduce((a, b) => a + (b === 1 ? 1 : 0), 0), wrong, workers }));
    `;
    const { stdout } = await run(process.execPath, [...flags, '--input-type=module', '-e', script], { timeout: 60_000, killSignal: 'SIGKILL' });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ once: 2000, wrong: 0, workers: 2 });
  });
});

describe('after shutdown resolves, nothing of the engine keeps the process alive', () => {
  const script = fileURLToPath(builtModuleUrl(import.meta.url, './fixtures/after-shutdown.js'));
  it.each(['url', 'factory'])('%s route: no timer, worker or port left; the process exits by itself', async (route) => {
    const { stdout } = await run(process.execPath, [script, route], { timeout: 20_000, killSignal: 'SIGKILL' });
    const exitedAt = Date.now();
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as { done: number; resources: string[]; at: number };
    expect(r.done).toBe(1000);
    expect(r.resources).toEqual([]);
    console.log(`${route}: process gone ${exitedAt - r.at} ms after shutdown resolved`);
  });
});
