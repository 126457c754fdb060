/**
 * Frame pacing: the first worker is awake when a frame's jobs come, so the game's thread
 * does not have to wake it.
 *
 * Waking a sleeping worker takes an Atomics.notify, and V8's notify and wait share one lock
 * across the process: when a thread holding it has lost its core (threads outnumbering
 * cores, or other processes on the machine), the notify sleeps until that thread runs
 * again, milliseconds in the middle of a frame (EngineStats.wakes). A game calls
 * beginFrame at a steady cadence, so the time of the next frame is known ahead: the lead
 * worker (block 0) dozes through a window around it, in short timed waits that no other
 * thread has to end, and looks as awake and idle as a spinning worker does. It looks at
 * its siblings before every job as well, so the dispatcher leaves their wake-ups to it,
 * busy or not (Dispatcher.someoneAwake), unless its job head stands still for a
 * millisecond (Dispatcher.checkLead). Outside the window it sleeps as any worker does,
 * until the window opens.
 *
 * Off by default (EngineOptions.framePacing). A spin through the window instead took a
 * core from the game thread.
 */
import { stampAt } from './clock.js';
import { HF_FRAME_AT, HF_FRAME_PERIOD } from './layout.js';

/** Frames closer together than this, ms, are catch-up steps: they do not move the cadence. */
const MIN_PERIOD_MS = 2;
/** A gap between frames longer than this, ms, ends the cadence (a pause, a menu). */
export const MAX_PERIOD_MS = 250;
/** The worker block that paces itself (the lead). */
export const LEAD_BLOCK = 0;
/** How far ahead of the next frame's expected start the lead wakes, ms (at most a quarter of the period). */
const EARLY_MS = 4;
/** How long after a frame begins the lead stays awake for its jobs, ms (at most a quarter of the period). */
const ACTIVE_MS = 3;

/** The main thread's side: stamps each beginFrame and keeps the smoothed period between them. */
export class FrameCadence {
  /** The header as float64 words (HF_*). */
  private readonly hf: Float64Array;
  /** [now, the last frame's start], ms: in an array so no double crosses a call. */
  private readonly t = new Float64Array(2);

  constructor(hf: Float64Array) {
    this.hf = hf;
  }

  /** True while frames come at a steady cadence: the lead worker paces itself to them. */
  steady(): boolean {
    return this.hf[HF_FRAME_PERIOD] > 0;
  }

  /** At each beginFrame. Allocation-free. */
  mark(): void {
    const t = this.t;
    const hf = this.hf;
    stampAt(t, 0);
    const gap = t[0] - t[1];
    if (gap < MIN_PERIOD_MS) return;
    hf[HF_FRAME_PERIOD] = nextPeriod(hf[HF_FRAME_PERIOD], gap);
    // ORDERING: a plain store; a worker reading a stale or torn time only misplaces one doze.
    hf[HF_FRAME_AT] = t[0];
    t[1] = t[0];
  }
}

/**
 * The smoothed period after a gap of `gap` ms between two frames (at least MIN_PERIOD_MS;
 * closer frames are catch-up steps and are not counted). A frame a little late or early
 * moves the estimate by an eighth of the difference; a gap over MAX_PERIOD_MS ends the
 * cadence (0), and the next gap starts a new one.
 */
export function nextPeriod(period: number, gap: number): number {
  if (gap > MAX_PERIOD_MS) return 0;
  return period > 0 ? period + (gap - period) * 0.125 : gap;
}

/**
 * For the lead worker at time `now`: 0 if it should doze now (a frame is due or has just
 * begun), otherwise the ms until the next window opens (Infinity with no cadence).
 */
export function untilFrameWindow(hf: Float64Array, now: number): number {
  const period = hf[HF_FRAME_PERIOD];
  if (!(period > 0)) return Infinity;
  const since = now - hf[HF_FRAME_AT];
  const quarter = period * 0.25;
  const opens = period - (EARLY_MS < quarter ? EARLY_MS : quarter);
  if (since < 0 || since < (ACTIVE_MS < quarter ? ACTIVE_MS : quarter)) return 0;
  if (since < opens) return opens - since;
  // Late frames are waited for until two periods have passed; then the cadence is lost.
  return since < 2 * period ? 0 : Infinity;
}
