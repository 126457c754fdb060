/**
 * A Rapier world of static colliders for queries, one per thread: built once when a
 * worker starts and never stepped by a job. Jobs query it (shape casts, ray casts);
 * nothing a job does changes it, so the answer to a job depends only on its parameters.
 * No snapshot is ever restored per job: World.restoreSnapshot leaks wasm memory on every
 * call (dimforge/rapier#990).
 *
 * Rapier's JS API returns fresh small objects from queries; those are the only
 * allocations on these paths and they belong to Rapier, not the engine.
 */
import RAPIER from '@dimforge/rapier3d-compat';
import { EngineError } from '../../engine/errors.js';
import { checkStaticWorld, SHAPE_BALL, SHAPE_BOX, SHAPE_CAPSULE, SHAPE_CYLINDER, type CheckedCollider, type StaticWorld } from './static-world.js';

let ready: Promise<void> | null = null;

/** Loads Rapier's wasm once per thread; every other call returns the same promise. */
export function initRapier(): Promise<void> {
  ready ??= RAPIER.init();
  return ready;
}

function descOf(c: CheckedCollider): RAPIER.ColliderDesc {
  const d = c.dims;
  let desc: RAPIER.ColliderDesc;
  switch (c.shape) {
    case SHAPE_BOX:
      desc = RAPIER.ColliderDesc.cuboid(d[0], d[1], d[2]);
      break;
    case SHAPE_BALL:
      desc = RAPIER.ColliderDesc.ball(d[0]);
      break;
    case SHAPE_CAPSULE:
      desc = RAPIER.ColliderDesc.capsule(d[0], d[1]);
      break;
    case SHAPE_CYLINDER:
      desc = RAPIER.ColliderDesc.cylinder(d[0], d[1]);
      break;
    default: {
      const mesh = RAPIER.ColliderDesc.trimesh(c.vertices!, c.indices!);
      // Rapier refuses a degenerate mesh (every triangle flat) by returning nothing.
      if (!mesh) throw new EngineError('INVALID_OPTION', 'trimesh collider: Rapier refused the mesh');
      desc = mesh;
    }
  }
  desc.setTranslation(c.position[0], c.position[1], c.position[2]);
  if (c.rotation) desc.setRotation({ x: c.rotation[0], y: c.rotation[1], z: c.rotation[2], w: c.rotation[3] });
  return desc;
}

/**
 * Adds `world`'s colliders (a StaticWorld or its checked form) to a Rapier world, in
 * order, as fixed colliders with no body. Returns how many. Rapier must be initialised
 * (initRapier). Throws INVALID_OPTION for a bad description.
 */
export function addStaticColliders(world: RAPIER.World, colliders: StaticWorld): number {
  const checked = checkStaticWorld(colliders);
  for (const c of checked.colliders) world.createCollider(descOf(c));
  return checked.colliders.length;
}

/** Results of StaticScene.predict, in the order the predict kind returns them: hit, step, time, x, y, z, nx, ny, nz. */
export const PREDICT_HIT = 0;
export const PREDICT_STEP = 1;
export const PREDICT_TIME = 2;
export const PREDICT_X = 3;
export const PREDICT_NX = 6;

/**
 * A static world's colliders in a Rapier world, for queries. One per thread (the Rapier
 * kinds of a thread share it); every method only on the thread that built it. Rapier
 * must be initialised first (initRapier). Throws INVALID_OPTION for a bad description.
 */
export class StaticScene {
  readonly world: RAPIER.World;
  readonly colliders: number;
  /** Gravity the predictions integrate, and their step length in seconds. */
  readonly gravityX: number;
  readonly gravityY: number;
  readonly gravityZ: number;
  readonly stepSeconds: number;
  private readonly pos = { x: 0, y: 0, z: 0 };
  private readonly vel = { x: 0, y: 0, z: 0 };
  private readonly rot = { x: 0, y: 0, z: 0, w: 1 };
  private readonly ray: RAPIER.Ray;
  private ball: RAPIER.Ball | null = null;
  private ballRadius = -1;

  constructor(description: StaticWorld) {
    const checked = checkStaticWorld(description);
    [this.gravityX, this.gravityY, this.gravityZ] = checked.gravity;
    this.stepSeconds = checked.stepSeconds;
    this.world = new RAPIER.World({ x: checked.gravity[0], y: checked.gravity[1], z: checked.gravity[2] });
    for (const c of checked.colliders) this.world.createCollider(descOf(c));
    this.colliders = checked.colliders.length;
    // One step with no bodies moves nothing; it brings the query structures up to date.
    this.world.step();
    this.ray = new RAPIER.Ray({ x: 0, y: 0, z: 0 }, { x: 1, y: 0, z: 0 });
  }

  /**
   * Where a ball of `radius` thrown from p with velocity v first touches a collider
   * within `steps` fixed steps of `dt` seconds, integrating gravity the way Rapier does
   * (velocity first, then position). Writes hit, step, time, point, normal to out
   * (PREDICT_*); with no hit, hit 0, step and time -1, the point where the ball ends.
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
    const gx = this.gravityX, gy = this.gravityY, gz = this.gravityZ;
    out[PREDICT_HIT] = 0;
    out[PREDICT_STEP] = -1;
    out[PREDICT_TIME] = -1;
    for (let k = 3; k < 9; k++) out[k] = 0;
    for (let i = 0; i < steps; i++) {
      // Only axes with gravity change: adding 0 would turn a velocity of -0 into +0.
      if (gx !== 0) vx += gx * dt;
      if (gy !== 0) vy += gy * dt;
      if (gz !== 0) vz += gz * dt;
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

  /** Fraction in [0, 1) of the segment a->b before the first collider, or -1 if the segment is clear. */
  segment(ax: number, ay: number, az: number, bx: number, by: number, bz: number): number {
    const r = this.ray;
    r.origin.x = ax; r.origin.y = ay; r.origin.z = az;
    r.dir.x = bx - ax; r.dir.y = by - ay; r.dir.z = bz - az;
    const hit = this.world.castRay(r, 1, true);
    return hit === null ? -1 : hit.timeOfImpact;
  }

  /** Frees the Rapier world; the scene is unusable afterwards. */
  free(): void {
    this.world.free();
  }
}
