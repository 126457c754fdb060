/**
 * The game's clock: one fixed step of 1/30 s, and the two ways a long-running loop on
 * the main thread gives the event loop back. Everything above the engine that paces
 * itself against the 30 Hz loop (the game, the stress modes, the panel, the tools)
 * reads these, so a frame is 33.3 ms in one place.
 */

/** Fixed steps per second. */
export const FRAME_HZ = 30;
/** One fixed step, ms (33.3). */
export const FRAME_MS = 1000 / FRAME_HZ;
/** One fixed step, s: the physics time step. */
export const FRAME_S = 1 / FRAME_HZ;

/** Resolves after `ms` (a timer: other tasks, timers and I/O run meanwhile). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves on the next turn of Node's event loop, after pending I/O (worker messages:
 * exits, respawns) but without a timer's minimum delay. Node only (setImmediate).
 */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Sleeps until performance.now() reaches `t` (at once if it has); resolves with the time then. */
export async function sleepUntil(t: number): Promise<number> {
  const now = performance.now();
  if (now >= t) return now;
  await sleep(t - now);
  return performance.now();
}
