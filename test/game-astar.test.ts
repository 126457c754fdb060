import { describe, expect, test } from 'vitest';
import PF from 'pathfinding';
import { AStar, DistanceField } from '../kinds/grid/astar.js';
import { CELL_WALL, NavGrid, createNavGrid, generateLevel, mulberry32, navBytesFor, randomGrid, wallRects } from '../game/grid.js';
import { expectJumpPath, freeCell, perfectMaze, walkCost } from './fixtures/grid-paths.js';

/** The oracle: the `pathfinding` package's A* on a fresh PF.Grid built from the same cells. */
function oracle(grid: NavGrid, sx: number, sy: number, gx: number, gy: number, diagonal: boolean): number {
  const matrix: number[][] = [];
  for (let y = 0; y < grid.height; y++) {
    const row: number[] = [];
    for (let x = 0; x < grid.width; x++) row.push(grid.cells[y * grid.width + x]);
    matrix.push(row);
  }
  const finder = new PF.AStarFinder({
    diagonalMovement: diagonal ? PF.DiagonalMovement.OnlyWhenNoObstacles : PF.DiagonalMovement.Never,
  });
  const path = finder.findPath(sx, sy, gx, gy, new PF.Grid(matrix));
  if (path.length === 0) return -1;
  let len = 0;
  for (let i = 1; i < path.length; i++) len += Math.hypot(path[i][0] - path[i - 1][0], path[i][1] - path[i - 1][1]);
  return len;
}

describe('A* against the pathfinding package', () => {
  for (const diagonal of [true, false]) {
    test(`300 seeded random maps, ${diagonal ? '8-connected (no corner cutting)' : '4-connected'}`, () => {
      const seed = diagonal ? 0x5eed : 0xbeef;
      const rnd = mulberry32(seed);
      const cells = new Int32Array(128 * 128);
      let found = 0;
      for (let m = 0; m < 300; m++) {
        const w = 8 + Math.floor(rnd() * 56);
        const h = 8 + Math.floor(rnd() * 56);
        const density = 0.1 + rnd() * 0.3;
        const mapSeed = (seed * 1000 + m) | 0;
        const grid = randomGrid(w, h, density, mapSeed);
        const astar = new AStar(grid);
        for (let q = 0; q < 3; q++) {
          const [sx, sy] = freeCell(grid, rnd);
          const [gx, gy] = freeCell(grid, rnd);
          const want = oracle(grid, sx, sy, gx, gy, diagonal);
          const got = astar.search(sx, sy, gx, gy, diagonal);
          const where = `map seed ${mapSeed} ${w}x${h} density ${density.toFixed(2)} (${sx},${sy})->(${gx},${gy})`;
          if (want < 0) {
            expect(got, where).toBe(-1);
            if (diagonal) expect(astar.searchJump(sx, sy, gx, gy), `jump ${where}`).toBe(-1);
            continue;
          }
          found++;
          expect(got, where).toBeCloseTo(want, 9);
          const n = astar.writeCells(cells, 0, cells.length);
          expect(n).toBe(astar.info.cells);
          expect(cells[0]).toBe(sy * w + sx);
          expect(cells[n - 1]).toBe(gy * w + gx);
          expect(walkCost(grid, cells, n, diagonal)).toBeCloseTo(got, 9);
          if (diagonal) {
            // Jump-point search: the same optimal cost, a legal cell path of that cost.
            const jumped = astar.searchJump(sx, sy, gx, gy);
            expect(jumped, `jump ${where}`).toBeCloseTo(want, 9);
            const nj = astar.writeCells(cells, 0, cells.length);
            expect(cells[0]).toBe(sy * w + sx);
            expect(cells[nj - 1]).toBe(gy * w + gx);
            expect(walkCost(grid, cells, nj, true)).toBeCloseTo(want, 9);
          }
        }
      }
      // The maps must exercise real searches, not mostly unreachable pairs.
      expect(found).toBeGreaterThan(400);
    });
  }

  test('generated 256x256 levels agree with the oracle', () => {
    const rnd = mulberry32(77);
    for (let s = 1; s <= 4; s++) {
      const grid = generateLevel({ seed: s });
      const astar = new AStar(grid);
      for (let q = 0; q < 5; q++) {
        const [sx, sy] = freeCell(grid, rnd);
        const [gx, gy] = freeCell(grid, rnd);
        const want = oracle(grid, sx, sy, gx, gy, true);
        expect(astar.search(sx, sy, gx, gy, true), `level ${s} (${sx},${sy})->(${gx},${gy})`).toBeCloseTo(want, 9);
        expect(astar.searchJump(sx, sy, gx, gy), `jump, level ${s} (${sx},${sy})->(${gx},${gy})`).toBeCloseTo(want, 9);
      }
    }
  });

  test('jump points agree with the oracle on braided mazes (winding corridors with loops)', () => {
    const seed = 0xb7a1;
    const rnd = mulberry32(seed);
    let checked = 0;
    for (let m = 0; m < 12; m++) {
      // A perfect maze of one-cell corridors, then a share of its walls knocked out for loops.
      const n = 8 + Math.floor(rnd() * 24);
      const grid = perfectMaze(n, rnd, seed + m);
      const side = grid.width;
      const c = grid.cells;
      const knock = 0.05 + rnd() * 0.25;
      for (let y = 1; y < side - 1; y++) for (let x = 1; x < side - 1; x++) if (rnd() < knock) c[y * side + x] = 0;
      const astar = new AStar(grid);
      const cells = new Int32Array(side * side);
      for (let q = 0; q < 8; q++) {
        const [sx, sy] = freeCell(grid, rnd);
        const [gx, gy] = freeCell(grid, rnd);
        const where = `seed ${seed} maze ${m} ${side}x${side} (${sx},${sy})->(${gx},${gy})`;
        if (!expectJumpPath(astar, grid, cells, sx, sy, gx, gy, oracle(grid, sx, sy, gx, gy, true), where)) continue;
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(80);
  });

  for (const jump of [false, true]) test(`waypoints are the turning points of the cell path${jump ? ' (jump points)' : ''}`, () => {
    const grid = generateLevel({ seed: 9 });
    const astar = new AStar(grid);
    const rnd = mulberry32(9);
    const cells = new Int32Array(grid.width * grid.height);
    const wps = new Int32Array(512);
    for (let q = 0; q < 50; q++) {
      const [sx, sy] = freeCell(grid, rnd);
      const [gx, gy] = freeCell(grid, rnd);
      if ((jump ? astar.searchJump(sx, sy, gx, gy) : astar.search(sx, sy, gx, gy, true)) < 0) continue;
      const n = astar.writeCells(cells, 0, cells.length);
      const k = astar.writeWaypoints(wps, 0, wps.length);
      expect(wps[0]).toBe(cells[0]);
      expect(wps[k - 1]).toBe(cells[n - 1]);
      // Walking straight from each waypoint to the next reproduces the cell path.
      let at = 0;
      for (let i = 1; i < k; i++) {
        const a = wps[i - 1], b = wps[i];
        const dx = Math.sign((b % grid.width) - (a % grid.width));
        const dy = Math.sign(((b / grid.width) | 0) - ((a / grid.width) | 0));
        for (let c = a; c !== b; ) {
          c += dy * grid.width + dx;
          at++;
          expect(cells[at]).toBe(c);
        }
      }
      expect(at).toBe(n - 1);
    }
  });

  test('gives up after maxExpanded and on walls or out-of-range ends', () => {
    const grid = generateLevel({ seed: 2 });
    const astar = new AStar(grid);
    expect(astar.search(0, 0, 10, 10, true)).toBe(-1); // (0,0) is the outer wall
    expect(astar.search(-1, 5, 10, 10, true)).toBe(-1);
    expect(astar.search(5, 5, 999, 10, true)).toBe(-1);
    const rnd = mulberry32(2);
    const [sx, sy] = freeCell(grid, rnd);
    let [gx, gy] = freeCell(grid, rnd);
    while (Math.abs(gx - sx) + Math.abs(gy - sy) < 100) [gx, gy] = freeCell(grid, rnd);
    expect(astar.search(sx, sy, gx, gy, true, 50)).toBe(-1);
    expect(astar.info.found).toBe(false);
    expect(astar.search(sx, sy, gx, gy, true)).toBeGreaterThan(0);
  });
});

describe('distance field', () => {
  test('matches A* costs inside a window that holds both ends', () => {
    const grid = randomGrid(40, 40, 0.2, 1234);
    const field = new DistanceField(grid);
    const astar = new AStar(grid);
    const out = new Float32Array(40 * 40 + 8);
    out[out.length - 1] = 42; // canary past the window
    const rnd = mulberry32(1234);
    const [tx, ty] = freeCell(grid, rnd);
    const reached = field.compute(tx, ty, 0, 0, 40, 40, true, out, 4);
    expect(out[out.length - 1]).toBe(42);
    let checked = 0;
    for (let y = 0; y < 40; y++) {
      for (let x = 0; x < 40; x++) {
        const d = out[4 + y * 40 + x];
        const a = astar.search(x, y, tx, ty, true);
        if (a < 0) expect(d).toBe(-1);
        else {
          expect(d).toBeCloseTo(a, 4);
          checked++;
        }
      }
    }
    expect(checked).toBe(reached);
    expect(reached).toBeGreaterThan(100);
  });

  test('stays inside its window and marks the outside unreachable', () => {
    const grid = createNavGrid(20, 20);
    const field = new DistanceField(grid);
    const out = new Float32Array(25);
    expect(field.compute(7, 7, 5, 5, 5, 5, false, out, 0)).toBe(25);
    expect(out[0]).toBe(4); // (5,5) is 2+2 steps from (7,7) without diagonals
    expect(field.maxDistance).toBe(4);
    expect(field.compute(1, 1, 5, 5, 5, 5, false, out, 0)).toBe(0);
    expect(out[12]).toBe(-1);
  });
});

describe('level', () => {
  test('generation is seeded and walls enclose the arena', () => {
    const a = generateLevel({ seed: 5 });
    const b = generateLevel({ seed: 5 });
    const c = generateLevel({ seed: 6 });
    expect(Buffer.compare(Buffer.from(a.cells), Buffer.from(b.cells))).toBe(0);
    expect(Buffer.compare(Buffer.from(a.cells), Buffer.from(c.cells))).not.toBe(0);
    for (let x = 0; x < 256; x++) {
      expect(a.cells[x]).toBe(CELL_WALL);
      expect(a.cells[255 * 256 + x]).toBe(CELL_WALL);
    }
    const view = new NavGrid(a.sab);
    expect(view.width).toBe(256);
    expect(view.seed).toBe(5);
    expect(view.cells.buffer).toBe(a.sab);
  });

  test('most free cells are connected (doors are open)', () => {
    const grid = generateLevel({ seed: 11 });
    const field = new DistanceField(grid);
    const out = new Float32Array(256 * 256);
    const rnd = mulberry32(11);
    const [tx, ty] = freeCell(grid, rnd);
    const reached = field.compute(tx, ty, 0, 0, 256, 256, true, out, 0);
    let free = 0;
    for (const c of grid.cells) if (c === 0) free++;
    expect(reached / free).toBeGreaterThan(0.97);
  });

  test('wall rectangles cover every wall cell exactly once', () => {
    const grid = generateLevel({ seed: 4 });
    const rects = wallRects(grid);
    const cover = new Uint8Array(grid.cells.length);
    for (let i = 0; i < rects.length; i += 4) {
      for (let y = rects[i + 1]; y < rects[i + 1] + rects[i + 3]; y++) {
        for (let x = rects[i]; x < rects[i] + rects[i + 2]; x++) cover[y * 256 + x]++;
      }
    }
    let mismatches = 0;
    for (let i = 0; i < cover.length; i++) if (cover[i] !== grid.cells[i]) mismatches++;
    expect(mismatches).toBe(0);
    expect(rects.length / 4).toBeLessThan(2000);
  });

  test('bad sizes and foreign buffers are refused with codes', () => {
    expect(() => navBytesFor(1, 10)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => navBytesFor(10, 5000)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => new NavGrid(new SharedArrayBuffer(64))).toThrow(expect.objectContaining({ code: 'LAYOUT_MISMATCH' }));
    expect(() => generateLevel({ roomSize: 3 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});
