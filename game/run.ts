/**
 * A whole headless game run: level, engine, game world, fixed-step loop, report.
 * The CLI and the determinism test both go through here.
 *
 * Threads: main thread only.
 */
import { EngineCore } from '../engine/core.js';
import { builtModuleUrl } from '../engine/paths.js';
import { EngineError } from '../engine/errors.js';
import { generateLevel, type NavGrid } from './grid.js';
import { KindRunner } from '../frame/kind-runner.js';
import { PATH_MOVES_8_JUMP, kinds } from './kinds.js';
import { FixedLoop } from '../frame/loop.js';
import { initRapier } from './physics.js';
import { mulberry32 } from './random.js';
import type { ApplyPolicy, SyncMetrics } from '../frame/sync.js';
import { closeSync, openSync, readSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { yieldToEventLoop } from './time.js';
import { GameWorld, type GameOptions } from './world.js';

export interface RunOptions extends GameOptions {
  frames?: number;
  workers?: number;
  /** Step frames back to back instead of at 30 Hz wall-clock time. */
  fast?: boolean;
  /** With fast: give the event loop a turn every this many frames (worker exits, respawns). Default 64. */
  yieldEveryFrames?: number;
  /** Kill worker (frame % workers) at each of these frames (chaos). */
  killAtFrames?: readonly number[];
  /** Level side in cells. Default 256. */
  levelSize?: number;
  /** Called after every step with the frame and the state hash. */
  onFrame?: (frame: number, hash: number) => void;
  /** More kind modules for the game's engine (work that shares it, such as a background sweep). */
  extraKindModules?: readonly string[];
  /** EngineOptions.backgroundWorkers of the game's engine. */
  backgroundWorkers?: number;
  /** EngineOptions.framePacing of the game's engine. Default true: its frames hold a few jobs each. */
  framePacing?: boolean;
  /**
   * Called with the game's engine before the first frame (to start work beside the game);
   * the function it returns, if any, is called after the last frame.
   */
  onEngine?: (engine: EngineCore) => (() => void) | void;
  /**
   * Frames of a throwaway world run before the measured one starts, as a game warms its
   * code behind a loading screen, on an engine of its own (one worker, or none when the
   * run has none). Default 90 (3 s of game time); 0 to start cold.
   */
  warmUpFrames?: number;
  /**
   * Records the job timeline (EngineOptions.trace) and hands the engine to this once it
   * has shut down, to export it (engine.exportTrace()).
   */
  traceTo?: (engine: EngineCore) => void;
}

export interface GameReport extends SyncMetrics {
  workers: number;
  agents: number;
  policy: ApplyPolicy;
  seed: number;
  fast: boolean;
  /** Running hash over every frame's state hash (hex). */
  state_hash: string;
  /** State hash of the last frame (hex). */
  final_frame_hash: string;
  loop: { ticks: number; capped_ticks: number; dropped_ms: number };
  engine: { respawns: number; rejected: number; completed: number; failed: number; expired: number; cancelled: number };
  /** The loading phase: frames of a throwaway world, and the most engine time one of them took. */
  warm_up: { frames: number; engine_ms_max: number };
  workers_killed: number;
  wall_ms: number;
  /**
   * The main thread's garbage collections during the run, and how many of the frames
   * with engine time over 1 ms had one inside the frame: the engine allocates nothing per
   * job, but a pause for the game's own garbage that lands in an engine call counts as
   * engine time.
   */
  main_gc: { count: number; ms: number; frames_over_1ms_with_gc: number };
  /**
   * Time the main thread spent runnable but off the CPU (Linux's per-thread schedstat),
   * per frame: `frames_over_1ms_waiting` counts the frames over 1 ms of engine time that
   * would be under it without that wait, `frames_over_1ms_other` those that neither a
   * garbage collection nor a wait explains, and `frames_waiting_over_1ms` every frame in
   * which the main thread waited over 1 ms, engine or not. `wake_ms` is the engine's time in
   * wake-ups of sleeping workers (EngineStats.wakes), and `frames_over_1ms_waking` counts
   * the frames over 1 ms, not explained by a wait, that would be under it without their
   * wake-ups: an Atomics.notify that slept on the lock every Atomics.wait and notify of the
   * process shares, held by a thread that lost its core. Null where schedstat cannot be
   * read (not Linux, or no schedstats).
   */
  main_wait: {
    ms: number;
    frames_waiting_over_1ms: number;
    frames_over_1ms_waiting: number;
    wake_ms: number;
    frames_over_1ms_waking: number;
    frames_over_1ms_other: number;
  } | null;
}

/**
 * Runs every game kind a few hundred times on this thread before the first frame, so
 * a deterministic fallback (which runs the same handler code here) meets optimised
 * code rather than the interpreter in the middle of a frame.
 */
function warmUp(runner: KindRunner, grid: NavGrid): void {
  const rnd = mulberry32(grid.seed ^ 0x5a5a);
  const cell = (): number => {
    for (;;) {
      const c = Math.floor(rnd() * grid.cells.length);
      if (grid.cells[c] === 0) return c;
    }
  };
  const W = grid.width;
  const PATH = runner.indexOf('path');
  const DIST = runner.indexOf('distances');
  const PRED = runner.indexOf('physics.predict');
  const RAYS = runner.indexOf('physics.raycasts');
  for (let i = 0; i < 300; i++) {
    const a = cell(), b = cell();
    runner.run(PATH, [a % W, (a / W) | 0, b % W, (b / W) | 0, 64, PATH_MOVES_8_JUMP, 40_000]);
    runner.run(PRED, [(a % W) + 0.5, 1, ((a / W) | 0) + 0.5, 8 * (rnd() - 0.5), 4, 8 * (rnd() - 0.5), 0.15, 60]);
    if (i % 10 === 0) {
      runner.run(DIST, [a % W, (a / W) | 0, Math.max(0, (a % W) - 32), Math.max(0, ((a / W) | 0) - 32), 64, 64, 1]);
      const f = runner.arenaF32;
      for (let r = 0; r < 64; r++) f.set([(a % W) + 0.5, 0.5, ((a / W) | 0) + 0.5, (b % W) + 0.5, 0.5, ((b / W) | 0) + 0.5], r * 6);
      runner.run(RAYS, [64]);
    }
  }
}

/** Default RunOptions.warmUpFrames. */
export const WARM_UP_FRAMES = 90;

/** The game's engine: its kinds, the level as `shared.nav`, an arena for paths and fields. */
function startEngine(grid: NavGrid, opts: RunOptions, workers: number, trace: boolean): Promise<EngineCore> {
  return EngineCore.start({
    workers,
    kindModules: [builtModuleUrl(import.meta.url, './kinds.js'), ...(opts.extraKindModules ?? [])],
    shared: { nav: grid.sab },
    arenaBytes: 8 << 20,
    ...(opts.backgroundWorkers !== undefined ? { backgroundWorkers: opts.backgroundWorkers } : {}),
    framePacing: opts.framePacing ?? true,
    // Each worker builds a Rapier world and A* scratch at init; give a loaded machine time.
    initTimeoutMs: 30_000,
    trace,
  });
}

/**
 * The loading phase: a throwaway world with the run's options steps `frames` frames (at
 * 30 Hz, or back to back with `fast`) on an engine of its own, which is then shut down.
 * Without it the first frames pay for compiling the main thread's engine and sync code:
 * frames 0-2 of a cold 500-agent run took 1-1.6 ms of engine time each, against a p50
 * under 0.1 ms. That code is the same for every engine, so the measured engine starts
 * with it compiled and with books, timeline and frame counter of its own.
 */
async function warmUpEngine(grid: NavGrid, runner: KindRunner, opts: RunOptions, workers: number, frames: number): Promise<{ frames: number; engine_ms_max: number }> {
  if (frames === 0) return { frames: 0, engine_ms_max: 0 };
  const engine = await startEngine(grid, opts, workers, false);
  const world = new GameWorld(grid, engine, runner, opts);
  try {
    const loop = new FixedLoop((frame) => world.step(frame));
    if (opts.fast) {
      for (let f = 0; f < frames; f++) loop.stepOnce();
    } else {
      await loop.run(frames);
    }
    world.finish();
    const n = Math.min(world.sync.framesRecorded, world.sync.historyFrames);
    let max = 0;
    for (let f = 0; f < n; f++) max = Math.max(max, world.sync.engineMs[f]);
    return { frames, engine_ms_max: Math.round(max * 1000) / 1000 };
  } finally {
    world.physics.free();
    await engine.shutdown({ timeoutMs: 2000 });
  }
}

export async function runGame(opts: RunOptions = {}): Promise<GameReport> {
  const frames = opts.frames ?? 3000;
  const workers = opts.workers ?? 4;
  const warmUpFrames = opts.warmUpFrames ?? WARM_UP_FRAMES;
  if (!Number.isInteger(warmUpFrames) || warmUpFrames < 0) throw new EngineError('INVALID_OPTION', `warmUpFrames must be a non-negative integer, got ${warmUpFrames}`);
  if (!Number.isInteger(frames) || frames < 1) throw new EngineError('INVALID_OPTION', `frames must be a positive integer, got ${frames}`);
  if (!Number.isInteger(workers) || workers < 0 || workers > 64) throw new EngineError('INVALID_OPTION', `workers must be an integer in [0, 64], got ${workers}`);
  const seed = opts.seed ?? 1;
  await initRapier();
  const grid = generateLevel({ seed, width: opts.levelSize ?? 256, height: opts.levelSize ?? 256 });
  const runner = await KindRunner.create(kinds, { workerIndex: -1, shared: { nav: grid.sab }, config: {} }, 1 << 20);
  warmUp(runner, grid);
  const warm = await warmUpEngine(grid, runner, opts, workers === 0 ? 0 : 1, warmUpFrames);
  const engine = await startEngine(grid, opts, workers, opts.traceTo !== undefined);
  let world: GameWorld | null = null;
  let gcs: GcLog | null = null;
  let killed = 0;
  try {
    world = new GameWorld(grid, engine, runner, opts);
    const w = world;
    const kills = new Set(opts.killAtFrames ?? []);
    const onFrame = opts.onFrame;
    const log = new GcLog(frames, engine);
    gcs = log;
    const loop = new FixedLoop((frame) => {
      if (kills.size > 0 && kills.has(frame) && engine.workerCount > 0) {
        engine.killWorker(frame % engine.workerCount);
        killed++;
      }
      log.frameStart(frame);
      w.step(frame);
      log.frameEnd(frame);
      onFrame?.(frame, w.hash);
    });
    const stopBeside = opts.onEngine?.(engine);
    const t0 = performance.now();
    if (opts.fast) {
      const every = opts.yieldEveryFrames ?? 64;
      for (let f = 0; f < frames; f++) {
        loop.stepOnce();
        // Let worker messages (exits, respawns) through now and then, as a real tick would.
        if (f % every === every - 1) await yieldToEventLoop();
      }
    } else {
      await loop.run(frames);
    }
    const wallMs = performance.now() - t0;
    stopBeside?.();
    const m = w.finish();
    const recorded = Math.min(w.sync.framesRecorded, w.sync.historyFrames);
    const mainGc = await log.finish(w.sync.engineMs, recorded);
    const mainWait = log.waits(w.sync.engineMs, recorded);
    const st = engine.stats();
    return {
      ...m,
      workers,
      agents: w.agentCount,
      policy: w.opts.policy,
      seed,
      fast: !!opts.fast,
      state_hash: w.chain.toString(16).padStart(8, '0'),
      final_frame_hash: w.hash.toString(16).padStart(8, '0'),
      loop: { ticks: loop.ticks, capped_ticks: loop.cappedTicks, dropped_ms: Math.round(loop.droppedMs) },
      engine: { respawns: st.respawns, rejected: st.rejected, completed: st.completed, failed: st.failed, expired: st.expired, cancelled: st.cancelled },
      warm_up: warm,
      workers_killed: killed,
      wall_ms: Math.round(wallMs),
      main_gc: mainGc,
      main_wait: mainWait,
    };
  } finally {
    // A run that throws still lets go of the observer and the schedstat file.
    gcs?.close();
    world?.physics.free();
    await engine.shutdown({ timeoutMs: 2000 });
    // After shutdown, so the timeline holds the last deliveries too.
    opts.traceTo?.(engine);
  }
}

/**
 * The main thread's time runnable but waiting for a CPU so far, ms, from Linux's
 * /proc/thread-self/schedstat ("run_ns wait_ns slices"): read into one buffer and parsed
 * in place, so a reading per frame makes no garbage of its own. NaN where it cannot be read.
 */
class RunQueueWait {
  private fd = -1;
  private readonly buf = Buffer.alloc(96);

  constructor() {
    try {
      this.fd = openSync('/proc/thread-self/schedstat', 'r');
      if (!(this.read() >= 0)) this.close();
    } catch {
      this.fd = -1;
    }
  }

  read(): number {
    if (this.fd < 0) return Number.NaN;
    const b = this.buf;
    const n = readSync(this.fd, b, 0, b.length, 0);
    let i = 0;
    while (i < n && b[i] !== 0x20) i++;
    i++;
    let ns = 0;
    let digits = 0;
    for (; i < n && b[i] >= 0x30 && b[i] <= 0x39; i++, digits++) ns = ns * 10 + (b[i] - 0x30);
    return digits === 0 ? Number.NaN : ns / 1e6;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * The main thread's garbage collections and its waits for a CPU, and each frame's span, to
 * see which frames a pause fell in.
 */
class GcLog {
  private readonly spans: number[] = [];
  private readonly start: Float64Array;
  private readonly end: Float64Array;
  private readonly wait: Float64Array;
  private readonly wake: Float64Array;
  private readonly engine: EngineCore;
  private readonly runQueue = new RunQueueWait();
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) this.spans.push(e.startTime, e.startTime + e.duration);
  });

  constructor(frames: number, engine: EngineCore) {
    this.engine = engine;
    this.wake = new Float64Array(frames);
    this.start = new Float64Array(frames);
    this.end = new Float64Array(frames);
    this.wait = new Float64Array(frames);
    this.observer.observe({ entryTypes: ['gc'] });
  }

  frameStart(frame: number): void {
    if (frame >= this.start.length) return;
    this.wait[frame] = this.runQueue.read();
    this.wake[frame] = this.engine.wakeMs;
    this.start[frame] = performance.now();
  }

  frameEnd(frame: number): void {
    if (frame >= this.end.length) return;
    this.end[frame] = performance.now();
    this.wait[frame] = this.runQueue.read() - this.wait[frame];
    this.wake[frame] = this.engine.wakeMs - this.wake[frame];
  }

  /** Counts, given each frame's engine time (frame i at index i). */
  async finish(engineMs: Float64Array, frames: number): Promise<{ count: number; ms: number; frames_over_1ms_with_gc: number }> {
    // Entries are delivered after the fact: let the last ones through.
    await yieldToEventLoop();
    this.observer.disconnect();
    const sp = this.spans;
    let ms = 0;
    for (let k = 0; k < sp.length; k += 2) ms += sp[k + 1] - sp[k];
    let withGc = 0;
    for (let f = 0; f < Math.min(frames, this.start.length); f++) if (engineMs[f] > 1 && this.gcIn(f)) withGc++;
    return { count: sp.length / 2, ms: Math.round(ms * 10) / 10, frames_over_1ms_with_gc: withGc };
  }

  /** See GameReport.main_wait. A frame over 1 ms with a collection in it counts as the collection's. */
  waits(engineMs: Float64Array, frames: number): GameReport['main_wait'] {
    const n = Math.min(frames, this.start.length);
    let ms = 0;
    let wakeMs = 0;
    let waitingOver1 = 0;
    let overWaiting = 0;
    let overWaking = 0;
    let overOther = 0;
    for (let f = 0; f < n; f++) {
      const w = this.wait[f];
      if (!(w >= 0)) return null;
      ms += w;
      wakeMs += this.wake[f];
      if (w > 1) waitingOver1++;
      if (!(engineMs[f] > 1) || this.gcIn(f)) continue;
      if (engineMs[f] - w <= 1) overWaiting++;
      else if (engineMs[f] - w - this.wake[f] <= 1) overWaking++;
      else overOther++;
    }
    return {
      ms: Math.round(ms * 10) / 10,
      frames_waiting_over_1ms: waitingOver1,
      frames_over_1ms_waiting: overWaiting,
      wake_ms: Math.round(wakeMs * 10) / 10,
      frames_over_1ms_waking: overWaking,
      frames_over_1ms_other: overOther,
    };
  }

  /** Stops observing and closes the schedstat file; again is a no-op. */
  close(): void {
    this.observer.disconnect();
    this.runQueue.close();
  }

  private gcIn(f: number): boolean {
    const sp = this.spans;
    for (let k = 0; k < sp.length; k += 2) if (sp[k] < this.end[f] && sp[k + 1] > this.start[f]) return true;
    return false;
  }
}
