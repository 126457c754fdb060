/**
 * The grid kinds: `path` (one shortest path) and `distances` (a distance field over a
 * window), run over the nav grid shared as `EngineOptions.shared.nav`. Each kind's init
 * runs once per thread and builds what its jobs reuse (the search scratch sized for the
 * grid, the wall bitsets), so the run path allocates nothing. Every handler is a pure
 * function of its params, the nav grid and the arena bytes it was handed: the same job
 * gives the same bits on any thread.
 *
 * Arena payloads (offsets are ctx.arenaOffset, in bytes, 8-aligned; the engine sizes the
 * slice at submit from the params):
 *   path       out: i32 waypoint cells (y * width + x), start first   (4 * maxWaypoints bytes;
 *                   `waypoints` of them were written, `totalWaypoints` exist, `truncated`
 *                   is 1 when the slice held fewer)
 *   distances  out: f32 distance per window cell, row-major, -1 where   (4 * w * h bytes)
 *                   unreachable inside the window or off the grid
 */
import { EngineError } from '../../engine/errors.js';
import { defineKind, type ParamSpec, type WorkerEnv } from '../../engine/kind.js';
import { AStar, DistanceField } from './astar.js';
import { NavGrid } from './nav-grid.js';
import { SearchScratch } from './search-scratch.js';

/** The `EngineOptions.shared` key the grid kinds read their nav grid from. */
export const NAV_SHARED_KEY = 'nav';

/**
 * Largest waypoint list a path job may ask for (256 KiB of arena). A longer path comes
 * back truncated (PATH_TRUNCATED) with its true count; the caller walks to the last
 * waypoint and asks again from there.
 */
export const MAX_WAYPOINTS = 65536;
/** Largest distance-field window side. */
export const MAX_FIELD_SIDE = 256;

/** The thread's nav grid, from `env.shared.nav`. Throws INVALID_OPTION when it is missing. */
export function navOf(env: WorkerEnv): NavGrid {
  const sab = env.shared[NAV_SHARED_KEY];
  if (!sab) throw new EngineError('INVALID_OPTION', 'the grid kinds need EngineOptions.shared.nav, a nav buffer (createNavGrid, navGridFromWalkable or navGridFromMovingAi, then grid.sab)');
  return new NavGrid(sab);
}

/**
 * Nav grids are shared per thread by buffer. The path and distances kinds of one thread
 * share one search scratch (a thread runs one job at a time), so a thread's search
 * memory is that scratch and the path kind's neighbour bytes and wall bitsets: under 12
 * bytes per cell.
 */
const grids = new WeakMap<SharedArrayBuffer, { astar: AStar; field: DistanceField }>();
function searchFor(env: WorkerEnv): { astar: AStar; field: DistanceField } {
  const grid = navOf(env);
  let s = grids.get(grid.sab);
  if (!s) {
    const scratch = new SearchScratch(grid.width * grid.height);
    s = { astar: new AStar(grid, scratch), field: new DistanceField(grid, scratch) };
    warmUpSearch(s.astar, s.field);
    grids.set(grid.sab, s);
  }
  return s;
}

/** Most time a thread's init spends warming its searches up, ms. */
const WARM_UP_MS = 50;
const WARM_UP_SEARCHES = 96;

/**
 * Runs each search a few dozen times between fixed cells (a seeded sequence, so every
 * thread does the same) while the thread starts, within WARM_UP_MS: the searches are then
 * compiled before the first job. Without it a fresh worker's first path jobs run in the
 * interpreter while it compiles them, and on a machine with as many busy threads as cores
 * that compiling takes the core from the game loop's thread: the first frames of a game
 * run were the ones with engine time over 1 ms, the game's thread switched out mid-call.
 * Results are not kept; the scratch is generation-stamped, so nothing needs clearing.
 */
function warmUpSearch(astar: AStar, field: DistanceField): void {
  const grid = astar.grid;
  let seed = 0x2545f491;
  const next = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  // A free cell, or the last cell drawn when 64 draws found none (the search then ends at once).
  const free = (): number => {
    let c = 0;
    for (let k = 0; k < 64; k++) {
      c = next(grid.width * grid.height);
      if (grid.cells[c] === 0) break;
    }
    return c;
  };
  const out = new Float32Array(16 * 16);
  const end = performance.now() + WARM_UP_MS;
  for (let i = 0; i < WARM_UP_SEARCHES && performance.now() < end; i++) {
    const s = free(), g = free();
    const sx = s % grid.width, sy = (s / grid.width) | 0, gx = g % grid.width, gy = (g / grid.width) | 0;
    astar.searchJump(sx, sy, gx, gy, 20_000);
    if (i % 4 === 1) astar.search(sx, sy, gx, gy, true, 5_000);
    if (i % 4 === 3) astar.search(sx, sy, gx, gy, false, 5_000);
    if (i % 8 === 0) {
      const x0 = Math.max(0, gx - 8), y0 = Math.max(0, gy - 8);
      field.compute(gx, gy, x0, y0, Math.min(16, grid.width - x0), Math.min(16, grid.height - y0), i % 16 === 0, out, 0);
    }
  }
}

/** Path `moves`: 4-connected; 8-connected without corner cutting; the same with jump-point pruning (same costs, fewer heap operations). */
export const PATH_MOVES_4 = 0;
export const PATH_MOVES_8 = 1;
export const PATH_MOVES_8_JUMP = 2;

/**
 * Path result values, in order (also by name: `pathKind.readResults(r.values).cost`).
 * FOUND: 1 when a path exists (within maxExpanded), and COST is its cost (orthogonal
 * step 1, diagonal SQRT2), CELLS the cells on it, start and goal included. WAYPOINTS:
 * turning points written to the arena slice, start first. The list is the whole path,
 * ending at the goal, only when TRUNCATED is 0; when it is 1 the slice (maxWaypoints)
 * held the first WAYPOINTS of TOTAL_WAYPOINTS. EXPANDED: nodes the search expanded.
 */
export const PATH_FOUND = 0;
export const PATH_COST = 1;
export const PATH_CELLS = 2;
export const PATH_WAYPOINTS = 3;
export const PATH_EXPANDED = 4;
export const PATH_TRUNCATED = 5;
export const PATH_TOTAL_WAYPOINTS = 6;

/** The path kind's parameters, in order (set them by name on `pathKind.createParams()`). */
export const PATH_PARAMS = [
  { name: 'sx', type: 'i32', min: 0, max: 4095 },
  { name: 'sy', type: 'i32', min: 0, max: 4095 },
  { name: 'gx', type: 'i32', min: 0, max: 4095 },
  { name: 'gy', type: 'i32', min: 0, max: 4095 },
  { name: 'maxWaypoints', type: 'i32', min: 1, max: MAX_WAYPOINTS },
  { name: 'moves', type: 'i32', min: 0, max: 2 },
  { name: 'maxExpanded', type: 'i32', min: 1 },
] as const satisfies readonly ParamSpec[];
/** The path kind's results, in order (PATH_FOUND ...). */
export const PATH_RESULTS = ['found', 'cost', 'cells', 'waypoints', 'expanded', 'truncated', 'totalWaypoints'] as const;

/**
 * `path`: a shortest path from (sx, sy) to (gx, gy). Parameters: the two cells,
 * `maxWaypoints` (the arena slice's size in waypoints, 1..MAX_WAYPOINTS), `moves`
 * (PATH_MOVES_4, PATH_MOVES_8 or PATH_MOVES_8_JUMP) and `maxExpanded` (a search budget:
 * past it the job ends not found). A start or goal off the grid or on a wall is not found.
 */
export const pathKind = defineKind({
  name: 'path',
  params: PATH_PARAMS,
  results: PATH_RESULTS,
  arenaBytes: (p) => 4 * p[4],
  maxArenaBytes: 4 * MAX_WAYPOINTS,
  init: (env): AStar => searchFor(env).astar,
  run(p, out, ctx) {
    const astar = ctx.state;
    const moves = p[5];
    const cost = moves === PATH_MOVES_8_JUMP ? astar.searchJump(p[0], p[1], p[2], p[3], p[6]) : astar.search(p[0], p[1], p[2], p[3], moves === PATH_MOVES_8, p[6]);
    const info = astar.info;
    out[PATH_FOUND] = info.found ? 1 : 0;
    out[PATH_COST] = cost;
    out[PATH_CELLS] = info.cells;
    out[PATH_EXPANDED] = info.expanded;
    const max = Math.min(p[4], ctx.arenaBytes >> 2);
    const written = info.found ? astar.writeWaypoints(ctx.arenaI32, ctx.arenaOffset >> 2, max) : 0;
    out[PATH_WAYPOINTS] = written;
    out[PATH_TRUNCATED] = written < info.waypoints ? 1 : 0;
    out[PATH_TOTAL_WAYPOINTS] = info.waypoints;
  },
});

/** Distance-field result values: cells reached inside the window, and the largest distance among them. */
export const FIELD_REACHED = 0;
export const FIELD_MAX = 1;

/** The distances kind's parameters, in order. */
export const DISTANCES_PARAMS = [
  { name: 'tx', type: 'i32', min: 0, max: 4095 },
  { name: 'ty', type: 'i32', min: 0, max: 4095 },
  { name: 'x0', type: 'i32', min: 0, max: 4095 },
  { name: 'y0', type: 'i32', min: 0, max: 4095 },
  { name: 'w', type: 'i32', min: 1, max: MAX_FIELD_SIDE },
  { name: 'h', type: 'i32', min: 1, max: MAX_FIELD_SIDE },
  { name: 'diagonal', type: 'i32', min: 0, max: 1 },
] as const satisfies readonly ParamSpec[];
/** The distances kind's results, in order (FIELD_REACHED, FIELD_MAX). */
export const DISTANCES_RESULTS = ['reached', 'maxDistance'] as const;

/**
 * `distances`: the distance of every cell of the window [x0, x0 + w) x [y0, y0 + h) to
 * the target (tx, ty), moving inside the window only (`diagonal` 1: 8-connected without
 * corner cutting; 0: 4-connected). A window running off the grid is clipped and keeps
 * its w x h shape in the arena.
 */
export const distancesKind = defineKind({
  name: 'distances',
  params: DISTANCES_PARAMS,
  results: DISTANCES_RESULTS,
  arenaBytes: (p) => 4 * p[4] * p[5],
  maxArenaBytes: 4 * MAX_FIELD_SIDE * MAX_FIELD_SIDE,
  init: (env): DistanceField => searchFor(env).field,
  run(p, out, ctx) {
    const field = ctx.state;
    const { width, height } = field.grid;
    // Clip the window to the grid; the payload keeps the requested w x h shape.
    const x0 = p[2], y0 = p[3], w = p[4], h = p[5];
    if (ctx.arenaBytes < 4 * w * h) throw new EngineError('INVALID_OPTION', `distances: arena slice of ${ctx.arenaBytes} bytes is smaller than the ${w}x${h} window`);
    const cw = Math.min(w, width - x0);
    const ch = Math.min(h, height - y0);
    const base = ctx.arenaOffset >> 2;
    const f32 = ctx.arenaF32;
    for (let i = 0; i < w * h; i++) f32[base + i] = -1;
    if (cw <= 0 || ch <= 0) {
      out[FIELD_REACHED] = 0;
      out[FIELD_MAX] = 0;
      return;
    }
    if (cw === w) {
      field.compute(p[0], p[1], x0, y0, cw, ch, p[6] === 1, f32, base);
    } else {
      // A clipped window is computed densely (cw wide) and then spread to stride w, last row first.
      field.compute(p[0], p[1], x0, y0, cw, ch, p[6] === 1, f32, base);
      for (let y = ch - 1; y >= 0; y--) {
        for (let x = w - 1; x >= 0; x--) f32[base + y * w + x] = x < cw ? f32[base + y * cw + x] : -1;
      }
    }
    out[FIELD_REACHED] = field.reached;
    out[FIELD_MAX] = field.maxDistance;
  },
});

/** Both grid kinds, in the order every thread registers them: pass to `EngineOptions.kinds` and `serveWorker`. */
export const kinds = [pathKind, distancesKind] as const;
