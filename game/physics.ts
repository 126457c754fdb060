/**
 * Rapier on both sides of the thread boundary, for the demo game.
 *
 * - Workers (and the inline runner): the level's static colliders in a StaticScene
 *   (framejobs/kinds/rapier), built once per thread from the nav grid by `sceneFor` and
 *   queried by the game's physics kinds.
 * - `GamePhysics` (main thread only): the game's world with the same static colliders
 *   plus dynamic crates and projectiles, stepped once per fixed frame.
 *
 * Coordinates: cell (x, y) of the nav grid covers world X in [x, x+1), Z in [y, y+1);
 * Y is up; the floor's top is Y = 0 and walls are WALL_HEIGHT tall.
 */
import RAPIER from '@dimforge/rapier3d-compat';
import type { NavGrid } from '../kinds/grid/nav-grid.js';
import { initRapier, StaticScene, addStaticColliders } from '../kinds/rapier/scene.js';
import { gridColliders, type StaticWorld } from '../kinds/rapier/static-world.js';
import { mulberry32 } from './random.js';
import { FRAME_S } from './time.js';

/** Rapier's wasm loader and the predict results live in kinds/rapier; the game's callers take them from here. */
export { initRapier, PREDICT_HIT, PREDICT_STEP, PREDICT_TIME, PREDICT_X, PREDICT_NX } from '../kinds/rapier/scene.js';

export type Rapier = typeof RAPIER;
export const WALL_HEIGHT = 2;
export const GRAVITY_Y = -9.81;

/**
 * The level's static world: the floor, then one box per wall rectangle (wallRects
 * order), so the game's world and every worker's scene hold the same colliders in the
 * same order. Predictions step at the game's frame rate.
 */
export function levelWorld(grid: NavGrid): StaticWorld {
  return { colliders: gridColliders(grid, { wallHeight: WALL_HEIGHT }), gravity: [0, GRAVITY_Y, 0], stepSeconds: FRAME_S };
}

/** Adds the level's static colliders to `world`; returns how many. */
export function addStaticLevel(world: RAPIER.World, grid: NavGrid): number {
  return addStaticColliders(world, levelWorld(grid));
}

const scenes = new WeakMap<SharedArrayBuffer, StaticScene>();

/**
 * The thread's scene for a nav buffer, built on first use. The game's two physics
 * kinds on a thread share it because it is read-only after construction.
 */
export async function sceneFor(grid: NavGrid): Promise<StaticScene> {
  await initRapier();
  let s = scenes.get(grid.sab);
  if (!s) {
    s = new StaticScene(levelWorld(grid));
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
