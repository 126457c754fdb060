/**
 * Frame mode and chaos mode: a 30 Hz loop that each frame begins the frame, applies
 * the results that came back, and submits the game's jobs (workload.ts) tagged
 * with the frame; half-way through the frame it polls again, as a game that applies
 * results late in its frame would. Reported: the latency distribution in ms and in
 * frames, how many frames after their submit frame results were applied, and the
 * engine's main-thread time per frame.
 *
 * Chaos adds faults while the loop runs: a worker killed every second (engine.killWorker),
 * a job that hangs its worker every two seconds, jobs that throw, and malformed
 * submits every frame. Failures those faults explain (the faulty jobs themselves, and
 * jobs running on a worker that was killed or hung) are expected; any other failure,
 * any lost job, or a worker not back by the end counts against the grade.
 */
import { availableParallelism } from 'node:os';
import type { ResultView, SubmitOptions } from '../../engine/api.js';
import { EngineCore } from '../../engine/core.js';
import { Rejection } from '../../engine/outcome.js';
import { builtModuleUrl } from '../../engine/paths.js';
import { mulberry32 } from '../../game/random.js';
import { FRAME_MS, sleep, sleepUntil } from '../../game/time.js';
import { isWorkerLoss } from '../report/books.js';
import { LatencyRecorder } from '../report/latency.js';
import type { Ledger } from '../report/ledger.js';
import type { FaultCounts, StressResult } from '../report/result.js';
import { JOB_CAPACITY, MeasuredRun, noFailureExpected, type ModeOptions } from './common.js';
import { HEAVY_ITERATIONS, HEAVY_KIND } from './heavy.js';
import { GameWorkload } from './workload.js';

/**
 * Admission budget for the frame modes (EngineOptions.maxQueueMs): one frame of queued
 * work per worker, scaled by the share of a core each worker gets (a frame is several
 * scheduler slices, so even scaled down the queue outlasts a slice: see BURST_QUEUE_MS).
 * A frame's jobs spread over the workers fit well inside it; a pile-up after a
 * recovery is refused rather than queued past the next frame.
 */
export function frameMaxQueueMs(workers: number, cores = availableParallelism()): number {
  return FRAME_MS * Math.min(1, cores / Math.max(1, workers));
}

/**
 * Chaos: a hung worker is declared hung after this much heartbeat silence and replaced.
 * The engine default. Workers beat once per batch of results, so a much shorter limit
 * would take a busy worker running a batch of multi-ms game jobs for a hung one.
 */
export const CHAOS_HANG_TIMEOUT_MS = 1000;
const KILL_EVERY_MS = 1000;
const HANG_EVERY_MS = 2000;
const THROWS_PER_FRAME = 1;
const MALFORMED_PER_FRAME = 1;

export interface FrameOptions extends ModeOptions {
  readonly chaos: boolean;
  /** Frames run before measuring, so handlers are compiled and cost estimates real. Default 30. */
  readonly warmUpFrames?: number;
  /** Admission budget; default frameMaxQueueMs(workers). */
  readonly maxQueueMs?: number;
}

export async function runFrames(o: FrameOptions): Promise<StressResult> {
  const workload = new GameWorkload(o.seed);
  const kindModules: URL[] = [...workload.kindModules];
  if (o.chaos) kindModules.push(builtModuleUrl(import.meta.url, './fault-kinds.js'));
  const maxQueueMs = o.maxQueueMs ?? frameMaxQueueMs(o.workers);
  const engine = await EngineCore.start({
    workers: o.workers,
    jobCapacity: JOB_CAPACITY,
    kindModules,
    shared: workload.shared,
    maxQueueMs,
    hangTimeoutMs: o.chaos ? CHAOS_HANG_TIMEOUT_MS : undefined,
    trace: o.traceTo !== undefined,
  });
  try {
    workload.bind(engine);
    const kHang = o.chaos ? engine.kindId('chaos.hang') : -1;
    const kThrow = o.chaos ? engine.kindId('chaos.throw') : -1;
    const kHeavy = engine.kindId(HEAVY_KIND);
    const rnd = mulberry32(o.seed ^ 0xc4a05);

    // Warm-up: a second of frames so handlers are compiled and cost estimates are real.
    await frameLoop(engine, o.warmUpFrames ?? 30, () => {
      workload.submitFrame(engine, (k, p, t, op) => engine.submit(k, p, t, op));
    }, () => engine.poll(() => {}));
    await collectQuietly(engine);

    const mainMs = new LatencyRecorder(1024);
    const appliedAfter = [0, 0, 0, 0];
    // Failures chaos explains: the fault kinds themselves, and jobs whose worker was
    // killed or replaced under them. Anything else (a game kind that threw) is a defect.
    const chaosExpected = (r: ResultView): boolean => r.kind === kHang || r.kind === kThrow || isWorkerLoss(r.error?.reason);
    const onCompleted = (r: ResultView): void => {
      const late = engine.frame - r.submitFrame;
      appliedAfter[late < 0 ? 0 : late > 3 ? 3 : late]++;
      workload.apply(r, engine);
    };
    let kills = 0;
    let hangs = 0;
    let throws = 0;
    let malformed = 0;
    let malformedRejected = 0;
    let overruns = 0;
    let frames = 0;
    let cancelAttempts = 0;
    const heavyParams = new Float64Array([0, HEAVY_ITERATIONS]);
    const throwParams = new Float64Array(1);
    const bad = new Float64Array(2);
    const short = new Float64Array(1);
    const hangParams = new Float64Array([60_000]);

    const run = new MeasuredRun(engine, JOB_CAPACITY, o.chaos ? chaosExpected : noFailureExpected, onCompleted, engine.kinds.length);
    const { ledger, poll, t0 } = run;
    const submit = (kind: number, params: Float64Array, tag: number, opts?: SubmitOptions): number => {
      const id = engine.submit(kind, params, tag, opts);
      ledger.onSubmit(id, performance.now());
      return id;
    };
    const end = t0 + o.seconds * 1000;
    let nextKill = t0 + KILL_EVERY_MS;
    let nextHang = t0 + HANG_EVERY_MS / 2;
    let killIndex = 0;
    for (let f = 0; ; f++) {
      const frameStart = t0 + f * FRAME_MS;
      let now = await sleepUntil(frameStart);
      if (now >= end) break;
      frames++;
      const a = performance.now();
      engine.beginFrame(f);
      poll();
      workload.submitFrame(engine, submit);
      // Every third frame an agent changes its mind: a job cancelled right after submit.
      if (f % 3 === 0) {
        heavyParams[0] = f;
        const id = submit(kHeavy, heavyParams, 0);
        cancelAttempts++;
        if (id >= 0 && engine.cancel(id)) ledger.onCancelled(id);
      }
      if (o.chaos) {
        for (let i = 0; i < THROWS_PER_FRAME; i++) {
          throwParams[0] = f;
          // Counted when accepted: a refused job never gets to throw.
          if (submit(kThrow, throwParams, 0) >= 0) throws++;
        }
        for (let i = 0; i < MALFORMED_PER_FRAME; i++) {
          const ret = submitMalformed(engine, ledger, kHeavy, bad, short, (f + i) % 5);
          malformed++;
          if (ret === Rejection.BadParams || ret === Rejection.UnknownKind) malformedRejected++;
        }
        if (now >= nextKill && engine.workerCount > 0) {
          nextKill += KILL_EVERY_MS;
          // Round robin over the workers that are up (one still respawning from the last
          // kill cannot be killed again), so no index runs into the respawn limit.
          const victim = pickVictim(engine, killIndex);
          if (victim >= 0) {
            killIndex = victim + 1;
            engine.killWorker(victim);
            kills++;
          }
        }
        if (now >= nextHang && engine.workerCount > 0) {
          nextHang += HANG_EVERY_MS;
          if (submit(kHang, hangParams, 0) >= 0) hangs++;
        }
      }
      const spent = performance.now() - a;
      // Mid-frame: apply what finished since the frame began.
      const b = await sleepUntil(frameStart + FRAME_MS / 2);
      poll();
      const total = spent + (performance.now() - b);
      mainMs.add(total);
      if (total > FRAME_MS) overruns++;
      now = performance.now();
      run.tick(now);
      o.onProgress?.((now - t0) / (end - t0), now, () =>
        `${o.chaos ? 'chaos' : 'frame'}  frame ${f}  done ${ledger.completed.toLocaleString('en-US')}  failed ${ledger.failed}  kills ${kills}`,
      );
    }
    run.endSubmit();
    await run.collect(o.collectTimeoutMs ?? 10_000);
    const faults: FaultCounts | undefined = o.chaos ? { kills, hangs, throws, malformed, malformedRejected } : undefined;
    return run.finish({
      mode: o.chaos ? 'chaos' : 'frame',
      o,
      killed: kills,
      frames: { frames, overruns, mainThreadMs: mainMs.summary(), appliedAfterFrames: appliedAfter },
      faults,
      notes: [
        `game load per frame: paths, a distance field, physics predictions, ray batches and COMPUTE_HEAVY over a ${workload.grid.width}x${workload.grid.height} level; ${cancelAttempts} cancel attempts`,
        `admission budget maxQueueMs ${+maxQueueMs.toFixed(2)} ms per worker${o.chaos ? `, hangTimeoutMs ${CHAOS_HANG_TIMEOUT_MS} ms` : ''}`,
      ],
    });
  } finally {
    await engine.shutdown({ timeoutMs: 2000 });
    // After shutdown, so the timeline holds the last deliveries too.
    o.traceTo?.(engine);
  }
}

/**
 * One of five kinds of malformed submit. Each should come back BadParams or
 * UnknownKind; the ledger records whatever the engine answered, so a malformed job the
 * engine wrongly accepts is still accounted for.
 */
function submitMalformed(engine: EngineCore, ledger: Ledger, kHeavy: number, p: Float64Array, short: Float64Array, which: number): number {
  let ret: number;
  switch (which) {
    case 0:
      p[0] = NaN;
      p[1] = HEAVY_ITERATIONS;
      ret = engine.submit(kHeavy, p, 0);
      break;
    case 1:
      p[0] = 1;
      p[1] = 1e9; // over the declared max iterations
      ret = engine.submit(kHeavy, p, 0);
      break;
    case 2:
      ret = engine.submit(kHeavy, short, 0); // wrong parameter count
      break;
    case 3:
      p[0] = 1.5; // not an i32
      p[1] = HEAVY_ITERATIONS;
      ret = engine.submit(kHeavy, p, 0);
      break;
    default:
      ret = engine.submit(9999, p, 0); // no such kind
      break;
  }
  ledger.onSubmit(ret, performance.now());
  return ret;
}

/** The first worker at or after `from` (cyclically) that is up, or -1. */
function pickVictim(engine: EngineCore, from: number): number {
  const health = engine.health();
  const n = health.length;
  for (let k = 0; k < n; k++) {
    const i = (from + k) % n;
    if (health[i].state === 'alive' || health[i].state === 'stale') return i;
  }
  return -1;
}

/** Runs `frames` frames of `work` at 30 Hz, polling each frame (warm-up). */
async function frameLoop(engine: EngineCore, frames: number, work: () => void, poll: () => void): Promise<void> {
  const t0 = performance.now();
  for (let f = 0; f < frames; f++) {
    await sleepUntil(t0 + f * FRAME_MS);
    engine.beginFrame(-1000 + f);
    poll();
    work();
  }
}

async function collectQuietly(engine: EngineCore): Promise<void> {
  const deadline = performance.now() + 5000;
  while (engine.inFlight > 0 && performance.now() < deadline) {
    engine.poll(() => {});
    await sleep(1);
  }
}
