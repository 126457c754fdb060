/**
 * The demo game's job kinds: the ready-made grid kinds (`path`, `distances`, from
 * kinds/grid) over the level's nav grid, and the Rapier kinds (`physics.predict`,
 * `physics.raycasts`, from kinds/rapier) over a scene each thread builds from that same
 * nav grid (the level's floor and walls, game/physics.ts). The engine imports this
 * module on the main thread and in every worker; everything it needs comes through
 * `EngineOptions.shared.nav`.
 *
 * Arena payloads: kinds/grid/kinds.ts (path, distances) and kinds/rapier/kinds.ts
 * (physics.raycasts).
 */
import { distancesKind, navOf, pathKind } from '../kinds/grid/kinds.js';
import { definePhysicsKinds } from '../kinds/rapier/kinds.js';
import { sceneFor } from './physics.js';

/** The grid kinds' limits and result indices, for the game's callers. */
export {
  pathKind,
  distancesKind,
  MAX_WAYPOINTS,
  MAX_FIELD_SIDE,
  PATH_MOVES_4,
  PATH_MOVES_8,
  PATH_MOVES_8_JUMP,
  PATH_FOUND,
  PATH_COST,
  PATH_CELLS,
  PATH_WAYPOINTS,
  PATH_EXPANDED,
  PATH_TRUNCATED,
  PATH_TOTAL_WAYPOINTS,
  FIELD_REACHED,
  FIELD_MAX,
} from '../kinds/grid/kinds.js';
/** The raycast kind's limits, input layout and result indices. */
export { MAX_RAYS, RAY_IN_FLOATS, RAYS_BLOCKED, RAYS_CLEAR } from '../kinds/rapier/kinds.js';

/** The Rapier kinds over the level: every thread's scene is the floor and walls of `shared.nav`. */
export const { predictKind, raycastsKind } = definePhysicsKinds({ scene: (env) => sceneFor(navOf(env)) });

export const kinds = [pathKind, distancesKind, predictKind, raycastsKind];
