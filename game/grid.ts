/**
 * The level's navigation grid: one SharedArrayBuffer, created once by the game and
 * handed to every worker through `EngineOptions.shared.nav`. Every thread wraps the
 * same bytes with `new NavGrid(sab)`; nobody copies it and nobody writes it after
 * generation, so no ordering is needed between readers.
 *
 * Layout (bytes):
 *
 *   0        4        8        12       16                           16 + W*H
 *   +--------+--------+--------+--------+----------------------------+
 *   | magic  | width  | height | seed   | cells: u8 per cell, row-major|
 *   | u32    | i32    | i32    | i32    | 0 = free, 1 = wall          |
 *   +--------+--------+--------+--------+----------------------------+
 *   written once by the generating thread before the buffer is shared;
 *   read-only afterwards on every thread.
 *
 * Cell (x, y) covers [x, x+1) x [y, y+1) in world X/Z; index = y * width + x.
 */
import { EngineError } from '../engine/errors.js';
import { mulberry32 } from './random.js';

export const NAV_MAGIC = 0x3156_414e; // 'NAV1' little-endian
export const NAV_OFF_MAGIC = 0;
export const NAV_OFF_WIDTH = 4;
export const NAV_OFF_HEIGHT = 8;
export const NAV_OFF_SEED = 12;
export const NAV_HEADER_BYTES = 16;
export const CELL_FREE = 0;
export const CELL_WALL = 1;
/** Largest side accepted; keeps cell indices and scratch arrays comfortably in int32 range. */
export const NAV_MAX_SIDE = 4096;

/** Bytes a nav buffer needs for a width x height grid. */
export function navBytesFor(width: number, height: number): number {
  if (!Number.isInteger(width) || width < 2 || width > NAV_MAX_SIDE) {
    throw new EngineError('INVALID_OPTION', `level width must be an integer in [2, ${NAV_MAX_SIDE}], got ${width}`);
  }
  if (!Number.isInteger(height) || height < 2 || height > NAV_MAX_SIDE) {
    throw new EngineError('INVALID_OPTION', `level height must be an integer in [2, ${NAV_MAX_SIDE}], got ${height}`);
  }
  return NAV_HEADER_BYTES + width * height;
}

/**
 * A view over a nav buffer. Any thread may construct one and call every method;
 * the cells are read-only once the buffer has been shared.
 */
export class NavGrid {
  readonly sab: SharedArrayBuffer;
  readonly width: number;
  readonly height: number;
  readonly seed: number;
  /** One byte per cell, row-major: CELL_FREE or CELL_WALL. */
  readonly cells: Uint8Array;

  constructor(sab: SharedArrayBuffer) {
    if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < NAV_HEADER_BYTES) {
      throw new EngineError('LAYOUT_MISMATCH', 'nav buffer must be a SharedArrayBuffer with a 16-byte header');
    }
    const head = new Int32Array(sab, 0, 4);
    if (head[NAV_OFF_MAGIC >> 2] >>> 0 !== NAV_MAGIC) {
      throw new EngineError('LAYOUT_MISMATCH', 'nav buffer has no NAV1 magic: was it made by createNavGrid?');
    }
    this.width = head[NAV_OFF_WIDTH >> 2];
    this.height = head[NAV_OFF_HEIGHT >> 2];
    this.seed = head[NAV_OFF_SEED >> 2];
    if (sab.byteLength !== navBytesFor(this.width, this.height)) {
      throw new EngineError('LAYOUT_MISMATCH', `nav buffer is ${sab.byteLength} bytes, header says ${this.width}x${this.height}`);
    }
    this.sab = sab;
    this.cells = new Uint8Array(sab, NAV_HEADER_BYTES, this.width * this.height);
  }

  isFree(x: number, y: number): boolean {
    return x >= 0 && y >= 0 && x < this.width && y < this.height && this.cells[y * this.width + x] === CELL_FREE;
  }
}

/** Allocates a nav buffer with every cell free and the header written. */
export function createNavGrid(width: number, height: number, seed = 0): NavGrid {
  const sab = new SharedArrayBuffer(navBytesFor(width, height));
  const head = new Int32Array(sab, 0, 4);
  head[NAV_OFF_MAGIC >> 2] = NAV_MAGIC | 0;
  head[NAV_OFF_WIDTH >> 2] = width;
  head[NAV_OFF_HEIGHT >> 2] = height;
  head[NAV_OFF_SEED >> 2] = seed | 0;
  return new NavGrid(sab);
}

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

/**
 * Axis-aligned wall rectangles covering every wall cell exactly once (greedy: grow
 * a run along x, then extend it down while the rows below match). The static
 * colliders of both the game's Rapier world and every worker's prediction world
 * are built from this list, in this order, so they are identical.
 * Returns [x, y, w, h] quadruples.
 */
export function wallRects(grid: NavGrid): Int32Array {
  const { width, height, cells } = grid;
  const used = new Uint8Array(width * height);
  const out: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (cells[i] !== CELL_WALL || used[i]) continue;
      let w = 1;
      while (x + w < width && cells[i + w] === CELL_WALL && !used[i + w]) w++;
      let h = 1;
      grow: while (y + h < height) {
        const row = (y + h) * width + x;
        for (let k = 0; k < w; k++) if (cells[row + k] !== CELL_WALL || used[row + k]) break grow;
        h++;
      }
      for (let yy = y; yy < y + h; yy++) used.fill(1, yy * width + x, yy * width + x + w);
      out.push(x, y, w, h);
    }
  }
  return Int32Array.from(out);
}
