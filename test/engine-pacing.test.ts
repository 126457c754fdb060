/**
 * Frame pacing (engine/pacing.ts): the cadence the main thread keeps from beginFrame, the
 * lead worker's window around the next frame, and real workers through a steady cadence
 * with the lead killed and respawned in the middle.
 */
import { describe, expect, it } from 'vitest';
import type { ResultView } from '../engine/api.js';
import { EngineCore } from '../engine/core.js';
import { ArenaAllocator } from '../engine/arena.js';
import { noopKind } from '../engine/builtin-kinds.js';
import { Dispatcher } from '../engine/dispatcher.js';
import { JobTable } from '../engine/job-table.js';
import { KindTable } from '../engine/kind-table.js';
import { HEADER_BYTES, HF_FRAME_AT, HF_FRAME_PERIOD, JOB_HEAD_I, W_BEAT, W_SLEEPING, W_STATE, WS_BUSY, WS_IDLE, WorkerBlockView, computeLayout, writeHeader } from '../engine/layout.js';
import { Outcome } from '../engine/outcome.js';
import { FrameCadence, MAX_PERIOD_MS, nextPeriod, untilFrameWindow } from '../engine/pacing.js';
import { WorkerLink } from '../engine/worker-link.js';
import { accountingHolds, fixtureKinds, pollUntil, rng, seedFromEnv } from './fixtures/engine.js';

/** Steady frames of seeded echo jobs; every job's one outcome and the books checked. */
async function steadyFrames(engine: EngineCore, seed: number, frames: number, killLeadAt: number): Promise<void> {
  const random = rng(seed);
  const ECHO = engine.kindId('test.echo');
  const want = new Map<number, number>();
  const got = new Map<number, number>();
  const sink = (r: ResultView): void => {
    expect(got.has(r.jobId)).toBe(false);
    // The lead's jobs of the frame it was killed in may be lost with it.
    got.set(r.jobId, r.status === Outcome.Done ? r.values[1] : -1);
  };
  for (let frame = 1; frame <= frames; frame++) {
    engine.beginFrame(frame);
    engine.poll(sink);
    if (frame === killLeadAt) engine.killWorker(0);
    const n = Math.floor(random() * 12);
    for (let i = 0; i < n; i++) {
      const v = Math.floor(random() * 1e6);
      const id = engine.submit(ECHO, [i, v]);
      expect(id).toBeGreaterThanOrEqual(0);
      want.set(id, v);
    }
    engine.flush();
    await new Promise((r) => setTimeout(r, 8));
  }
  await pollUntil(engine, sink, () => got.size === want.size);
  let lost = 0;
  for (const [id, v] of want) {
    const g = got.get(id);
    if (g === -1) lost++;
    else expect(g).toBe(v);
  }
  expect(lost).toBe(engine.stats().failed);
  expect(engine.inFlight).toBe(0);
  expect(accountingHolds(engine)).toBe(true);
}

const header = (at: number, period: number): Float64Array => {
  const hf = new Float64Array(HEADER_BYTES / 8);
  hf[HF_FRAME_AT] = at;
  hf[HF_FRAME_PERIOD] = period;
  return hf;
};

describe('pacing: the cadence', () => {
  it('the first gap sets the period, later ones move it an eighth of the way', () => {
    expect(nextPeriod(0, 33)).toBe(33);
    expect(nextPeriod(32, 40)).toBe(33);
    expect(nextPeriod(32, 24)).toBe(31);
  });

  it('a gap over MAX_PERIOD_MS (a pause) ends the cadence, and the next gap starts one', () => {
    expect(nextPeriod(33, MAX_PERIOD_MS + 1)).toBe(0);
    expect(nextPeriod(0, MAX_PERIOD_MS)).toBe(MAX_PERIOD_MS);
    expect(nextPeriod(0, 16)).toBe(16);
  });
});

describe('pacing: the lead worker\'s window', () => {
  it('no cadence: the lead never dozes', () => {
    expect(untilFrameWindow(header(1000, 0), 1001)).toBe(Infinity);
    expect(untilFrameWindow(header(0, 0), 5)).toBe(Infinity);
  });

  it('at 30 Hz: awake 3 ms into a frame and from 4 ms before the next, asleep between', () => {
    const hf = header(1000, 32);
    expect(untilFrameWindow(hf, 1000)).toBe(0);
    expect(untilFrameWindow(hf, 1002.9)).toBe(0);
    // The window opens 4 ms before the frame is due.
    expect(untilFrameWindow(hf, 1003)).toBe(25);
    expect(untilFrameWindow(hf, 1020)).toBe(8);
    expect(untilFrameWindow(hf, 1028)).toBe(0);
    // A late frame is waited for, up to two periods after the last.
    expect(untilFrameWindow(hf, 1040)).toBe(0);
    expect(untilFrameWindow(hf, 1063.9)).toBe(0);
    expect(untilFrameWindow(hf, 1064)).toBe(Infinity);
  });

  it('a short period narrows both edges to a quarter of it', () => {
    const hf = header(1000, 8);
    expect(untilFrameWindow(hf, 1001.9)).toBe(0);
    expect(untilFrameWindow(hf, 1002)).toBe(4);
    expect(untilFrameWindow(hf, 1006)).toBe(0);
  });

  it('a frame stamped after the lead read its clock (clocks of two threads) counts as begun', () => {
    expect(untilFrameWindow(header(1000, 32), 999.99)).toBe(0);
  });
});

describe('pacing: who wakes a sleeping worker', () => {
  /** Two worker links over a real layout, no threads: worker 0 busy, worker 1 asleep. */
  function rig(): { d: Dispatcher; ws: WorkerLink[]; hf: Float64Array } {
    const layout = computeLayout({ workerCount: 2, ringCapacity: 64, jobSlots: 64, arenaBytes: 64, heartbeatMs: 20 });
    const sab = new SharedArrayBuffer(layout.totalBytes);
    writeHeader(sab, layout);
    const ws = [0, 1].map((i) => {
      const w = new WorkerLink(i, new WorkerBlockView(sab, layout, i));
      w.life = 'alive';
      return w;
    });
    Atomics.store(ws[0].block.i32, W_STATE, WS_BUSY);
    Atomics.store(ws[1].block.i32, W_SLEEPING, 1);
    const jobs = new JobTable(new Int32Array(new SharedArrayBuffer(64 * 4)), new Int32Array(64 * 8), new ArenaAllocator(64, 64), 1);
    const d = new Dispatcher(ws, jobs, new KindTable([noopKind], new Map([[noopKind.name, 0]])), 10, 1, () => undefined);
    const hf = new Float64Array(sab, 0, HEADER_BYTES / 8);
    d.cadence = new FrameCadence(hf);
    return { d, ws, hf };
  }

  it('in a steady cadence, a busy lead wakes it, not this thread, however long its queue', () => {
    for (const queued of [0, 1, 1.5, 40]) {
      const { d, ws, hf } = rig();
      hf[HF_FRAME_PERIOD] = 33;
      ws[0].queuedMs = queued;
      d.publish(ws[1]);
      expect(d.wakes[0], `queued ${queued}`).toBe(0);
    }
  });

  it('no cadence, or a lead asleep: this thread wakes it', () => {
    for (const [period, leadAsleep] of [[0, false], [33, true]] as const) {
      const { d, ws, hf } = rig();
      hf[HF_FRAME_PERIOD] = period;
      ws[0].queuedMs = 0.1;
      if (leadAsleep) Atomics.store(ws[0].block.i32, W_SLEEPING, 1);
      d.publish(ws[1]);
      expect(d.wakes[0], `period ${period}, lead asleep ${leadAsleep}`).toBe(1);
    }
  });

  /** Lets at least `ms` pass on the clock (a loaded machine only makes it longer). */
  const pass = (ms: number): void => {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      // waiting
    }
  };

  /** Worker 1 asleep with 5 records published that it has not read; the cadence steady. */
  function stalledRig(): { d: Dispatcher; ws: WorkerLink[] } {
    const { d, ws, hf } = rig();
    hf[HF_FRAME_PERIOD] = 33;
    ws[1].jobs.tail = 5;
    ws[1].jobs.published = 5;
    return { d, ws };
  }

  it('a busy lead whose job head stands still for 1 ms: the next flush wakes the sleeping sibling with work, once per sleep', () => {
    const { d, ws } = stalledRig();
    // The first flush sees the lead's head; the next finds it still and notes the time.
    d.flush();
    d.flush();
    expect(d.wakes[0]).toBe(0);
    pass(1.5);
    d.flush();
    expect(d.wakes[0]).toBe(1);
    pass(1.5);
    d.flush();
    // Still the same sleep (its beat has not moved): the notify is on its way.
    expect(d.wakes[0]).toBe(1);
    Atomics.add(ws[1].block.i32, W_BEAT, 1);
    d.flush();
    expect(d.wakes[0]).toBe(2);
  });

  it('a lead whose head moves, an idle lead, or a sibling with nothing unread: no wake from the flush', () => {
    const moving = stalledRig();
    moving.d.flush();
    for (let i = 1; i <= 3; i++) {
      pass(1.5);
      Atomics.store(moving.ws[0].block.i32, JOB_HEAD_I, i);
      moving.d.flush();
    }
    expect(moving.d.wakes[0]).toBe(0);

    const idle = stalledRig();
    Atomics.store(idle.ws[0].block.i32, W_STATE, WS_IDLE);
    idle.d.flush();
    idle.d.flush();
    pass(1.5);
    idle.d.flush();
    expect(idle.d.wakes[0]).toBe(0);

    const caughtUp = stalledRig();
    Atomics.store(caughtUp.ws[1].block.i32, JOB_HEAD_I, 5);
    caughtUp.d.flush();
    caughtUp.d.flush();
    pass(1.5);
    caughtUp.d.flush();
    expect(caughtUp.d.wakes[0]).toBe(0);
  });
});

describe('pacing: real workers through a steady cadence', () => {
  it('every job of every frame has one outcome while the lead dozes between frames, and is killed and respawned', async () => {
    const seed = seedFromEnv();
    const engine = await EngineCore.start({ workers: 2, heartbeatMs: 20, framePacing: true, kindModules: [fixtureKinds] });
    const events: string[] = [];
    engine.onEvent = (ev): void => {
      events.push(ev.type);
    };
    try {
      await steadyFrames(engine, seed, 60, 30);
      await pollUntil(engine, () => undefined, () => events.includes('worker-respawned'));
    } catch (err) {
      console.error(`pacing: seed ${seed} (replay with TEST_SEED=${seed})`);
      throw err;
    } finally {
      await engine.shutdown();
    }
  });

  it('without framePacing (the default) the same frames run with every worker left asleep until woken', async () => {
    const seed = seedFromEnv();
    const engine = await EngineCore.start({ workers: 2, kindModules: [fixtureKinds] });
    try {
      await steadyFrames(engine, seed, 20, -1);
    } catch (err) {
      console.error(`pacing: seed ${seed} (replay with TEST_SEED=${seed})`);
      throw err;
    } finally {
      await engine.shutdown();
    }
  });

  it.each([['a string', 'yes'], ['a number', 1], ['an object', {}]])('framePacing as %s is refused with INVALID_OPTION', async (_what, v) => {
    await expect(EngineCore.start({ workers: 0, framePacing: v as never })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});
