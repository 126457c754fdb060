/**
 * The panel's live game: a generated level on the shared nav grid, agents that walk
 * paths the engine's `path` jobs find, and a Rapier world of crates and projectiles whose
 * landing points the engine's `physics.predict` jobs forecast. Everything it asks the
 * engine for is frame-tagged with a deadline, and what comes back is applied when it
 * arrives: an agent waits in place until its path lands.
 *
 * Threads: the page's main thread only. Per-frame work allocates nothing of ours
 * (Rapier's pose reads allocate small objects of its own).
 */
import type { ResultView, SubmitOptions } from '../engine/api.js';
import { Outcome } from '../engine/outcome.js';
import { generateLevel, type NavGrid } from '../game/grid.js';
import { MAX_WAYPOINTS, PATH_FOUND, PATH_WAYPOINTS } from '../game/kinds.js';
import { GamePhysics, POSE_STRIDE, PREDICT_HIT, PREDICT_X } from '../game/physics.js';
import { mulberry32 } from '../game/random.js';
import type { FrameClient, PanelEngine } from './clients.js';
import { CLIENT_GAME, clientTag } from './clients.js';

export interface SceneOptions {
  width?: number;
  height?: number;
  seed?: number;
  agents?: number;
  crates?: number;
  projectiles?: number;
}

/** Waypoints kept per agent (paths in this small level are short). */
const WAYPOINTS = 128;
/** Cells per frame an agent walks. */
const SPEED = 0.2;
/** Frames a path or prediction job may wait before the engine expires it. */
const DEADLINE_FRAMES = 4;
/** Tag data of prediction jobs: projectile index + this. */
const PREDICT_BASE = 1 << 20;

/** Needs the engine's arena to read path waypoints. */
export interface SceneEngine extends PanelEngine {
  readonly arenaI32: Int32Array;
}

export class PanelScene implements FrameClient {
  readonly grid: NavGrid;
  readonly physics: GamePhysics;
  readonly agentCount: number;
  /** Agent positions in cells (continuous). */
  readonly ax: Float64Array;
  readonly ay: Float64Array;
  readonly path: Int32Array;
  readonly pathLen: Int32Array;
  readonly pathPos: Int32Array;
  /** Job id of the path request in flight, or -1. */
  readonly pending: Float64Array;
  /** Predicted landing point per projectile (x, z) and whether one is known. */
  readonly predicted: Float64Array;
  readonly predictedKnown: Uint8Array;
  pathsFound = 0;
  pathsMissed = 0;
  private readonly rnd: () => number;
  private readonly params = new Float64Array(8);
  private readonly submitOpts: SubmitOptions = { deadlineFrames: DEADLINE_FRAMES };
  private engine: SceneEngine | null = null;
  private pathKind = -1;
  private predictKind = -1;
  private nextLaunch = 15;
  private nextProjectile = 0;
  /** Submits paused (while a test owns the engine); the world keeps running. */
  paused = false;

  constructor(opts: SceneOptions = {}) {
    const seed = opts.seed ?? 7;
    this.grid = generateLevel({ width: opts.width ?? 64, height: opts.height ?? 40, roomSize: 16, seed });
    this.physics = new GamePhysics(this.grid, { crates: opts.crates ?? 14, projectiles: opts.projectiles ?? 4, seed });
    this.rnd = mulberry32(seed ^ 0x51ab);
    const n = (this.agentCount = opts.agents ?? 24);
    this.ax = new Float64Array(n);
    this.ay = new Float64Array(n);
    this.path = new Int32Array(n * WAYPOINTS);
    this.pathLen = new Int32Array(n);
    this.pathPos = new Int32Array(n);
    this.pending = new Float64Array(n).fill(-1);
    this.predicted = new Float64Array(this.physics.projectileCount * 2);
    this.predictedKnown = new Uint8Array(this.physics.projectileCount);
    for (let i = 0; i < n; i++) {
      const c = this.randomFreeCell();
      this.ax[i] = (c % this.grid.width) + 0.5;
      this.ay[i] = Math.floor(c / this.grid.width) + 0.5;
    }
  }

  /** Bind to a (new) engine: kind ids change with it, and nothing is pending on it yet. */
  attach(engine: SceneEngine): void {
    this.engine = engine;
    this.pathKind = engine.kindId('path');
    this.predictKind = engine.kindId('physics.predict');
    this.pending.fill(-1);
  }

  private randomFreeCell(): number {
    const g = this.grid;
    for (;;) {
      const x = 1 + Math.floor(this.rnd() * (g.width - 2));
      const y = 1 + Math.floor(this.rnd() * (g.height - 2));
      if (g.isFree(x, y)) return y * g.width + x;
    }
  }

  onFrame(engine: PanelEngine, frame: number): void {
    const e = this.engine;
    if (e === null || e !== (engine as unknown)) return;
    const g = this.grid;
    for (let i = 0; i < this.agentCount; i++) {
      if (this.pathPos[i] < this.pathLen[i]) {
        this.walk(i);
      } else if (this.pending[i] < 0 && !this.paused) {
        const goal = this.randomFreeCell();
        const p = this.params;
        p[0] = Math.floor(this.ax[i]);
        p[1] = Math.floor(this.ay[i]);
        p[2] = goal % g.width;
        p[3] = Math.floor(goal / g.width);
        p[4] = WAYPOINTS;
        p[5] = 1;
        p[6] = g.width * g.height;
        const id = e.submit(this.pathKind, p.subarray(0, 7), clientTag(CLIENT_GAME, i), this.submitOpts);
        if (id >= 0) this.pending[i] = id;
      }
    }
    if (frame >= this.nextLaunch && !this.paused) {
      this.launch(e);
      this.nextLaunch = frame + 20;
    }
    this.physics.step();
  }

  private walk(i: number): void {
    const g = this.grid;
    const cell = this.path[i * WAYPOINTS + this.pathPos[i]];
    const tx = (cell % g.width) + 0.5;
    const ty = Math.floor(cell / g.width) + 0.5;
    const dx = tx - this.ax[i];
    const dy = ty - this.ay[i];
    const d = Math.hypot(dx, dy);
    if (d <= SPEED) {
      this.ax[i] = tx;
      this.ay[i] = ty;
      this.pathPos[i]++;
    } else {
      this.ax[i] += (dx / d) * SPEED;
      this.ay[i] += (dy / d) * SPEED;
    }
  }

  /** Throws a projectile from a random agent and asks the engine where it will land. */
  private launch(e: SceneEngine): void {
    const k = this.nextProjectile;
    this.nextProjectile = (k + 1) % this.physics.projectileCount;
    const a = Math.floor(this.rnd() * this.agentCount);
    const x = this.ax[a], z = this.ay[a], y = 1.2;
    const ang = this.rnd() * Math.PI * 2;
    const speed = 4 + this.rnd() * 5;
    const vx = Math.cos(ang) * speed, vz = Math.sin(ang) * speed, vy = 3 + this.rnd() * 3;
    this.physics.launch(k, x, y, z, vx, vy, vz);
    this.predictedKnown[k] = 0;
    const p = this.params;
    p[0] = x; p[1] = y; p[2] = z;
    p[3] = vx; p[4] = vy; p[5] = vz;
    p[6] = this.physics.projectileRadius;
    p[7] = 90;
    e.submit(this.predictKind, p, clientTag(CLIENT_GAME, PREDICT_BASE + k), this.submitOpts);
  }

  onResult(r: ResultView, data: number): void {
    const e = this.engine;
    if (e === null) return;
    if (data >= PREDICT_BASE) {
      const k = data - PREDICT_BASE;
      if (r.status === Outcome.Done && r.values[PREDICT_HIT] === 1 && k < this.predictedKnown.length) {
        this.predicted[2 * k] = r.values[PREDICT_X];
        this.predicted[2 * k + 1] = r.values[PREDICT_X + 2];
        this.predictedKnown[k] = 1;
      }
      return;
    }
    const i = data;
    if (i >= this.agentCount || this.pending[i] !== r.jobId) return;
    this.pending[i] = -1;
    if (r.status !== Outcome.Done || r.values[PATH_FOUND] !== 1) {
      this.pathsMissed++;
      return;
    }
    const n = Math.min(r.values[PATH_WAYPOINTS], WAYPOINTS, MAX_WAYPOINTS);
    const src = r.arenaOffset >> 2;
    const base = i * WAYPOINTS;
    for (let k = 0; k < n; k++) this.path[base + k] = e.arenaI32[src + k];
    this.pathLen[i] = n;
    // The first waypoint is the start cell, where the agent already stands.
    this.pathPos[i] = n > 1 ? 1 : n;
    this.pathsFound++;
  }

  /** Draws the level top-down (world X right, world Z down) into a 2D canvas. */
  draw(ctx: CanvasRenderingContext2D, w: number, h: number): void {
    const g = this.grid;
    const s = Math.min(w / g.width, h / g.height);
    ctx.fillStyle = '#0c0f13';
    ctx.fillRect(0, 0, w, h);
    ctx.fillStyle = '#3b4656';
    for (let y = 0; y < g.height; y++) {
      for (let x = 0; x < g.width; x++) if (g.cells[y * g.width + x] !== 0) ctx.fillRect(x * s, y * s, s, s);
    }
    ctx.strokeStyle = 'rgba(74,163,255,0.45)';
    ctx.lineWidth = Math.max(1, s * 0.15);
    for (let i = 0; i < this.agentCount; i++) {
      const len = this.pathLen[i];
      if (this.pathPos[i] >= len) continue;
      ctx.beginPath();
      ctx.moveTo(this.ax[i] * s, this.ay[i] * s);
      for (let k = this.pathPos[i]; k < len; k++) {
        const c = this.path[i * WAYPOINTS + k];
        ctx.lineTo(((c % g.width) + 0.5) * s, (Math.floor(c / g.width) + 0.5) * s);
      }
      ctx.stroke();
    }
    const poses = this.physics.poses;
    ctx.fillStyle = '#d59a4a';
    for (let b = 0; b < this.physics.crateCount; b++) {
      const o = b * POSE_STRIDE;
      ctx.fillRect((poses[o] - 0.35) * s, (poses[o + 2] - 0.35) * s, 0.7 * s, 0.7 * s);
    }
    for (let k = 0; k < this.physics.projectileCount; k++) {
      const o = (this.physics.crateCount + k) * POSE_STRIDE;
      if (poses[o + 1] < -10) continue;
      ctx.fillStyle = '#f0524f';
      ctx.beginPath();
      ctx.arc(poses[o] * s, poses[o + 2] * s, Math.max(2, s * 0.3), 0, Math.PI * 2);
      ctx.fill();
      if (this.predictedKnown[k]) {
        const px = this.predicted[2 * k] * s, pz = this.predicted[2 * k + 1] * s;
        ctx.strokeStyle = '#f0524f';
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(px - s * 0.5, pz - s * 0.5); ctx.lineTo(px + s * 0.5, pz + s * 0.5);
        ctx.moveTo(px + s * 0.5, pz - s * 0.5); ctx.lineTo(px - s * 0.5, pz + s * 0.5);
        ctx.stroke();
      }
    }
    ctx.fillStyle = '#4aa3ff';
    for (let i = 0; i < this.agentCount; i++) {
      ctx.beginPath();
      ctx.arc(this.ax[i] * s, this.ay[i] * s, Math.max(2, s * 0.35), 0, Math.PI * 2);
      ctx.fill();
    }
  }

  free(): void {
    this.physics.free();
  }
}
