/**
 * A navigation grid in one SharedArrayBuffer, created once by the caller and handed to
 * every worker through `EngineOptions.shared.nav`. Every thread wraps the same bytes
 * with `new NavGrid(sab)`; nobody copies it and nobody writes it once the engine has
 * started (the path kind snapshots its walls as bits at init), so no ordering is needed
 * between readers.
 *
 * Layout (bytes):
 *
 *   0        4        8        12       16                           16 + W*H
 *   +--------+--------+--------+--------+----------------------------+
 *   | magic  | width  | height | tag    | cells: u8 per cell, row-major|
 *   | u32    | i32    | i32    | i32    | 0 = free, else a wall        |
 *   +--------+--------+--------+--------+----------------------------+
 *   written by the thread that builds the grid before the buffer is shared;
 *   read-only afterwards on every thread.
 *
 * Cell (x, y) has index y * width + x. The demo game lays cell (x, y) over world X in
 * [x, x+1) and Z in [y, y+1); `gridColliders` (framejobs/kinds/rapier) does the same.
 */
import { EngineError } from '../../engine/errors.js';

export const NAV_MAGIC = 0x3156_414e; // 'NAV1' little-endian
export const NAV_OFF_MAGIC = 0;
export const NAV_OFF_WIDTH = 4;
export const NAV_OFF_HEIGHT = 8;
/** A 32-bit tag of the caller's (the demo game keeps its level seed there). */
export const NAV_OFF_SEED = 12;
export const NAV_HEADER_BYTES = 16;
export const CELL_FREE = 0;
export const CELL_WALL = 1;
/** Largest side accepted; keeps cell indices and scratch arrays comfortably in int32 range. */
export const NAV_MAX_SIDE = 4096;

/** Bytes a nav buffer needs for a width x height grid. Throws INVALID_OPTION for a side outside [2, NAV_MAX_SIDE]. */
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
 * A view over a nav buffer. Any thread may construct one and call every method; the
 * cells are read-only once the buffer has been shared. Throws LAYOUT_MISMATCH for a
 * buffer that is not a nav buffer.
 */
export class NavGrid {
  readonly sab: SharedArrayBuffer;
  readonly width: number;
  readonly height: number;
  /** The header's tag (NAV_OFF_SEED): 0 unless the builder set one. */
  readonly seed: number;
  /** One byte per cell, row-major: CELL_FREE (0) or a wall (anything else). */
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

  /** True for a cell on the grid that is not a wall. */
  isFree(x: number, y: number): boolean {
    return x >= 0 && y >= 0 && x < this.width && y < this.height && this.cells[y * this.width + x] === CELL_FREE;
  }
}

/** Allocates a nav buffer with every cell free and the header written; fill `cells` before sharing it. */
export function createNavGrid(width: number, height: number, seed = 0): NavGrid {
  const sab = new SharedArrayBuffer(navBytesFor(width, height));
  const head = new Int32Array(sab, 0, 4);
  head[NAV_OFF_MAGIC >> 2] = NAV_MAGIC | 0;
  head[NAV_OFF_WIDTH >> 2] = width;
  head[NAV_OFF_HEIGHT >> 2] = height;
  head[NAV_OFF_SEED >> 2] = seed | 0;
  return new NavGrid(sab);
}

/**
 * A nav grid from your own walkability data: `walkable[y * width + x]` is truthy (1,
 * true) where an agent may stand and falsy (0, false) on a wall. A Uint8Array, a plain
 * array, any array-like of width * height entries. Throws INVALID_OPTION for a wrong
 * size or length.
 */
export function navGridFromWalkable(width: number, height: number, walkable: ArrayLike<number | boolean>): NavGrid {
  const bytes = navBytesFor(width, height);
  const n = bytes - NAV_HEADER_BYTES;
  if (walkable === null || typeof walkable !== 'object' || typeof walkable.length !== 'number') {
    throw new EngineError('INVALID_OPTION', `walkable must be an array-like of ${n} cells (width * height)`);
  }
  if (walkable.length !== n) {
    throw new EngineError('INVALID_OPTION', `walkable has ${walkable.length} cells, a ${width}x${height} grid has ${n}`);
  }
  const grid = createNavGrid(width, height);
  const c = grid.cells;
  for (let i = 0; i < n; i++) c[i] = walkable[i] ? CELL_FREE : CELL_WALL;
  return grid;
}

/**
 * A nav grid from a map in the Moving AI Lab format (the grid pathfinding benchmarks):
 * `type octile`, `height H`, `width W`, `map`, then H rows of W characters, where `.`,
 * `G` and `S` are walkable and every other character (`@`, `O`, `T`, `W`) is a wall.
 * Rows may end with `\r\n`. Throws INVALID_OPTION naming what is missing or malformed.
 */
export function navGridFromMovingAi(text: string, name = 'map'): NavGrid {
  if (typeof text !== 'string') throw new EngineError('INVALID_OPTION', `${name}: a Moving AI map must be a string`);
  const lines = text.split('\n');
  let height = -1;
  let width = -1;
  let row = 0;
  for (; row < lines.length; row++) {
    const l = lines[row].trim();
    if (l === 'map') break;
    const m = /^(height|width)\s+(\d+)$/.exec(l);
    if (m) {
      if (m[1] === 'height') height = Number(m[2]);
      else width = Number(m[2]);
    }
  }
  if (row >= lines.length || height < 0 || width < 0) throw new EngineError('INVALID_OPTION', `${name}: no 'height', 'width' and 'map' header`);
  const grid = createNavGrid(width, height);
  const c = grid.cells;
  for (let y = 0; y < height; y++) {
    const l = lines[row + 1 + y];
    if (l === undefined || l.replace(/\r$/, '').length < width) throw new EngineError('INVALID_OPTION', `${name}: row ${y} is missing or shorter than ${width}`);
    for (let x = 0; x < width; x++) {
      const ch = l.charCodeAt(x);
      // '.', 'G', 'S' are passable ground.
      c[y * width + x] = ch === 46 || ch === 71 || ch === 83 ? CELL_FREE : CELL_WALL;
    }
  }
  return grid;
}

/**
 * Axis-aligned wall rectangles covering every wall cell exactly once (greedy: grow a
 * run along x, then extend it down while the rows below match). Deterministic: the same
 * grid gives the same list in the same order, so colliders built from it on different
 * threads are identical. Returns [x, y, w, h] quadruples.
 */
export function wallRects(grid: NavGrid): Int32Array {
  const { width, height, cells } = grid;
  const used = new Uint8Array(width * height);
  const out: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (cells[i] === CELL_FREE || used[i]) continue;
      let w = 1;
      while (x + w < width && cells[i + w] !== CELL_FREE && !used[i + w]) w++;
      let h = 1;
      grow: while (y + h < height) {
        const row = (y + h) * width + x;
        for (let k = 0; k < w; k++) if (cells[row + k] === CELL_FREE || used[row + k]) break grow;
        h++;
      }
      for (let yy = y; yy < y + h; yy++) used.fill(1, yy * width + x, yy * width + x + w);
      out.push(x, y, w, h);
    }
  }
  return Int32Array.from(out);
}
