/**
 * Rapier on both sides of the thread boundary.
 *
 * - `PredictionScene` (any thread, one per thread): a Rapier world holding only the
 *   level's static colliders, built once when a worker starts and never stepped.
 *   Jobs query it (shape casts, ray casts); nothing a job does changes it, so the
 *   answer to a job depends only on its parameters. No snapshot is ever restored per
 *   job: World.restoreSnapshot leaks wasm memory on every call (dimforge/rapier#990).
 * - `GamePhysics` (main thread only): the game's world with the same static colliders
 *   plus dynamic crates and projectiles, stepped once per fixed frame.
 *
 * Coordinates: cell (x, y) of the nav grid covers world X in [x, x+1), Z in [y, y+1);
 * Y is up; the floor's top is Y = 0 and walls are WALL_HEIGHT tall.
 *
 * Rapier's JS API returns fresh small objects from queries and pose reads; those are
 * the only allocations on these paths and they belong to Rapier, not the engine.
 */
import RAPIER from '@dimforge/rapier3d-compat';
import { type NavGrid, wallRects } from './grid.js';
import { mulberry32 } from './random.js';
import { FRAME_S } from './time.js';

export type Rapier = typeof RAPIER;
export const WALL_HEIGHT = 2;
export const GRAVITY_Y = -9.81;

let ready: Promise<void> | null = null;

/** Loads Rapier's wasm once per thread. */
export function initRapier(): Promise<void> {
  ready ??= RAPIER.init();
  return ready;
}

/** Adds the floor and one cuboid per wall rectangle, in wallRects order, to `world`. */
export function addStaticLevel(world: RAPIER.World, grid: NavGrid): number {
  const floor = RAPIER.ColliderDesc.cuboid(grid.width / 2, 0.5, grid.height / 2).setTranslation(grid.width / 2, -0.5, grid.height / 2);
  world.createCollider(floor);
  const rects = wallRects(grid);
  for (let i = 0; i < rects.length; i += 4) {
    const x = rects[i], y = rects[i + 1], w = rects[i + 2], h = rects[i + 3];
    const desc = RAPIER.ColliderDesc.cuboid(w / 2, WALL_HEIGHT / 2, h / 2).setTranslation(x + w / 2, WALL_HEIGHT / 2, y + h / 2);
    world.createCollider(desc);
  }
  return 1 + rects.length / 4;
}

/** Results of PredictionScene.predict, in the order the `physics.predict` kind returns them. */
export const PREDICT_HIT = 0;
export const PREDICT_STEP = 1;
export const PREDICT_TIME = 2;
export const PREDICT_X = 3;
export const PREDICT_NX = 6;

/**
 * A static copy of the level for queries. One per thread (kinds share it through
 * sceneFor). Every method may be called only by the thread that built it.
 */
export class PredictionScene {
  readonly world: RAPIER.World;
  readonly colliders: number;
  private readonly pos = { x: 0, y: 0, z: 0 };
  private readonly vel = { x: 0, y: 0, z: 0 };
  private readonly rot = { x: 0, y: 0, z: 0, w: 1 };
  private readonly ray: RAPIER.Ray;
  private ball: RAPIER.Ball | null = null;
  private ballRadius = -1;

  constructor(grid: NavGrid) {
    this.world = new RAPIER.World({ x: 0, y: GRAVITY_Y, z: 0 });
    this.colliders = addStaticLevel(this.world, grid);
    // One step with no bodies moves nothing; it brings the query structures up to date.
    this.world.step();
    this.ray = new RAPIER.Ray({ x: 0, y: 0, z: 0 }, { x: 1, y: 0, z: 0 });
  }

  /**
   * Where a ball of `radius` thrown from p with velocity v first touches the level
   * within `steps` fixed steps of `dt`, integrating gravity the way Rapier does
   * (velocity first, then position). Writes hit, step, time, point, normal to out.
   */
  predict(px: number, py: number, pz: number, vx: number, vy: number, vz: number, radius: number, steps: number, dt: number, out: Float64Array): void {
    if (radius !== this.ballRadius) {
      // A new radius costs one wasm shape; projectiles of one kind share a radius.
      this.ball = new RAPIER.Ball(radius);
      this.ballRadius = radius;
    }
    const ball = this.ball!;
    const pos = this.pos;
    const vel = this.vel;
    out[PREDICT_HIT] = 0;
    out[PREDICT_STEP] = -1;
    out[PREDICT_TIME] = -1;
    for (let k = 3; k < 9; k++) out[k] = 0;
    for (let i = 0; i < steps; i++) {
      vy += GRAVITY_Y * dt;
      pos.x = px; pos.y = py; pos.z = pz;
      vel.x = vx; vel.y = vy; vel.z = vz;
      const hit = this.world.castShape(pos, this.rot, vel, ball, 0, dt, true);
      if (hit !== null) {
        const t = hit.time_of_impact;
        out[PREDICT_HIT] = 1;
        out[PREDICT_STEP] = i;
        out[PREDICT_TIME] = i * dt + t;
        out[PREDICT_X] = px + vx * t;
        out[PREDICT_X + 1] = py + vy * t;
        out[PREDICT_X + 2] = pz + vz * t;
        out[PREDICT_NX] = hit.normal2.x;
        out[PREDICT_NX + 1] = hit.normal2.y;
        out[PREDICT_NX + 2] = hit.normal2.z;
        return;
      }
      px += vx * dt;
      py += vy * dt;
      pz += vz * dt;
    }
    out[PREDICT_X] = px;
    out[PREDICT_X + 1] = py;
    out[PREDICT_X + 2] = pz;
  }

  /** Fraction in [0, 1) of the segment a->b before the first static collider, or -1 if the segment is clear. */
  segment(ax: number, ay: number, az: number, bx: number, by: number, bz: number): number {
    const r = this.ray;
    r.origin.x = ax; r.origin.y = ay; r.origin.z = az;
    r.dir.x = bx - ax; r.dir.y = by - ay; r.dir.z = bz - az;
    const hit = this.world.castRay(r, 1, true);
    return hit === null ? -1 : hit.timeOfImpact;
  }
}

const scenes = new WeakMap<SharedArrayBuffer, PredictionScene>();

/**
 * The thread's scene for a nav buffer, built on first use. Kinds on the same thread
 * share it because it is read-only after construction.
 */
export async function sceneFor(grid: NavGrid): Promise<PredictionScene> {
  await initRapier();
  let s = scenes.get(grid.sab);
  if (!s) {
    s = new PredictionScene(grid);
    scenes.set(grid.sab, s);
  }
  return s;
}

/** Pose record per body in GamePhysics.poses: x, y, z, qx, qy, qz, qw. */
export const POSE_STRIDE = 7;

export interface GamePhysicsOptions {
  crates: number;
  projectiles: number;
  seed: number;
}

/**
 * The game's Rapier world: the level, `crates` dynamic boxes and a fixed pool of
 * `projectiles` balls that are relaunched rather than created and destroyed, so the
 * body set (and with it Rapier's internal ordering) never changes during a run.
 * Main thread only.
 */
export class GamePhysics {
  readonly world: RAPIER.World;
  readonly bodies: RAPIER.RigidBody[] = [];
  readonly crateCount: number;
  readonly projectileCount: number;
  /** Body poses after the last step, POSE_STRIDE floats per body: crates first, then projectiles. */
  readonly poses: Float64Array;
  readonly projectileRadius = 0.15;
  private readonly v = { x: 0, y: 0, z: 0 };

  constructor(grid: NavGrid, opts: GamePhysicsOptions) {
    this.world = new RAPIER.World({ x: 0, y: GRAVITY_Y, z: 0 });
    this.world.timestep = FRAME_S;
    addStaticLevel(this.world, grid);
    this.crateCount = opts.crates;
    this.projectileCount = opts.projectiles;
    const rnd = mulberry32(opts.seed ^ 0x0c4a7e);
    for (let i = 0; i < opts.crates; i++) {
      let x = 0, y = 0;
      do {
        x = 1 + Math.floor(rnd() * (grid.width - 2));
        y = 1 + Math.floor(rnd() * (grid.height - 2));
      } while (!grid.isFree(x, y));
      const body = this.world.createRigidBody(RAPIER.RigidBodyDesc.dynamic().setTranslation(x + 0.5, 0.4 + (i % 3) * 0.9, y + 0.5));
      this.world.createCollider(RAPIER.ColliderDesc.cuboid(0.35, 0.35, 0.35).setDensity(0.5), body);
      this.bodies.push(body);
    }
    for (let i = 0; i < opts.projectiles; i++) {
      // Parked far below the floor and asleep until launched.
      const body = this.world.createRigidBody(
        RAPIER.RigidBodyDesc.dynamic().setTranslation(-10 - i, -50, -10).setCcdEnabled(true).setGravityScale(0).setCanSleep(true),
      );
      this.world.createCollider(RAPIER.ColliderDesc.ball(this.projectileRadius).setDensity(2), body);
      body.sleep();
      this.bodies.push(body);
    }
    this.poses = new Float64Array(this.bodies.length * POSE_STRIDE);
    this.readPoses();
  }

  /** Relaunches projectile `i` from (x, y, z) with velocity (vx, vy, vz). */
  launch(i: number, x: number, y: number, z: number, vx: number, vy: number, vz: number): void {
    const body = this.bodies[this.crateCount + i];
    const v = this.v;
    v.x = x; v.y = y; v.z = z;
    body.setTranslation(v, true);
    v.x = vx; v.y = vy; v.z = vz;
    body.setLinvel(v, true);
    v.x = 0; v.y = 0; v.z = 0;
    body.setAngvel(v, true);
    body.setGravityScale(1, true);
  }

  /** Parks projectile `i` out of the level. */
  park(i: number): void {
    const body = this.bodies[this.crateCount + i];
    const v = this.v;
    v.x = -10 - i; v.y = -50; v.z = -10;
    body.setTranslation(v, false);
    v.x = 0; v.y = 0; v.z = 0;
    body.setLinvel(v, false);
    body.setAngvel(v, false);
    body.setGravityScale(0, false);
    body.sleep();
  }

  step(): void {
    this.world.step();
    this.readPoses();
  }

  private readPoses(): void {
    const p = this.poses;
    for (let i = 0; i < this.bodies.length; i++) {
      const b = this.bodies[i];
      const t = b.translation();
      const r = b.rotation();
      const o = i * POSE_STRIDE;
      p[o] = t.x; p[o + 1] = t.y; p[o + 2] = t.z;
      p[o + 3] = r.x; p[o + 4] = r.y; p[o + 5] = r.z; p[o + 6] = r.w;
    }
  }

  /** Linear velocity of body `i` into out[0..3). */
  velocity(i: number, out: Float64Array): void {
    const v = this.bodies[i].linvel();
    out[0] = v.x; out[1] = v.y; out[2] = v.z;
  }

  free(): void {
    this.world.free();
  }
}
