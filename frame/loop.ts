/**
 * A fixed-timestep loop: the game advances in steps of exactly 1/hz seconds whatever
 * the wall clock does. Elapsed time goes into an accumulator; each tick runs as many
 * whole steps as it holds, at most `maxCatchUp`, and the remainder gives the render
 * interpolation alpha. Two guards stop a long pause (a breakpoint, a GC, a hidden tab)
 * from spiralling into ever longer catch-up: the elapsed time of one tick is clamped
 * to `maxElapsedMs`, and time still owed after `maxCatchUp` steps is dropped and counted.
 *
 * Threads: main thread only (the one that owns the game state).
 */
import { EngineError, shownValue } from '../engine/errors.js';

/** Float slack for step arithmetic: 3 * (1000 / 30) must count as 100 ms. */
const EPS_MS = 1e-6;

/** FixedLoop's step rate, catch-up limit and pause clamp. */
export interface FixedLoopOptions {
  /** Steps per second. Default 30. */
  hz?: number;
  /** Most steps run by one tick. Default 3. */
  maxCatchUp?: number;
  /** Longest elapsed time one tick accepts, in ms; more is clamped. Default 250. */
  maxElapsedMs?: number;
}

/**
 * A fixed-timestep loop: steps the game at a fixed rate from an accumulator, with at most
 * a few catch-up steps per tick and an interpolation alpha for rendering.
 */
export class FixedLoop {
  readonly hz: number;
  readonly stepMs: number;
  readonly maxCatchUp: number;
  readonly maxElapsedMs: number;
  /** Steps run so far; the frame number of the next step. */
  frame = 0;
  /** Render interpolation between the last two steps, in [0, 1). */
  alpha = 0;
  /** Time thrown away by the clamp and the catch-up limit, ms. */
  droppedMs = 0;
  /** Ticks that hit the catch-up limit. */
  cappedTicks = 0;
  ticks = 0;
  private acc = 0;
  private readonly stepFn: (frame: number) => void;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private last = 0;
  private stopAt = Infinity;
  private done: (() => void) | null = null;
  private readonly now: () => number;
  /** True while the game's step runs. */
  private stepping = false;

  /** `step` is called once per fixed step with that step's frame number. */
  constructor(step: (frame: number) => void, opts: FixedLoopOptions = {}, now: () => number = () => performance.now()) {
    const bad = (m: string): never => {
      throw new EngineError('INVALID_OPTION', m);
    };
    const show = (v: unknown): string => (shownValue(v));
    if (typeof step !== 'function') bad(`loop step must be a function, got ${typeof step}`);
    if (typeof now !== 'function') bad(`loop clock must be a function, got ${typeof now}`);
    if (typeof opts !== 'object' || opts === null) bad(`loop options must be an object, got ${shownValue(opts)}`);
    // Each option is read once; a getter that throws is a bad option.
    let hz: unknown;
    let maxCatchUp: unknown;
    let maxElapsedMs: unknown;
    try {
      hz = opts.hz ?? 30;
      maxCatchUp = opts.maxCatchUp ?? 3;
      maxElapsedMs = opts.maxElapsedMs ?? 250;
    } catch {
      bad('loop options could not be read');
    }
    if (typeof hz !== 'number' || !(hz > 0 && hz <= 1000)) bad(`loop hz must be in (0, 1000], got ${shownValue(hz)}`);
    if (typeof maxCatchUp !== 'number' || !Number.isInteger(maxCatchUp) || maxCatchUp < 1) bad(`loop maxCatchUp must be a positive integer, got ${shownValue(maxCatchUp)}`);
    if (typeof maxElapsedMs !== 'number' || !(maxElapsedMs > 0)) bad(`loop maxElapsedMs must be > 0, got ${shownValue(maxElapsedMs)}`);
    this.hz = hz as number;
    this.stepMs = 1000 / (hz as number);
    this.maxCatchUp = maxCatchUp as number;
    this.maxElapsedMs = maxElapsedMs as number;
    this.stepFn = step;
    this.now = now;
  }

  /**
   * Feeds `elapsedMs` of wall time and runs the steps it pays for. Returns steps run. A
   * step that throws ends the tick: its frame counts as run, and the error is thrown.
   * Throws INVALID_ARGUMENT for an elapsed time that is not a number, REENTRANT_CALL
   * from inside a step.
   */
  advance(elapsedMs: number): number {
    this.notStepping('advance');
    if (typeof elapsedMs !== 'number') throw new EngineError('INVALID_ARGUMENT', `advance() needs a number of milliseconds, got ${typeof elapsedMs}`);
    this.ticks++;
    let e = elapsedMs > 0 ? elapsedMs : 0;
    if (e > this.maxElapsedMs) {
      this.droppedMs += e - this.maxElapsedMs;
      e = this.maxElapsedMs;
    }
    this.acc += e;
    let n = 0;
    while (this.acc + EPS_MS >= this.stepMs && n < this.maxCatchUp && this.frame < this.stopAt) {
      this.acc -= this.stepMs;
      n++;
      this.step();
    }
    if (this.acc < 0) this.acc = 0;
    if (this.acc + EPS_MS >= this.stepMs) {
      if (n === this.maxCatchUp) this.cappedTicks++;
      // Keep the fraction so alpha stays meaningful; the whole steps are forgiven.
      const owed = Math.min(this.acc, Math.floor((this.acc + EPS_MS) / this.stepMs) * this.stepMs);
      this.droppedMs += owed;
      this.acc -= owed;
    }
    this.alpha = this.acc / this.stepMs;
    return n;
  }

  /** Runs one step now, outside the clock (tests, --fast runs). Same errors as advance. */
  stepOnce(): void {
    this.notStepping('stepOnce');
    this.step();
  }

  /** One step: the frame counts as run whether or not the game's step returns. */
  private step(): void {
    const f = this.frame++;
    this.stepping = true;
    try {
      this.stepFn(f);
    } finally {
      this.stepping = false;
    }
  }

  /** The clock's reading; one that is not a time would stall the loop (NaN) or break its arithmetic. */
  private clock(): number {
    const t: unknown = this.now();
    if (typeof t !== 'number' || t !== t) throw new EngineError('INVALID_OPTION', `the loop's clock returned ${shownValue(t)}, not a time`);
    return t;
  }

  /** A step that drives the loop itself would run frames inside a frame. */
  private notStepping(method: string): void {
    if (this.stepping) throw new EngineError('REENTRANT_CALL', `FixedLoop.${method}() was called from inside a step`);
  }

  /**
   * Runs in real time until `frames` steps have run (or stop() is called). Ticks are
   * scheduled for the next step boundary with setTimeout, never a busy wait.
   */
  run(frames: number): Promise<void> {
    this.notStepping('run');
    if (typeof frames !== 'number' || !(frames >= 0) || (frames !== Infinity && !Number.isInteger(frames))) {
      throw new EngineError('INVALID_ARGUMENT', `run() needs a whole number of frames >= 0 (or Infinity), got ${shownValue(frames)}`);
    }
    if (this.timer !== null) throw new EngineError('ALREADY_STARTED', 'loop is already running');
    this.last = this.clock();
    this.stopAt = this.frame + frames;
    this.acc = 0;
    return new Promise<void>((resolve, reject) => {
      this.done = resolve;
      const tick = (): void => {
        let wait: number;
        try {
          const t = this.clock();
          this.advance(t - this.last);
          this.last = t;
          // stop() from inside a step has settled the run already.
          if (this.done === null) return;
          if (this.frame >= this.stopAt) {
            this.stop();
            return;
          }
          wait = Math.max(0, this.stepMs - this.acc - (this.clock() - t));
        } catch (error) {
          // A tick runs from a timer: an error from a step or the clock would escape to
          // the host, and this promise would never settle. It stops the loop and rejects.
          this.done = null;
          this.stop();
          reject(error);
          return;
        }
        this.timer = setTimeout(tick, wait);
      };
      this.timer = setTimeout(tick, this.stepMs);
    });
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.stopAt = Infinity;
    const d = this.done;
    this.done = null;
    d?.();
  }
}
