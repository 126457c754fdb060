/**
 * `framejobs/kinds/rapier`: ready-made Rapier kinds over your own static colliders.
 * Needs `@dimforge/rapier3d-compat` installed (an optional peer dependency of the
 * package, loaded only by this subpath).
 *
 *   import { kinds, packStaticWorld } from 'framejobs/kinds/rapier';
 *   const staticWorld = { colliders: [{ shape: 'box', halfExtents: [5, 1, 5], position: [0, -1, 0] }] };
 *   const engine = await EngineCore.start({ kinds, workerFactory, config: { staticWorld } });
 *   // or, one copy for every thread: shared: { staticWorld: packStaticWorld(staticWorld) }
 *   // worker entry: serveWorker(kinds), the same `kinds` from this module
 *
 * Or by URL (plain Node): `kindModules: [import.meta.resolve('framejobs/kinds/rapier')]`.
 *
 * Each thread builds one Rapier world of those colliders at init and never steps it;
 * `physics.predict` casts a ball along its trajectory, `physics.raycasts` casts a batch
 * of segments. `definePhysicsKinds` makes the same kinds over a scene you build yourself.
 */

export { predictKind, raycastsKind, kinds, definePhysicsKinds, sceneFromEnv, MAX_RAYS, RAY_IN_FLOATS, RAY_BYTES } from './kinds.js';
export { PREDICT_PARAMS, PREDICT_RESULTS, RAYCAST_PARAMS, RAYCAST_RESULTS } from './kinds.js';
/** Indices of the raycast kind's results: rays blocked, rays clear. */
export { RAYS_BLOCKED, RAYS_CLEAR } from './kinds.js';
export type { SceneSource, PhysicsKindsOptions, PhysicsKinds } from './kinds.js';
export { StaticScene, initRapier, addStaticColliders } from './scene.js';
/**
 * Indices of the predict kind's results in `ResultView.values` (hit, step, time, then
 * the point x, y, z from PREDICT_X, the normal from PREDICT_NX), or read them by name
 * with `predictKind.readResults(r.values)`.
 */
export { PREDICT_HIT, PREDICT_STEP, PREDICT_TIME, PREDICT_X, PREDICT_NX } from './scene.js';
export { checkStaticWorld, packStaticWorld, unpackStaticWorld, gridColliders, STATIC_WORLD_KEY, DEFAULT_GRAVITY, DEFAULT_STEP_SECONDS, MAX_COLLIDERS } from './static-world.js';
/** Shape codes of the packed layout (packStaticWorld). */
export { SHAPE_BOX, SHAPE_BALL, SHAPE_CAPSULE, SHAPE_CYLINDER, SHAPE_TRIMESH } from './static-world.js';
export type {
  StaticWorld,
  StaticCollider,
  BoxCollider,
  BallCollider,
  CapsuleCollider,
  CylinderCollider,
  TrimeshCollider,
  Placement,
  Vec3,
  Quat,
  GridColliderOptions,
  CheckedStaticWorld,
  CheckedCollider,
} from './static-world.js';
