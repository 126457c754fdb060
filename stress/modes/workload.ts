/**
 * What one 30 Hz frame of a game asks of the engine, for the frame and chaos modes:
 * agents re-planning paths on the level's shared nav grid, a distance field around the
 * player, projectile predictions and line-of-sight ray batches against the Rapier
 * scene, plus a sprinkle of the seed's COMPUTE_HEAVY jobs. Results are applied to
 * per-agent state, and each job is tagged with its agent so results route back. The
 * kinds are the package's ready-made ones (game-kinds.ts), fed as a user feeds them:
 * the level through `shared.nav`, its walls and floor through `shared.staticWorld`.
 *
 * Per frame (a fixed mix, one job per agent in turn):
 *   24 local paths (~55 us each, measured alone) + 1 cross-level path (~2 ms) + 1 distance
 *   window 32x32 (~0.4 ms) + 8 predictions of 30 steps (~0.15 ms) + 2 batches of 64
 *   rays (~0.25 ms) + 40 COMPUTE_HEAVY (~10 us) = 76 jobs and about 6 ms of handler
 *   time: a tenth of two cores on a quiet machine, leaving room for the main thread,
 *   for the slowdown of four workers sharing two cores, and for chaos recoveries.
 *
 * Main thread only. submitFrame and apply allocate nothing.
 */
import type { ResultView, SubmitOptions } from '../../engine/api.js';
import type { EngineCore } from '../../engine/core.js';
import { builtModuleUrl } from '../../engine/paths.js';
import { generateLevel, type NavGrid } from '../../game/grid.js';
import { mulberry32 } from '../../game/random.js';
import { FRAME_S } from '../../game/time.js';
import { NAV_SHARED_KEY, PATH_FOUND, PATH_WAYPOINTS } from '../../kinds/grid/kinds.js';
import { RAY_IN_FLOATS } from '../../kinds/rapier/kinds.js';
import { PREDICT_HIT } from '../../kinds/rapier/scene.js';
import { gridColliders, packStaticWorld, STATIC_WORLD_KEY } from '../../kinds/rapier/static-world.js';
import { HEAVY_ITERATIONS, HEAVY_KIND } from './heavy.js';

/** Submits one job and records the answer (id or rejection code) in the run's ledger. */
export type SubmitFn = (kind: number, params: Float64Array, tag: number, opts?: SubmitOptions) => number;

export const LEVEL_SIDE = 256;
export const AGENTS = 400;
const LOCAL_PATHS = 24;
const LONG_PATHS = 1;
const PREDICTIONS = 8;
const RAY_BATCHES = 2;
const RAYS_PER_BATCH = 64;
const HEAVY = 40;
/** Frames a job may wait to start before it is useless to the game. */
export const DEADLINE_FRAMES = 4;

export class GameWorkload {
  readonly grid: NavGrid;
  readonly kindModules: URL[] = [builtModuleUrl(import.meta.url, './game-kinds.js')];
  readonly shared: Record<string, SharedArrayBuffer>;
  private readonly rnd: () => number;
  private readonly agentX = new Int32Array(AGENTS);
  private readonly agentY = new Int32Array(AGENTS);
  /** Applied results: next waypoint cell per agent, -1 if no path. */
  readonly nextCell = new Int32Array(AGENTS).fill(-1);
  readonly predictedHits = new Float64Array(AGENTS);
  // One parameter array per kind: submit wants exactly the kind's parameter count.
  private readonly pathP = new Float64Array(7);
  private readonly fieldP = new Float64Array(7);
  private readonly predictP = new Float64Array(8);
  private readonly raysP = new Float64Array(1);
  private readonly heavyP = new Float64Array(2);
  private readonly opts: SubmitOptions = { deadlineFrames: DEADLINE_FRAMES };
  private readonly rayOpts: SubmitOptions = { deadlineFrames: DEADLINE_FRAMES, arenaOffset: 0, arenaBytes: 0 };
  private nextAgent = 0;
  private kPath = -1;
  private kDistances = -1;
  private kPredict = -1;
  private kRays = -1;
  private kHeavy = -1;
  /** Sum of applied values, so the apply step does observable work. */
  checksum = 0;
  applied = 0;

  constructor(seed: number) {
    this.grid = generateLevel({ width: LEVEL_SIDE, height: LEVEL_SIDE, seed });
    // The level's walls and floor as boxes, one packed copy for every thread.
    const staticWorld = packStaticWorld({ colliders: gridColliders(this.grid), stepSeconds: FRAME_S });
    this.shared = { [NAV_SHARED_KEY]: this.grid.sab, [STATIC_WORLD_KEY]: staticWorld };
    this.rnd = mulberry32(seed ^ 0x5eed);
    for (let a = 0; a < AGENTS; a++) this.place(a);
  }

  /** Resolves kind ids once the engine has started. */
  bind(engine: EngineCore): void {
    this.kPath = engine.kindId('path');
    this.kDistances = engine.kindId('distances');
    this.kPredict = engine.kindId('physics.predict');
    this.kRays = engine.kindId('physics.raycasts');
    this.kHeavy = engine.kindId(HEAVY_KIND);
  }

  private place(a: number): void {
    for (;;) {
      const x = 1 + Math.floor(this.rnd() * (LEVEL_SIDE - 2));
      const y = 1 + Math.floor(this.rnd() * (LEVEL_SIDE - 2));
      if (this.grid.isFree(x, y)) {
        this.agentX[a] = x;
        this.agentY[a] = y;
        return;
      }
    }
  }

  private freeNear(cx: number, cy: number, radius: number, out: Float64Array, at: number): void {
    for (let tries = 0; tries < 32; tries++) {
      const x = Math.min(LEVEL_SIDE - 2, Math.max(1, cx + Math.floor((this.rnd() * 2 - 1) * radius)));
      const y = Math.min(LEVEL_SIDE - 2, Math.max(1, cy + Math.floor((this.rnd() * 2 - 1) * radius)));
      if (this.grid.isFree(x, y)) {
        out[at] = x;
        out[at + 1] = y;
        return;
      }
    }
    out[at] = cx;
    out[at + 1] = cy;
  }

  /** Submits this frame's jobs. Returns how many submits it made. */
  submitFrame(engine: EngineCore, submit: SubmitFn): number {
    let n = 0;
    let p = this.pathP;
    for (let i = 0; i < LOCAL_PATHS + LONG_PATHS; i++) {
      const a = this.nextAgent;
      this.nextAgent = (a + 1) % AGENTS;
      p[0] = this.agentX[a];
      p[1] = this.agentY[a];
      this.freeNear(this.agentX[a], this.agentY[a], i < LOCAL_PATHS ? 20 : LEVEL_SIDE, p, 2);
      p[4] = 64;
      p[5] = 1;
      p[6] = i < LOCAL_PATHS ? 4000 : 30000;
      submit(this.kPath, p, a, this.opts);
      n++;
    }
    {
      p = this.fieldP;
      const a = Math.floor(this.rnd() * AGENTS);
      p[0] = this.agentX[a];
      p[1] = this.agentY[a];
      p[2] = Math.max(0, this.agentX[a] - 16);
      p[3] = Math.max(0, this.agentY[a] - 16);
      p[4] = 32;
      p[5] = 32;
      p[6] = 1;
      submit(this.kDistances, p, a, this.opts);
      n++;
    }
    p = this.predictP;
    for (let i = 0; i < PREDICTIONS; i++) {
      const a = Math.floor(this.rnd() * AGENTS);
      p[0] = this.agentX[a] + 0.5;
      p[1] = 1;
      p[2] = this.agentY[a] + 0.5;
      p[3] = this.rnd() * 20 - 10;
      p[4] = 3;
      p[5] = this.rnd() * 20 - 10;
      p[6] = 0.3;
      p[7] = 30;
      submit(this.kPredict, p, a, this.opts);
      n++;
    }
    p = this.raysP;
    for (let i = 0; i < RAY_BATCHES; i++) {
      const a = Math.floor(this.rnd() * AGENTS);
      const bytes = 28 * RAYS_PER_BATCH;
      const off = engine.arenaAlloc(bytes);
      if (off < 0) continue;
      const f = engine.arenaF32;
      const base = off >> 2;
      const ax = this.agentX[a] + 0.5;
      const az = this.agentY[a] + 0.5;
      for (let r = 0; r < RAYS_PER_BATCH; r++) {
        const o = base + r * RAY_IN_FLOATS;
        const b = AGENTS > 1 ? (a + 1 + r) % AGENTS : a;
        f[o] = ax;
        f[o + 1] = 1;
        f[o + 2] = az;
        f[o + 3] = this.agentX[b] + 0.5;
        f[o + 4] = 1;
        f[o + 5] = this.agentY[b] + 0.5;
      }
      p[0] = RAYS_PER_BATCH;
      this.rayOpts.arenaOffset = off;
      this.rayOpts.arenaBytes = bytes;
      submit(this.kRays, p, a, this.rayOpts);
      n++;
    }
    p = this.heavyP;
    for (let i = 0; i < HEAVY; i++) {
      p[0] = (this.rnd() * 0x7fffffff) | 0;
      p[1] = HEAVY_ITERATIONS;
      submit(this.kHeavy, p, i, this.opts);
      n++;
    }
    return n;
  }

  /** Applies one completed result to the game state. Reads the arena before returning. */
  apply(r: ResultView, engine: EngineCore): void {
    this.applied++;
    const v = r.values;
    if (r.kind === this.kPath) {
      const a = r.tag;
      if (v[PATH_FOUND] === 1 && v[PATH_WAYPOINTS] > 1 && r.arenaBytes >= 8) {
        const cell = engine.arenaI32[(r.arenaOffset >> 2) + 1];
        this.nextCell[a] = cell;
        // Agents step to their next waypoint, so the next request starts from there.
        this.agentX[a] = cell % LEVEL_SIDE;
        this.agentY[a] = (cell / LEVEL_SIDE) | 0;
      } else {
        this.nextCell[a] = -1;
      }
      this.checksum += v[PATH_WAYPOINTS];
    } else if (r.kind === this.kPredict) {
      this.predictedHits[r.tag] = v[PREDICT_HIT];
      this.checksum += v[PREDICT_HIT];
    } else {
      for (let i = 0; i < r.valueCount; i++) this.checksum += v[i];
    }
  }
}
