/**
 * Exactness on the Moving AI Lab benchmarks (`../shared/movingai/`, see its README):
 * samples of scenarios from a game map, a maze and a city map (and a few from every
 * other map there) go through the `path` kind, and every cost must be the scenario's
 * optimal length. Skipped, saying why, when the folder is not beside the project.
 */
import { describe, expect, test } from 'vitest';
import { AStar } from '../game/astar.js';
import { KindRunner } from '../frame/kind-runner.js';
import {
  MAX_WAYPOINTS, PATH_CELLS, PATH_COST, PATH_FOUND, PATH_MOVES_8, PATH_MOVES_8_JUMP, PATH_TOTAL_WAYPOINTS,
  PATH_TRUNCATED, PATH_WAYPOINTS, kinds,
} from '../game/kinds.js';
import {
  MOVINGAI_TOLERANCE, benchmarkLength, loadBenchmark, movingAiDir, sampleScenarios, stepCounts, type Benchmark,
} from '../bench/movingai.js';

const dir = movingAiDir();
if (!dir) {
  console.warn('Moving AI benchmarks not found (../shared/movingai beside the project, or FRAMEJOBS_MOVINGAI_DIR): exactness tests skipped');
}

/** [map, sample size for jump-point search, of which also through plain A*]. */
const MAPS: [string, number, number][] = [
  ['arena2', 120, 30], // game map (Dragon Age: Origins)
  ['maze512-1-0', 120, 20], // maze, corridors one cell wide
  ['Berlin_0_512', 120, 30], // city streets
  ['den312d', 20, 0],
  ['orz900d', 20, 0],
  ['Boston_0_1024', 20, 0],
  ['random512-40-5', 20, 0],
  ['8room_000', 20, 0],
];

async function runnerFor(b: Benchmark): Promise<KindRunner> {
  const path = kinds.filter((k) => k.name === 'path');
  return KindRunner.create(path, { workerIndex: -1, shared: { nav: b.grid.sab }, config: {} }, 4 * MAX_WAYPOINTS);
}

describe.skipIf(!dir)(`Moving AI benchmarks${dir ? '' : ' (skipped: ../shared/movingai not found)'}`, () => {
  for (const [name, n, plain] of MAPS) {
    test(`${name}: ${n} scenarios, every cost the published optimal length`, async () => {
      const b = loadBenchmark(dir!, name);
      const W = b.grid.width;
      const runner = await runnerFor(b);
      const PATH = runner.indexOf('path');
      const astar = new AStar(b.grid);
      let longest = 0;
      let k = 0;
      for (const s of sampleScenarios(b.scenarios, n)) {
        const where = `${name} (${s.sx},${s.sy})->(${s.gx},${s.gy}) optimal ${s.optimal}`;
        const modes = k++ < plain ? [PATH_MOVES_8_JUMP, PATH_MOVES_8] : [PATH_MOVES_8_JUMP];
        for (const moves of modes) {
          const out = runner.run(PATH, [s.sx, s.sy, s.gx, s.gy, MAX_WAYPOINTS, moves, 0x7fffffff]);
          expect(out[PATH_FOUND], where).toBe(1);
          expect(out[PATH_TRUNCATED], where).toBe(0);
          const wps = out[PATH_WAYPOINTS];
          expect(out[PATH_TOTAL_WAYPOINTS], where).toBe(wps);
          const a = runner.arenaI32;
          expect(a[0], where).toBe(s.sy * W + s.sx);
          expect(a[wps - 1], where).toBe(s.gy * W + s.gx);
          const counts = stepCounts(a, wps, W);
          expect(counts, where).not.toBeNull();
          const [straight, diagonal] = counts!;
          expect(straight + diagonal + 1, where).toBe(out[PATH_CELLS]);
          // The returned cost is the path's true octile cost...
          expect(Math.abs(out[PATH_COST] - (straight + diagonal * Math.SQRT2)), where).toBeLessThan(1e-9);
          // ...and the same steps give the published length to its 8 decimals.
          expect(Math.abs(benchmarkLength(straight, diagonal) - s.optimal), where).toBeLessThanOrEqual(MOVINGAI_TOLERANCE);
          longest = Math.max(longest, wps);
        }
        // The cell path itself walks the grid legally from start to goal.
        astar.searchJump(s.sx, s.sy, s.gx, s.gy);
        const cells = new Int32Array(astar.info.cells);
        astar.writeCells(cells, 0, cells.length);
        let illegal = -1; // first step that is not one legal move (no expect per cell: thousands of them)
        for (let i = 1; i < cells.length && illegal < 0; i++) {
          const dx = (cells[i] % W) - (cells[i - 1] % W);
          const dy = Math.floor(cells[i] / W) - Math.floor(cells[i - 1] / W);
          if (Math.max(Math.abs(dx), Math.abs(dy)) !== 1 || b.grid.cells[cells[i]] !== 0) illegal = i;
          else if (dx !== 0 && dy !== 0 && b.grid.cells[cells[i - 1] + dx] + b.grid.cells[cells[i - 1] + dy * W] !== 0) illegal = i;
        }
        expect(illegal, where).toBe(-1);
        expect(cells[cells.length - 1], where).toBe(s.gy * W + s.gx);
      }
      if (name === 'maze512-1-0') expect(longest).toBeGreaterThan(1024); // paths past the old waypoint cut
    });
  }
});
