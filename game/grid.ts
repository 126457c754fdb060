/**
 * The demo game's level: a seeded arena of rooms, doors and pillars, generated into a
 * nav grid (framejobs/kinds/grid: one SharedArrayBuffer, handed to every worker through
 * `EngineOptions.shared.nav`), and the random grids of the oracle tests.
 */
import { EngineError } from '../engine/errors.js';
import { CELL_FREE, CELL_WALL, createNavGrid, type NavGrid } from '../kinds/grid/nav-grid.js';
import { mulberry32 } from './random.js';

/** The nav grid itself lives in kinds/grid; the game's modules and tools take it from here with the level. */
export {
  NavGrid,
  createNavGrid,
  navBytesFor,
  wallRects,
  CELL_FREE,
  CELL_WALL,
  NAV_MAGIC,
  NAV_HEADER_BYTES,
  NAV_MAX_SIDE,
  NAV_OFF_MAGIC,
  NAV_OFF_WIDTH,
  NAV_OFF_HEIGHT,
  NAV_OFF_SEED,
} from '../kinds/grid/nav-grid.js';

/** The seeded random source (random.ts), for the modules that take it from here. */
export { mulberry32 };

export interface LevelOptions {
  /** Cells. Default 256. */
  width?: number;
  /** Cells. Default 256. */
  height?: number;
  /** Room pitch in cells, walls included. Default 32. */
  roomSize?: number;
  seed?: number;
}

/**
 * A seeded arena: an outer wall, a lattice of rooms whose shared walls each have one
 * or two doors (some walls are knocked out to make halls), and rectangular pillars
 * inside rooms kept two cells off the walls so every door stays reachable.
 */
export function generateLevel(opts: LevelOptions = {}): NavGrid {
  const width = opts.width ?? 256;
  const height = opts.height ?? 256;
  const room = opts.roomSize ?? 32;
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(room) || room < 8) {
    throw new EngineError('INVALID_OPTION', `level roomSize must be an integer >= 8, got ${room}`);
  }
  const grid = createNavGrid(width, height, seed);
  const c = grid.cells;
  const rnd = mulberry32(seed);
  const ri = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const wall = (x: number, y: number): void => {
    if (x >= 0 && y >= 0 && x < width && y < height) c[y * width + x] = CELL_WALL;
  };
  const clear = (x: number, y: number): void => {
    if (x > 0 && y > 0 && x < width - 1 && y < height - 1) c[y * width + x] = CELL_FREE;
  };
  for (let x = 0; x < width; x++) {
    wall(x, 0);
    wall(x, height - 1);
  }
  for (let y = 0; y < height; y++) {
    wall(0, y);
    wall(width - 1, y);
  }
  // Vertical walls at x = k*room, cut into one segment per room row, each with doors.
  for (let x = room; x < width - 1; x += room) {
    for (let y0 = 0; y0 < height - 1; y0 += room) {
      const y1 = Math.min(y0 + room, height - 1);
      if (rnd() < 0.12) continue; // knocked out: a hall
      for (let y = y0; y <= y1; y++) wall(x, y);
      const doors = ri(1, 2);
      for (let d = 0; d < doors; d++) {
        const w = ri(2, 4);
        const at = ri(y0 + 2, Math.max(y0 + 2, y1 - 2 - w));
        for (let y = at; y < at + w && y < y1 - 1; y++) clear(x, y);
      }
    }
  }
  for (let y = room; y < height - 1; y += room) {
    for (let x0 = 0; x0 < width - 1; x0 += room) {
      const x1 = Math.min(x0 + room, width - 1);
      if (rnd() < 0.12) continue;
      for (let x = x0; x <= x1; x++) wall(x, y);
      const doors = ri(1, 2);
      for (let d = 0; d < doors; d++) {
        const w = ri(2, 4);
        const at = ri(x0 + 2, Math.max(x0 + 2, x1 - 2 - w));
        for (let x = at; x < at + w && x < x1 - 1; x++) clear(x, y);
      }
    }
  }
  // Pillars: inside each room, two cells off its walls.
  for (let ry = 0; ry + 1 < height; ry += room) {
    for (let rx = 0; rx + 1 < width; rx += room) {
      const n = ri(0, 4);
      for (let k = 0; k < n; k++) {
        const pw = ri(1, 5);
        const ph = ri(1, 5);
        const lo = 3;
        const hiX = Math.min(room, width - 1 - rx) - 3 - pw;
        const hiY = Math.min(room, height - 1 - ry) - 3 - ph;
        if (hiX < lo || hiY < lo) continue;
        const px = rx + ri(lo, hiX);
        const py = ry + ri(lo, hiY);
        for (let y = py; y < py + ph; y++) for (let x = px; x < px + pw; x++) wall(x, y);
      }
    }
  }
  return grid;
}

/** Random walls with the given density; the oracle tests' maps. */
export function randomGrid(width: number, height: number, density: number, seed: number): NavGrid {
  const grid = createNavGrid(width, height, seed);
  const rnd = mulberry32(seed);
  for (let i = 0; i < grid.cells.length; i++) grid.cells[i] = rnd() < density ? CELL_WALL : CELL_FREE;
  return grid;
}
