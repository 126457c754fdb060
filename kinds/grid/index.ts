/**
 * `framejobs/kinds/grid`: ready-made grid kinds over your own navigation grid.
 *
 *   import { navGridFromWalkable, pathKind, kinds } from 'framejobs/kinds/grid';
 *   const grid = navGridFromWalkable(width, height, walkable);     // truthy = walkable
 *   const engine = await EngineCore.start({ kinds, workerFactory, shared: { nav: grid.sab } });
 *   // worker entry: serveWorker(kinds), the same `kinds` from this module
 *
 * Or by URL, with no worker entry of your own (plain Node): this module exports `kinds`,
 * so `kindModules: [import.meta.resolve('framejobs/kinds/grid')]`.
 *
 * `path` finds one shortest path (A*, or jump-point search with the same costs) and
 * writes its turning points into its arena slice; `distances` fills a window with
 * distances to a target. Both read the grid from `shared.nav`; write its cells before
 * the engine starts and never after. `AStar` and `DistanceField` run the same searches
 * directly on the calling thread. Nothing here loads Rapier.
 */

export { NavGrid, createNavGrid, navGridFromWalkable, navGridFromMovingAi, navBytesFor, wallRects } from './nav-grid.js';
/** Cell values: CELL_FREE (0) is walkable; the grid kinds treat any other value as a wall, and the builders write CELL_WALL (1). */
export { CELL_FREE, CELL_WALL } from './nav-grid.js';
/** The nav buffer's layout: its magic number, header size and field offsets in bytes, and the largest side. */
export { NAV_MAGIC, NAV_HEADER_BYTES, NAV_OFF_MAGIC, NAV_OFF_WIDTH, NAV_OFF_HEIGHT, NAV_OFF_SEED, NAV_MAX_SIDE } from './nav-grid.js';
export { AStar, DistanceField } from './astar.js';
export type { SearchInfo } from './astar.js';
export { SearchScratch, defaultOpenCapacity } from './search-scratch.js';
export { pathKind, distancesKind, kinds, navOf, NAV_SHARED_KEY, MAX_WAYPOINTS, MAX_FIELD_SIDE } from './kinds.js';
export { PATH_PARAMS, PATH_RESULTS, DISTANCES_PARAMS, DISTANCES_RESULTS } from './kinds.js';
/** Values of the path kind's `moves` parameter. */
export { PATH_MOVES_4, PATH_MOVES_8, PATH_MOVES_8_JUMP } from './kinds.js';
/**
 * Indices of the path kind's results in `ResultView.values` (or read them by name with
 * `pathKind.readResults(r.values)`): found, cost, cells, waypoints, expanded, truncated,
 * totalWaypoints.
 */
export { PATH_FOUND, PATH_COST, PATH_CELLS, PATH_WAYPOINTS, PATH_EXPANDED, PATH_TRUNCATED, PATH_TOTAL_WAYPOINTS } from './kinds.js';
/** Indices of the distances kind's results: cells reached, largest distance. */
export { FIELD_REACHED, FIELD_MAX } from './kinds.js';
