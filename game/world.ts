/**
 * The game: agents wandering a tile arena between goals and re-planning their paths,
 * a beacon whose distance field alerts nearby agents, line-of-sight ray batches from
 * every agent to the beacon, and Rapier crates and projectiles whose impacts are
 * predicted. All of that work goes through the engine as frame-tagged jobs (FrameSync);
 * the Rapier world itself is stepped here, on the main thread, once per fixed step.
 *
 * Every decision comes from seeded generators and from results applied at fixed frames,
 * so in deterministic mode the per-frame state hash is the same with any worker count.
 *
 * Threads: main thread only.
 */
import { MAX_RESULTS } from '../engine/kind.js';
import { EngineError } from '../engine/errors.js';
import type { NavGrid } from './grid.js';
import {
  FIELD_REACHED, PATH_FOUND, PATH_MOVES_8_JUMP, PATH_WAYPOINTS, RAY_IN_FLOATS,
} from './kinds.js';
import { FrameSync, type ApplyPolicy, type Channel, type SyncEngine, type SyncMetrics } from '../frame/sync.js';
import type { KindRunner } from '../frame/kind-runner.js';
import { GamePhysics, POSE_STRIDE, PREDICT_HIT, PREDICT_TIME, PREDICT_X } from './physics.js';
import { mulberry32At } from './random.js';
import { FRAME_HZ } from './time.js';

export interface GameOptions {
  agents?: number;
  seed?: number;
  policy?: ApplyPolicy;
  /** Deterministic apply delay in frames (1 or 2). Default 2. */
  applyAfterFrames?: number;
  /** bestEffort max result age in frames. Default 2. */
  maxAgeFrames?: number;
  crates?: number;
  projectiles?: number;
  /** physics.predict jobs per second at 30 Hz. Default 200. */
  predictionsPerSecond?: number;
  /** Agents re-plan their current goal every this many frames (plus jitter). Default 90. */
  replanFrames?: number;
  /** Goals are picked within this many cells. Default 40. */
  goalRadius?: number;
  /** Agent speed in cells per frame. Default 0.12. */
  speed?: number;
  /** Waypoints per path result. Default 64. */
  maxWaypoints?: number;
  /** Agents per line-of-sight ray batch. Default 64. */
  raysPerBatch?: number;
  /** Impact prediction horizon in fixed steps (1-600). Default 60. */
  predictSteps?: number;
}

/** A path search gives up after expanding this many cells (a goal walled off costs no more). */
const MAX_EXPANDED = 40_000;
/** The beacon's distance field covers this many cells square around it. */
const FIELD_SIDE = 64;
/** Agents within this field distance of the beacon are alerted. */
const ALERT_DISTANCE = 24;
/** The beacon moves, and its field is recomputed, every this many frames. */
const BEACON_FRAMES = 90;
/** Each ray batch is cast again every this many frames (batches take turns). */
const RAY_FRAMES = 15;
/** Frames a projectile flies before it is parked for a later launch. */
const PROJECTILE_LIFE = 75;

/**
 * FNV-1a over 32-bit words (a quarter of the steps of the byte-wise hash), continuing
 * from `h`. The state arrays are all a multiple of 4 bytes long.
 */
export function fnv1a(words: Int32Array, h = 0x811c9dc5): number {
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 0x01000193);
  return h >>> 0;
}

export class GameWorld {
  readonly grid: NavGrid;
  readonly sync: FrameSync;
  readonly physics: GamePhysics;
  readonly agentCount: number;
  /** x, y per agent in cell units (cell centres at .5). Hashed. */
  readonly pos: Float64Array;
  /** Per agent: goal cell, last cell centre reached, path length and index, next re-plan frame. Hashed. */
  readonly agentI32: Int32Array;
  /** Per agent flags: alerted by the beacon field, sees the beacon. Hashed. */
  readonly flags: Uint8Array;
  /** Per body: hit, time, x, z of the last applied impact prediction. Hashed. */
  readonly predicted: Float64Array;
  /** Waypoint cells, maxWaypoints per agent. */
  readonly paths: Int32Array;
  /** Beacon cell, frames. */
  beacon = -1;
  /** Hash of the state after the last step, and a running hash over every step's hash. */
  hash = 0;
  chain = 0x811c9dc5;
  frame = -1;
  readonly opts: Required<GameOptions>;
  private readonly rng: Uint32Array;
  private readonly mainRng = 0;
  private readonly pathCh: Channel;
  private readonly fieldCh: Channel;
  private readonly predictCh: Channel;
  private readonly raysCh: Channel;
  private readonly params = new Float64Array(11);
  private readonly vel = new Float64Array(3);
  private readonly projectileAge: Int32Array;
  private predictDebt = 0;
  private predictNext = 0;
  private nextProjectile = 0;
  private readonly rayBatches: number;
  private readonly hashViews: Int32Array[];

  // agentI32 field offsets (stride A_STRIDE).
  static readonly A_GOAL = 0;
  static readonly A_LAST = 1;
  static readonly A_LEN = 2;
  static readonly A_IDX = 3;
  static readonly A_REPLAN = 4;
  static readonly A_STRIDE = 5;

  constructor(grid: NavGrid, engine: SyncEngine, runner: KindRunner, options: GameOptions = {}) {
    const o: Required<GameOptions> = {
      agents: options.agents ?? 500,
      seed: options.seed ?? 1,
      policy: options.policy ?? 'deterministic',
      applyAfterFrames: options.applyAfterFrames ?? 2,
      maxAgeFrames: options.maxAgeFrames ?? 2,
      crates: options.crates ?? 48,
      projectiles: options.projectiles ?? 24,
      predictionsPerSecond: options.predictionsPerSecond ?? 200,
      replanFrames: options.replanFrames ?? 90,
      goalRadius: options.goalRadius ?? 40,
      speed: options.speed ?? 0.12,
      maxWaypoints: options.maxWaypoints ?? 64,
      raysPerBatch: options.raysPerBatch ?? 64,
      predictSteps: options.predictSteps ?? 60,
    };
    const bad = (m: string): never => {
      throw new EngineError('INVALID_OPTION', m);
    };
    if (!Number.isInteger(o.agents) || o.agents < 1 || o.agents > 100_000) bad(`agents must be an integer in [1, 100000], got ${o.agents}`);
    if (!Number.isInteger(o.seed)) bad(`seed must be an integer, got ${o.seed}`);
    if (!Number.isInteger(o.crates) || o.crates < 0) bad(`crates must be a non-negative integer`);
    if (!Number.isInteger(o.projectiles) || o.projectiles < 1) bad(`projectiles must be a positive integer`);
    if (!(o.predictionsPerSecond >= 0)) bad(`predictionsPerSecond must be >= 0`);
    if (!Number.isInteger(o.replanFrames) || o.replanFrames < 1) bad(`replanFrames must be a positive integer`);
    if (!Number.isInteger(o.maxWaypoints) || o.maxWaypoints < 2 || o.maxWaypoints > 1024) bad(`maxWaypoints must be an integer in [2, 1024]`);
    if (!Number.isInteger(o.raysPerBatch) || o.raysPerBatch < 1 || o.raysPerBatch > 4096) bad(`raysPerBatch must be an integer in [1, 4096]`);
    if (!(o.speed > 0 && o.speed <= 1)) bad(`speed must be in (0, 1] cells per frame`);
    if (!Number.isInteger(o.predictSteps) || o.predictSteps < 1 || o.predictSteps > 600) bad(`predictSteps must be an integer in [1, 600]`);
    this.opts = o;
    this.grid = grid;
    const n = o.agents;
    this.agentCount = n;
    this.sync = new FrameSync(engine, runner, { policy: o.policy, applyAfterFrames: o.applyAfterFrames, maxAgeFrames: o.maxAgeFrames });
    this.physics = new GamePhysics(grid, { crates: o.crates, projectiles: o.projectiles, seed: o.seed });
    this.pos = new Float64Array(2 * n);
    this.agentI32 = new Int32Array(GameWorld.A_STRIDE * n);
    // Rounded up to whole words for the hash.
    this.flags = new Uint8Array(4 * Math.ceil((2 * n) / 4));
    this.paths = new Int32Array(o.maxWaypoints * n);
    this.predicted = new Float64Array(4 * this.physics.bodies.length);
    this.projectileAge = new Int32Array(o.projectiles).fill(-1);
    this.rng = new Uint32Array(n + 1);
    this.rayBatches = Math.ceil(n / o.raysPerBatch);

    this.pathCh = this.sync.addChannel({
      kind: 'path', keys: n, payloadBytes: 4 * o.maxWaypoints,
      apply: (ch, key) => this.applyPath(ch, key),
    });
    this.fieldCh = this.sync.addChannel({
      kind: 'distances', keys: 1, payloadBytes: 4 * FIELD_SIDE * FIELD_SIDE,
      apply: (ch, key) => this.applyField(ch, key),
    });
    this.predictCh = this.sync.addChannel({
      kind: 'physics.predict', keys: this.physics.bodies.length,
      apply: (ch, key) => this.applyPrediction(ch, key),
    });
    this.raysCh = this.sync.addChannel({
      kind: 'physics.raycasts', keys: this.rayBatches,
      payloadBytes: 28 * o.raysPerBatch, inputBytes: 24 * o.raysPerBatch,
      apply: (ch, key) => this.applyRays(ch, key),
    });

    // Seeded start: every agent on a free cell, each with its own generator so one
    // agent's choices never depend on how many draws another made.
    this.rng[this.mainRng] = o.seed >>> 0;
    const W = grid.width;
    for (let a = 0; a < n; a++) {
      this.rng[a + 1] = (Math.imul(o.seed, 0x9e3779b1) ^ Math.imul(a + 1, 0x85ebca6b)) >>> 0;
      let c = 0;
      do c = Math.floor(mulberry32At(this.rng, a + 1) * grid.cells.length);
      while (grid.cells[c] !== 0);
      const base = a * GameWorld.A_STRIDE;
      this.agentI32[base + GameWorld.A_GOAL] = -1;
      this.agentI32[base + GameWorld.A_LAST] = c;
      this.agentI32[base + GameWorld.A_REPLAN] = 1 + Math.floor(mulberry32At(this.rng, a + 1) * o.replanFrames);
      this.pos[2 * a] = (c % W) + 0.5;
      this.pos[2 * a + 1] = Math.floor(c / W) + 0.5;
    }
    this.hashViews = [
      new Int32Array(this.pos.buffer),
      this.agentI32,
      new Int32Array(this.flags.buffer),
      new Int32Array(this.predicted.buffer),
      new Int32Array(this.physics.poses.buffer),
    ];
  }

  /** One fixed step of the game at frame `frame`. */
  step(frame: number): void {
    this.frame = frame;
    this.sync.beginFrame(frame);
    this.updateBeacon(frame);
    this.updateAgents(frame);
    this.updateRays(frame);
    this.updateProjectiles(frame);
    this.updatePredictions();
    this.sync.flush();
    this.physics.step();
    // Results that finished while the world stepped: bestEffort ones apply this frame.
    this.sync.endFrame();
    let h = 0x811c9dc5;
    for (let i = 0; i < this.hashViews.length; i++) h = fnv1a(this.hashViews[i], h);
    h = Math.imul(h ^ this.beacon, 0x01000193) >>> 0;
    this.hash = h;
    this.chain = Math.imul(this.chain ^ h, 0x01000193) >>> 0;
  }

  /** Ends the run (closes the last frame's metrics). */
  finish(): SyncMetrics {
    this.sync.endRun();
    return this.sync.metrics();
  }

  private randomFree(r: number, cx: number, cy: number, radius: number): number {
    const g = this.grid;
    for (let t = 0; t < 8; t++) {
      const x = Math.floor(cx + (mulberry32At(this.rng, r) * 2 - 1) * radius);
      const y = Math.floor(cy + (mulberry32At(this.rng, r) * 2 - 1) * radius);
      if (g.isFree(x, y)) return y * g.width + x;
    }
    return -1;
  }

  private updateBeacon(frame: number): void {
    if (frame % BEACON_FRAMES !== 0) return;
    const g = this.grid;
    let c = -1;
    while (c < 0) c = this.randomFree(this.mainRng, g.width / 2, g.height / 2, g.width / 2);
    this.beacon = c;
    const tx = c % g.width, ty = Math.floor(c / g.width);
    const p = this.params;
    p[0] = tx; p[1] = ty;
    p[2] = Math.max(0, Math.min(g.width - FIELD_SIDE, tx - FIELD_SIDE / 2));
    p[3] = Math.max(0, Math.min(g.height - FIELD_SIDE, ty - FIELD_SIDE / 2));
    p[4] = FIELD_SIDE; p[5] = FIELD_SIDE; p[6] = 1;
    this.fieldWindowX = p[2];
    this.fieldWindowY = p[3];
    this.sync.request(this.fieldCh, 0, p, 7);
  }
  private fieldWindowX = 0;
  private fieldWindowY = 0;

  private applyField(ch: Channel, key: number): void {
    if (ch.values[key * MAX_RESULTS + FIELD_REACHED] <= 0) return;
    const W = this.grid.width;
    const f = ch.payloadF32;
    for (let a = 0; a < this.agentCount; a++) {
      const last = this.agentI32[a * GameWorld.A_STRIDE + GameWorld.A_LAST];
      const x = (last % W) - this.fieldWindowX;
      const y = Math.floor(last / W) - this.fieldWindowY;
      if (x < 0 || y < 0 || x >= FIELD_SIDE || y >= FIELD_SIDE) continue;
      const d = f[y * FIELD_SIDE + x];
      if (d >= 0 && d < ALERT_DISTANCE) this.flags[2 * a] = 1;
    }
  }

  private requestPath(a: number, goal: number): void {
    const g = this.grid;
    const W = g.width;
    const base = a * GameWorld.A_STRIDE;
    const from = this.agentI32[base + GameWorld.A_LAST];
    this.agentI32[base + GameWorld.A_GOAL] = goal;
    const p = this.params;
    p[0] = from % W; p[1] = Math.floor(from / W);
    p[2] = goal % W; p[3] = Math.floor(goal / W);
    p[4] = this.opts.maxWaypoints; p[5] = PATH_MOVES_8_JUMP; p[6] = MAX_EXPANDED;
    this.sync.request(this.pathCh, a, p, 7);
  }

  private applyPath(ch: Channel, a: number): void {
    const base = a * GameWorld.A_STRIDE;
    const v = a * MAX_RESULTS;
    if (ch.values[v + PATH_FOUND] !== 1) {
      // Unreachable (or too far for the expansion cap): pick another goal next frame.
      this.agentI32[base + GameWorld.A_GOAL] = -1;
      this.agentI32[base + GameWorld.A_LEN] = 0;
      this.agentI32[base + GameWorld.A_REPLAN] = this.frame + 1 + Math.floor(mulberry32At(this.rng, a + 1) * 15);
      return;
    }
    const k = ch.values[v + PATH_WAYPOINTS];
    const m = this.opts.maxWaypoints;
    const src = (a * ch.payloadBytes) >> 2;
    for (let i = 0; i < k; i++) this.paths[a * m + i] = ch.payloadI32[src + i];
    this.agentI32[base + GameWorld.A_LEN] = k;
    this.agentI32[base + GameWorld.A_IDX] = 0;
  }

  private updateAgents(frame: number): void {
    const g = this.grid;
    const W = g.width;
    const o = this.opts;
    const S = GameWorld.A_STRIDE;
    const ai = this.agentI32;
    for (let a = 0; a < this.agentCount; a++) {
      const base = a * S;
      const waiting = this.sync.pending(this.pathCh, a);
      const len = ai[base + GameWorld.A_LEN];
      let idx = ai[base + GameWorld.A_IDX];
      if (len > 0 && idx < len) {
        // Walk toward the current waypoint's centre.
        const c = this.paths[a * o.maxWaypoints + idx];
        const tx = (c % W) + 0.5, ty = Math.floor(c / W) + 0.5;
        const x = this.pos[2 * a], y = this.pos[2 * a + 1];
        const dx = tx - x, dy = ty - y;
        const d = Math.sqrt(dx * dx + dy * dy);
        if (d <= o.speed) {
          this.pos[2 * a] = tx;
          this.pos[2 * a + 1] = ty;
          ai[base + GameWorld.A_LAST] = c;
          ai[base + GameWorld.A_IDX] = ++idx;
        } else {
          this.pos[2 * a] = x + (dx / d) * o.speed;
          this.pos[2 * a + 1] = y + (dy / d) * o.speed;
        }
      }
      if (waiting) continue;
      const goal = ai[base + GameWorld.A_GOAL];
      const arrived = len > 0 && idx >= len;
      // Agents without a goal start at their re-plan frame, which spreads the first wave of requests.
      if (goal < 0 && frame < ai[base + GameWorld.A_REPLAN]) continue;
      if (goal < 0 || arrived) {
        const last = ai[base + GameWorld.A_LAST];
        let next: number;
        if (arrived && last !== goal) {
          next = goal; // a truncated path: continue from its end
        } else if (this.flags[2 * a] === 1 && this.beacon >= 0) {
          this.flags[2 * a] = 0;
          next = this.beacon;
        } else {
          next = this.randomFree(a + 1, (last % W) + 0.5, Math.floor(last / W) + 0.5, o.goalRadius);
        }
        ai[base + GameWorld.A_LEN] = 0;
        if (next >= 0) this.requestPath(a, next);
        ai[base + GameWorld.A_REPLAN] = frame + o.replanFrames + Math.floor(mulberry32At(this.rng, a + 1) * o.replanFrames);
      } else if (frame >= ai[base + GameWorld.A_REPLAN]) {
        // Periodic re-plan toward the same goal; the agent keeps walking its old path meanwhile.
        this.requestPath(a, goal);
        ai[base + GameWorld.A_REPLAN] = frame + o.replanFrames + Math.floor(mulberry32At(this.rng, a + 1) * o.replanFrames);
      }
    }
  }

  private updateRays(frame: number): void {
    if (this.beacon < 0) return;
    const W = this.grid.width;
    const bx = (this.beacon % W) + 0.5, by = Math.floor(this.beacon / W) + 0.5;
    const per = this.opts.raysPerBatch;
    const ch = this.raysCh;
    for (let b = frame % RAY_FRAMES; b < this.rayBatches; b += RAY_FRAMES) {
      const first = b * per;
      const count = Math.min(per, this.agentCount - first);
      const f = ch.inputF32;
      const base = (b * ch.inputBytes) >> 2;
      for (let i = 0; i < count; i++) {
        const a = first + i;
        const r = base + i * RAY_IN_FLOATS;
        f[r] = this.pos[2 * a]; f[r + 1] = 0.5; f[r + 2] = this.pos[2 * a + 1];
        f[r + 3] = bx; f[r + 4] = 0.5; f[r + 5] = by;
      }
      this.params[0] = count;
      this.sync.request(ch, b, this.params, 1);
    }
  }

  private applyRays(ch: Channel, b: number): void {
    const per = this.opts.raysPerBatch;
    const first = b * per;
    const count = Math.min(per, this.agentCount - first);
    const outBase = ((b * ch.payloadBytes) >> 2) + RAY_IN_FLOATS * count;
    for (let i = 0; i < count; i++) this.flags[2 * (first + i) + 1] = ch.payloadF32[outBase + i] < 0 ? 1 : 0;
  }

  private updateProjectiles(frame: number): void {
    const ph = this.physics;
    for (let i = 0; i < ph.projectileCount; i++) {
      if (this.projectileAge[i] >= 0 && frame - this.projectileAge[i] >= PROJECTILE_LIFE) {
        ph.park(i);
        this.projectileAge[i] = -1;
      }
    }
    // One launch every third frame, round robin over the pool.
    if (frame % 3 !== 0) return;
    const g = this.grid;
    const i = this.nextProjectile;
    this.nextProjectile = (i + 1) % ph.projectileCount;
    const c = this.randomFree(this.mainRng, g.width / 2, g.height / 2, g.width / 2);
    if (c < 0) return;
    const ang = mulberry32At(this.rng, this.mainRng) * Math.PI * 2;
    const sp = 6 + mulberry32At(this.rng, this.mainRng) * 8;
    ph.launch(i, (c % g.width) + 0.5, 1, Math.floor(c / g.width) + 0.5, Math.cos(ang) * sp, 2 + mulberry32At(this.rng, this.mainRng) * 4, Math.sin(ang) * sp);
    this.projectileAge[i] = frame;
  }

  private updatePredictions(): void {
    const ph = this.physics;
    this.predictDebt += this.opts.predictionsPerSecond / FRAME_HZ;
    // Round robin over live projectiles; parked ones have nothing to predict.
    let guard = ph.projectileCount;
    while (this.predictDebt >= 1 && guard-- > 0) {
      const i = this.predictNext;
      this.predictNext = (i + 1) % ph.projectileCount;
      if (this.projectileAge[i] < 0) continue;
      const b = ph.crateCount + i;
      this.predictDebt -= 1;
      const o = b * POSE_STRIDE;
      ph.velocity(b, this.vel);
      const p = this.params;
      p[0] = ph.poses[o]; p[1] = ph.poses[o + 1]; p[2] = ph.poses[o + 2];
      p[3] = this.vel[0]; p[4] = this.vel[1]; p[5] = this.vel[2];
      p[6] = ph.projectileRadius;
      p[7] = this.opts.predictSteps;
      this.sync.request(this.predictCh, b, p, 8);
    }
    if (this.predictDebt > 1) this.predictDebt = 1;
  }

  private applyPrediction(ch: Channel, b: number): void {
    const v = b * MAX_RESULTS;
    const o = 4 * b;
    this.predicted[o] = ch.values[v + PREDICT_HIT];
    this.predicted[o + 1] = ch.values[v + PREDICT_TIME];
    this.predicted[o + 2] = ch.values[v + PREDICT_X];
    this.predicted[o + 3] = ch.values[v + PREDICT_X + 2];
  }
}
