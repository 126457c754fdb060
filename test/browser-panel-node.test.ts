/**
 * The panel's engine-facing pieces, run under Node with real worker threads: host
 * selection, the isolation check, the result router and the Quick Test's verdicts
 * (including that it fails when a result goes missing or comes back wrong).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultView } from '../engine/api.js';
import { EngineCore } from '../engine/core.js';
import { defaultHost, isolationStatus, assertIsolated } from '../engine/host.js';
import { nodeHost } from '../engine/host-node.js';
import { FRAME_MS, sleep } from '../game/time.js';
import { CLIENT_GAME, CLIENT_QUICK, ResultRouter, clientTag, type PanelEngine } from '../panel/clients.js';
import { QuickTest, type QuickTestReport } from '../panel/quick-test.js';


/**
 * Drives a quick test the way the panel's 30 Hz loop does. With `endWhenIdleAfterMs`, the
 * test's collect phase ends as soon as the engine has delivered every job (instead of at
 * its collectMs), once that long has passed: a test that loses a result on purpose then
 * does not depend on how fast the machine returns the others.
 */
async function drive(engine: PanelEngine, q: QuickTest, endWhenIdleAfterMs = -1): Promise<QuickTestReport> {
  const router = new ResultRouter();
  router.set(CLIENT_QUICK, q);
  let frame = engine.frame;
  const t0 = performance.now();
  while (!q.done) {
    engine.beginFrame(++frame);
    q.onFrame(engine, frame, performance.now());
    router.poll(engine);
    if (endWhenIdleAfterMs >= 0 && performance.now() - t0 > endWhenIdleAfterMs && engine.stats().inFlight === 0) q.onFrame(engine, frame, Infinity);
    await sleep(FRAME_MS);
  }
  return q.report();
}

/** The real engine, with its results passed through `filter` (to inject a fault the checker must see). */
function filtered(engine: EngineCore, filter: (r: ResultView) => boolean): PanelEngine {
  return {
    kindId: (n) => engine.kindId(n),
    submit: (k, p, t, o) => engine.submit(k, p, t, o),
    health: () => engine.health(),
    stats: () => engine.stats(),
    beginFrame: (f) => engine.beginFrame(f),
    killWorker: (i) => engine.killWorker(i),
    poll: (cb, max) => engine.poll((r) => (filter(r) ? cb(r) : undefined), max),
    get frame() {
      return engine.frame;
    },
    get workerCount() {
      return engine.workerCount;
    },
  };
}

describe('host selection', () => {
  it('picks worker_threads on Node, where memory is always shareable', async () => {
    expect(await defaultHost()).toBe(nodeHost);
    expect(isolationStatus()).toEqual({ isolated: true, message: '' });
    expect(() => assertIsolated()).not.toThrow();
  });
});

describe('result router', () => {
  it('routes by tag prefix and counts frame lag', () => {
    const got: string[] = [];
    const router = new ResultRouter();
    router.set(CLIENT_GAME, { onResult: (_r, d) => got.push(`game ${d}`) });
    router.set(CLIENT_QUICK, { onResult: (_r, d) => got.push(`quick ${d}`) });
    const views = [
      { tag: clientTag(CLIENT_GAME, 7), submitFrame: 10 },
      { tag: clientTag(CLIENT_QUICK, 123456), submitFrame: 9 },
      { tag: clientTag(5, 1), submitFrame: 2 },
    ] as ResultView[];
    const engine = {
      frame: 11,
      poll(cb: (r: ResultView) => void): number {
        for (const v of views) cb(v);
        return views.length;
      },
    };
    expect(router.poll(engine)).toBe(3);
    expect(got).toEqual(['game 7', 'quick 123456']);
    expect(router.orphaned).toBe(1);
    expect(Array.from(router.appliedAfter)).toEqual([0, 1, 1, 1]);
  });
});

describe('quick test on a real engine (2 worker threads)', () => {
  let engine: EngineCore;

  beforeAll(async () => {
    engine = await EngineCore.start({ workers: 2 });
  });

  afterAll(async () => {
    await engine?.shutdown({ timeoutMs: 2000 });
  });

  it('passes, verifying every job exactly once', async () => {
    const r = await drive(engine, new QuickTest({ durationMs: 500, collectMs: 30_000, noopPerFrame: 20, heavyPerFrame: 5 }));
    expect(r.ok, r.text).toBe(true);
    expect(r.headline).toMatch(/^ok: engine working/);
    expect(r.verified).toBe(r.submitted - r.rejected);
    expect(r.verified).toBeGreaterThan(0);
    expect(r.missing + r.duplicates + r.wrong + r.failed).toBe(0);
    expect(r.workersAlive).toBe(2);
  });

  it('fails, and says why, when a result never comes back', async () => {
    let dropped = 0;
    const lossy = filtered(engine, () => (dropped++ === 10 ? false : true));
    const r = await drive(lossy, new QuickTest({ durationMs: 300, collectMs: 120_000 }), 300);
    expect(r.ok).toBe(false);
    expect(r.missing).toBe(1);
    expect(r.headline).toMatch(/^FAILED: 1 job\(s\) never came back/);
    expect(r.headline).not.toContain('ok');
    expect(engine.inFlight).toBe(0);
  });

  it('fails when a value comes back wrong', async () => {
    let n = 0;
    const corrupt = filtered(engine, (r) => {
      if (n++ === 5) (r.values as Float64Array)[0] += 1;
      return true;
    });
    const r = await drive(corrupt, new QuickTest({ durationMs: 300, collectMs: 30_000 }));
    expect(r.ok).toBe(false);
    expect(r.wrong).toBe(1);
    expect(r.text).toContain('expected');
  });

  it('fails when a worker is down at the end', async () => {
    engine.killWorker(0);
    for (let i = 0; i < 200 && ['alive', 'stale'].includes(engine.health()[0].state); i++) await sleep(5);
    expect(engine.health()[0].state).not.toBe('alive');
    // Synchronous from here: the verdict sees the same health as the line above.
    const down = new QuickTest({ durationMs: 0, collectMs: 0 });
    down.onFrame(engine, engine.frame + 1, performance.now());
    expect(down.done).toBe(true);
    const r = down.report();
    expect(r.ok).toBe(false);
    expect(r.headline).toContain('only 1 of 2 workers running');
    // Wait for the respawn so shutdown is clean.
    for (let i = 0; i < 200 && engine.health().some((h) => h.state !== 'alive'); i++) await sleep(20);
  });
});
