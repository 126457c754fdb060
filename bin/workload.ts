/**
 * `framejobs/stress`: what a workload module for `npx framejobs stress --kinds K
 * --workload W` exports. The stress test submits `kind` with parameters that
 * `params` makes for job i from a seeded random source, grades the run like the
 * built-in report, and (with `check`) verifies every result.
 *
 *   // workload.js
 *   import { defineWorkload } from 'framejobs/stress';
 *   export const workload = defineWorkload({
 *     kind: 'distance',
 *     params(i, random, out) { for (let k = 0; k < 4; k++) out[k] = random() * 100; },
 *     check(p, v) { return Math.abs(v[0] - Math.hypot(p[2] - p[0], p[3] - p[1])) < 1e-9; },
 *   });
 */

/** A workload for the stress test of a user's own kinds. */
export interface StressWorkload {
  /** Name of the kind to submit, as declared in the kinds module. */
  readonly kind: string;
  /**
   * Fills `out` (the kind's parameter count long) with job i's parameters. `random`
   * returns numbers in [0, 1) from the run's seed, so a run is repeatable.
   */
  params(i: number, random: () => number, out: Float64Array): void;
  /** Verifies one result; false counts as a failed job the run did not expect. */
  check?(params: Float64Array, values: Float64Array): boolean;
  /** Jobs submitted per 30 Hz frame in frame mode. Default 64. */
  readonly jobsPerFrame?: number;
  /** Frames a job may wait to start in frame mode before it is expired. Default 4. */
  readonly deadlineFrames?: number;
  /** Handed to the engine (and every kind's init) as EngineOptions.shared. */
  readonly shared?: Readonly<Record<string, SharedArrayBuffer>>;
  /** Handed to the engine (and every kind's init) as EngineOptions.config. */
  readonly config?: Readonly<Record<string, unknown>>;
}

/** Returns its argument, typed: a workload module's `export const workload = defineWorkload({...})`. */
export function defineWorkload(w: StressWorkload): StressWorkload {
  return w;
}
