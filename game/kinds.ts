/**
 * The game's job kinds. The engine imports this module on the main thread and in every
 * worker; each kind's init runs once per thread and builds what its jobs reuse (A*
 * scratch sized for the grid, the Rapier prediction scene), so the run path allocates
 * nothing of ours. Every handler is a pure function of its params, the shared nav grid
 * and the arena bytes it was handed: the same job gives the same bits on any thread.
 *
 * Arena payloads (offsets are ctx.arenaOffset, in bytes, 8-aligned):
 *   path             out: i32 waypoint cells, start first           (4 * maxWaypoints bytes;
 *                         values[PATH_WAYPOINTS] of them were written, values[PATH_TOTAL_WAYPOINTS]
 *                         exist, values[PATH_TRUNCATED] is 1 when the slice held fewer)
 *   distances        out: f32 distance per window cell, row-major   (4 * w * h bytes)
 *   physics.raycasts in:  f32 [ax, ay, az, bx, by, bz] per ray       (24 * count bytes)
 *                    out: f32 hit fraction per ray, -1 if clear       (4 * count bytes after the input)
 */
import { defineKind, type WorkerEnv } from '../engine/kind.js';
import { EngineError } from '../engine/errors.js';
import { AStar, DistanceField } from './astar.js';
import { NavGrid } from './grid.js';
import { SearchScratch } from './search-scratch.js';
import { sceneFor, type PredictionScene } from './physics.js';
import { FRAME_S } from './time.js';

/**
 * Largest waypoint list a path job may ask for (256 KiB of arena). A longer path comes
 * back truncated (PATH_TRUNCATED) with its true count; the caller walks to the last
 * waypoint and asks again from there.
 */
export const MAX_WAYPOINTS = 65536;
/** Largest distance-field window side. */
export const MAX_FIELD_SIDE = 256;
/** Most rays in one raycast batch. */
export const MAX_RAYS = 4096;
export const RAY_IN_FLOATS = 6;

function navOf(env: WorkerEnv): NavGrid {
  const sab = env.shared.nav;
  if (!sab) throw new EngineError('INVALID_OPTION', 'game kinds need EngineOptions.shared.nav, the level nav buffer (see game/grid.ts)');
  return new NavGrid(sab);
}

/**
 * Nav grids are shared per thread by buffer, like the prediction scene. The path and
 * distances kinds of one thread share one search scratch (a thread runs one job at a
 * time), so a thread's search memory is that scratch and the path kind's wall bitsets:
 * under 12 bytes per cell (test/game-search-memory.test.ts).
 */
const grids = new WeakMap<SharedArrayBuffer, { astar: AStar; field: DistanceField }>();
function searchFor(env: WorkerEnv): { astar: AStar; field: DistanceField } {
  const grid = navOf(env);
  let s = grids.get(grid.sab);
  if (!s) {
    const scratch = new SearchScratch(grid.width * grid.height);
    s = { astar: new AStar(grid, scratch), field: new DistanceField(grid, scratch) };
    grids.set(grid.sab, s);
  }
  return s;
}

/** Path `moves`: 4-connected; 8-connected without corner cutting; the same with jump-point pruning (same paths, fewer heap operations). */
export const PATH_MOVES_4 = 0;
export const PATH_MOVES_8 = 1;
export const PATH_MOVES_8_JUMP = 2;

/**
 * Path result values, in order. FOUND: a shortest path exists and COST is its cost.
 * WAYPOINTS: turning points written to the arena slice, start first. The list is the
 * whole path, ending at the goal, only when TRUNCATED is 0; when it is 1 the slice
 * (maxWaypoints) held the first WAYPOINTS of TOTAL_WAYPOINTS.
 */
export const PATH_FOUND = 0;
export const PATH_COST = 1;
export const PATH_CELLS = 2;
export const PATH_WAYPOINTS = 3;
export const PATH_EXPANDED = 4;
export const PATH_TRUNCATED = 5;
export const PATH_TOTAL_WAYPOINTS = 6;

export const pathKind = defineKind<AStar>({
  name: 'path',
  params: [
    { name: 'sx', type: 'i32', min: 0, max: 4095 },
    { name: 'sy', type: 'i32', min: 0, max: 4095 },
    { name: 'gx', type: 'i32', min: 0, max: 4095 },
    { name: 'gy', type: 'i32', min: 0, max: 4095 },
    { name: 'maxWaypoints', type: 'i32', min: 1, max: MAX_WAYPOINTS },
    /** PATH_MOVES_4, PATH_MOVES_8 or PATH_MOVES_8_JUMP. */
    { name: 'moves', type: 'i32', min: 0, max: 2 },
    { name: 'maxExpanded', type: 'i32', min: 1 },
  ],
  results: ['found', 'cost', 'cells', 'waypoints', 'expanded', 'truncated', 'totalWaypoints'],
  arenaBytes: (p) => 4 * p[4],
  maxArenaBytes: 4 * MAX_WAYPOINTS,
  init: (env) => searchFor(env).astar,
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

/** Distance-field result values. */
export const FIELD_REACHED = 0;
export const FIELD_MAX = 1;

export const distancesKind = defineKind<DistanceField>({
  name: 'distances',
  params: [
    { name: 'tx', type: 'i32', min: 0, max: 4095 },
    { name: 'ty', type: 'i32', min: 0, max: 4095 },
    { name: 'x0', type: 'i32', min: 0, max: 4095 },
    { name: 'y0', type: 'i32', min: 0, max: 4095 },
    { name: 'w', type: 'i32', min: 1, max: MAX_FIELD_SIDE },
    { name: 'h', type: 'i32', min: 1, max: MAX_FIELD_SIDE },
    { name: 'diagonal', type: 'i32', min: 0, max: 1 },
  ],
  results: ['reached', 'maxDistance'],
  arenaBytes: (p) => 4 * p[4] * p[5],
  maxArenaBytes: 4 * MAX_FIELD_SIDE * MAX_FIELD_SIDE,
  init: (env) => searchFor(env).field,
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

export const predictKind = defineKind<PredictionScene>({
  name: 'physics.predict',
  params: [
    { name: 'px', type: 'f64' },
    { name: 'py', type: 'f64' },
    { name: 'pz', type: 'f64' },
    { name: 'vx', type: 'f64', min: -1000, max: 1000 },
    { name: 'vy', type: 'f64', min: -1000, max: 1000 },
    { name: 'vz', type: 'f64', min: -1000, max: 1000 },
    { name: 'radius', type: 'f64', min: 0.01, max: 10 },
    { name: 'steps', type: 'i32', min: 1, max: 600 },
  ],
  results: ['hit', 'step', 'time', 'x', 'y', 'z', 'nx', 'ny', 'nz'],
  init: (env) => sceneFor(navOf(env)),
  run(p, out, ctx) {
    ctx.state.predict(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], FRAME_S, out);
  },
});

export const RAYS_BLOCKED = 0;
export const RAYS_CLEAR = 1;

export const raycastsKind = defineKind<PredictionScene>({
  name: 'physics.raycasts',
  params: [{ name: 'count', type: 'i32', min: 1, max: MAX_RAYS }],
  results: ['blocked', 'clear'],
  arenaBytes: (p) => 28 * p[0],
  maxArenaBytes: 28 * MAX_RAYS,
  init: (env) => sceneFor(navOf(env)),
  run(p, out, ctx) {
    const n = p[0];
    if (ctx.arenaBytes < 28 * n) throw new EngineError('INVALID_OPTION', `physics.raycasts: arena slice of ${ctx.arenaBytes} bytes cannot hold ${n} rays`);
    const f = ctx.arenaF32;
    const inBase = ctx.arenaOffset >> 2;
    const outBase = inBase + RAY_IN_FLOATS * n;
    const scene = ctx.state;
    let blocked = 0;
    for (let i = 0; i < n; i++) {
      const r = inBase + i * RAY_IN_FLOATS;
      const t = scene.segment(f[r], f[r + 1], f[r + 2], f[r + 3], f[r + 4], f[r + 5]);
      f[outBase + i] = t;
      if (t >= 0) blocked++;
    }
    out[RAYS_BLOCKED] = blocked;
    out[RAYS_CLEAR] = n - blocked;
  },
});

export const kinds = [pathKind, distancesKind, predictKind, raycastsKind];
