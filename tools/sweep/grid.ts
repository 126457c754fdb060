/**
 * The tuning grid: which AI parameters a sweep tries, how many seeded runs evaluate each
 * point, and how task i maps to a point, a run and the params of one `sweep.evaluate`
 * job. Tasks are point-major: task i is run (i % runs) of point floor(i / runs).
 *
 * Seeds: run r of every point plays the same scenario, seed taskSeed(sweepSeed, r)
 * (common random numbers: points are compared on equal terms, so a difference between
 * two points is the parameters', not the dice's). Run r plays level r % levels.
 */
import { createHash } from 'node:crypto';
import { taskSeed } from '../../engine/batch.js';
import {
  P_AGENTS, P_FRAMES, P_GOAL_RADIUS, P_LEVEL, P_PREDICTIONS, P_PREDICT_STEPS, P_REPLAN, P_SEED, P_SPEED, SWEEP_LEVELS,
} from './kinds.js';

/**
 * Bump when anything that changes a result line changes: the game's rules, the scoring in
 * kinds.ts, the line format. A checkpoint from another version is refused.
 */
export const SWEEP_CODE_VERSION = 1;

export type GridName = 'full' | 'quick' | 'tiny';
export const GRID_NAMES: readonly GridName[] = ['full', 'quick', 'tiny'];

export interface GridSpec {
  readonly name: GridName;
  /** Agents re-plan toward their goal every this many frames (plus jitter). */
  readonly replanFrames: readonly number[];
  /** Agent speed, cells per frame. */
  readonly speed: readonly number[];
  /** New goals are picked within this many cells. */
  readonly goalRadius: readonly number[];
  /** Impact prediction horizon, fixed steps. */
  readonly predictSteps: readonly number[];
  /** Seeded runs per point. */
  readonly runs: number;
  readonly frames: number;
  readonly agents: number;
  readonly predictionsPerSecond: number;
}

export const GRIDS: Readonly<Record<GridName, GridSpec>> = {
  full: {
    name: 'full',
    replanFrames: [30, 60, 90, 150],
    speed: [0.08, 0.12, 0.18, 0.25],
    goalRadius: [12, 24, 40],
    predictSteps: [15, 30, 60],
    runs: 3,
    frames: 300,
    agents: 48,
    predictionsPerSecond: 60,
  },
  quick: {
    name: 'quick',
    replanFrames: [30, 90],
    speed: [0.1, 0.2],
    goalRadius: [15, 30],
    predictSteps: [20, 60],
    runs: 2,
    frames: 200,
    agents: 32,
    predictionsPerSecond: 60,
  },
  tiny: {
    name: 'tiny',
    replanFrames: [30, 90],
    speed: [0.15, 0.25],
    goalRadius: [12],
    predictSteps: [30],
    runs: 3,
    frames: 60,
    agents: 12,
    predictionsPerSecond: 60,
  },
};

/** One point of the grid. */
export interface GridPoint {
  readonly replanFrames: number;
  readonly speed: number;
  readonly goalRadius: number;
  readonly predictSteps: number;
}

export class SweepPlan {
  readonly grid: GridSpec;
  readonly seed: number;
  readonly points: number;
  readonly tasks: number;
  /** SHA-256 (hex) of everything that decides the result file: grid, seed, levels, code version. */
  readonly hash: string;
  private readonly dims: readonly (readonly number[])[];

  constructor(grid: GridSpec, seed: number) {
    this.grid = grid;
    this.seed = seed;
    this.dims = [grid.replanFrames, grid.speed, grid.goalRadius, grid.predictSteps];
    this.points = this.dims.reduce((n, d) => n * d.length, 1);
    this.tasks = this.points * grid.runs;
    this.hash = createHash('sha256')
      .update(JSON.stringify({ format: 'framejobs-sweep', code: SWEEP_CODE_VERSION, grid, seed, levels: SWEEP_LEVELS }))
      .digest('hex');
  }

  point(p: number): GridPoint {
    // The last dimension varies fastest.
    const idx = [0, 0, 0, 0];
    let rest = p;
    for (let d = this.dims.length - 1; d >= 0; d--) {
      idx[d] = rest % this.dims[d].length;
      rest = Math.floor(rest / this.dims[d].length);
    }
    return {
      replanFrames: this.dims[0][idx[0]],
      speed: this.dims[1][idx[1]],
      goalRadius: this.dims[2][idx[2]],
      predictSteps: this.dims[3][idx[3]],
    };
  }

  runSeed(run: number): number {
    return taskSeed(this.seed, run) | 0;
  }

  level(run: number): number {
    return run % SWEEP_LEVELS.length;
  }

  /** The sweep.evaluate params of task i. */
  params(i: number): number[] {
    const g = this.grid;
    const run = i % g.runs;
    const pt = this.point(Math.floor(i / g.runs));
    const out = new Array<number>(9);
    out[P_LEVEL] = this.level(run);
    out[P_SEED] = this.runSeed(run);
    out[P_FRAMES] = g.frames;
    out[P_AGENTS] = g.agents;
    out[P_REPLAN] = pt.replanFrames;
    out[P_SPEED] = pt.speed;
    out[P_GOAL_RADIUS] = pt.goalRadius;
    out[P_PREDICT_STEPS] = pt.predictSteps;
    out[P_PREDICTIONS] = g.predictionsPerSecond;
    return out;
  }
}
