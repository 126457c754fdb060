/**
 * A* throughput: game/astar.ts against the `pathfinding` package's AStarFinder on the
 * same queries over the same generated 256 x 256 level, measured side by side in one
 * run (rounds alternate between them so machine noise hits all alike). Two of ours:
 * AStar.searchJump (jump-point pruning, what the game's path jobs use) is the headline
 * `astar_paths_per_s`; AStar.search (plain A*, every neighbour through the heap) is
 * reported beside it.
 *
 * Fairness: both use 8-connectivity without corner cutting and the octile heuristic.
 * The package mutates its grid during a search, so it needs a fresh clone per search
 * (its documented usage); clones are made outside the timed sections, so only
 * findPath is timed. Every query's cost is checked equal between the two.
 *
 * Standalone: `node dist/bench/path-bench.js [--quick] [--json]`.
 */
import PF from 'pathfinding';
import { AStar } from '../game/astar.js';
import { generateLevel, mulberry32, type NavGrid } from '../game/grid.js';

export interface PathBenchResult {
  /** AStar.searchJump, the game's path kind. */
  astar_paths_per_s: number;
  /** AStar.search, plain A*. */
  astar_plain_paths_per_s: number;
  /** Median per-round ratio of plain A* over the package. */
  ratio_plain: number;
  pathfinding_pkg_paths_per_s: number;
  /** Median over the measured rounds of (package time / our time) in the same round. */
  ratio: number;
  /** Total package time / total our time over the measured rounds. */
  ratio_overall: number;
  /** Queries per round, measured rounds (after JIT warm-up rounds), and the mean path cost, for context. */
  queries: number;
  rounds: number;
  mean_cost: number;
}

function queries(grid: NavGrid, n: number, seed: number): Int32Array {
  const rnd = mulberry32(seed);
  const astar = new AStar(grid);
  const q = new Int32Array(4 * n);
  let k = 0;
  while (k < n) {
    const pick = (): [number, number] => {
      for (;;) {
        const x = Math.floor(rnd() * grid.width);
        const y = Math.floor(rnd() * grid.height);
        if (grid.isFree(x, y)) return [x, y];
      }
    };
    const [sx, sy] = pick();
    // Game-like goals: within 48 cells, as agents pick them.
    const gx = Math.max(1, Math.min(grid.width - 2, sx + Math.floor((rnd() * 2 - 1) * 48)));
    const gy = Math.max(1, Math.min(grid.height - 2, sy + Math.floor((rnd() * 2 - 1) * 48)));
    if (!grid.isFree(gx, gy) || astar.search(sx, sy, gx, gy, true) < 0) continue;
    q.set([sx, sy, gx, gy], 4 * k++);
  }
  return q;
}

export async function benchPath(opts: { quick: boolean }): Promise<PathBenchResult> {
  const grid = generateLevel({ seed: 1 });
  const n = opts.quick ? 40 : 100;
  const warmup = opts.quick ? 2 : 3;
  const rounds = warmup + (opts.quick ? 4 : 8);
  const q = queries(grid, n, 99);
  const astar = new AStar(grid);
  const matrix: number[][] = [];
  for (let y = 0; y < grid.height; y++) matrix.push(Array.from(grid.cells.subarray(y * grid.width, (y + 1) * grid.width)));
  const pfGrid = new PF.Grid(matrix);
  const finder = new PF.AStarFinder({ diagonalMovement: PF.DiagonalMovement.OnlyWhenNoObstacles });
  const costs = new Float64Array(n);
  for (let i = 0; i < n; i++) costs[i] = astar.search(q[4 * i], q[4 * i + 1], q[4 * i + 2], q[4 * i + 3], true);

  let mine = 0;
  let plain = 0;
  let theirs = 0;
  const CLONES = 10;
  const ratios: number[] = [];
  const ratiosPlain: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const mine0 = mine;
    const plain0 = plain;
    const theirs0 = theirs;
    let t = performance.now();
    for (let i = 0; i < n; i++) {
      if (Math.abs(astar.searchJump(q[4 * i], q[4 * i + 1], q[4 * i + 2], q[4 * i + 3]) - costs[i]) > 1e-9) throw new Error(`jump search gave a different cost for query ${i}`);
    }
    mine += performance.now() - t;
    t = performance.now();
    for (let i = 0; i < n; i++) {
      if (astar.search(q[4 * i], q[4 * i + 1], q[4 * i + 2], q[4 * i + 3], true) !== costs[i]) throw new Error(`A* gave a different cost for query ${i}`);
    }
    plain += performance.now() - t;
    for (let b = 0; b < n; b += CLONES) {
      const clones: PF.Grid[] = [];
      for (let i = b; i < Math.min(n, b + CLONES); i++) clones.push(pfGrid.clone());
      t = performance.now();
      for (let i = b; i < Math.min(n, b + CLONES); i++) {
        const path = finder.findPath(q[4 * i], q[4 * i + 1], q[4 * i + 2], q[4 * i + 3], clones[i - b]);
        if (path.length === 0) throw new Error(`pathfinding found no path for query ${i}`);
      }
      theirs += performance.now() - t;
      // Checked outside the timing: the same optimal cost.
      if (r === 0) {
        for (let i = b; i < Math.min(n, b + CLONES); i++) {
          const path = finder.findPath(q[4 * i], q[4 * i + 1], q[4 * i + 2], q[4 * i + 3], pfGrid.clone());
          let len = 0;
          for (let k = 1; k < path.length; k++) len += Math.hypot(path[k][0] - path[k - 1][0], path[k][1] - path[k - 1][1]);
          if (Math.abs(len - costs[i]) > 1e-6) throw new Error(`query ${i}: pathfinding cost ${len}, ours ${costs[i]}`);
        }
      }
    }
    if (r === warmup - 1) {
      // Everything before this was JIT warm-up for all three: start counting afresh.
      mine = 0;
      plain = 0;
      theirs = 0;
      continue;
    }
    if (r < warmup) continue;
    ratios.push((theirs - theirs0) / (mine - mine0));
    ratiosPlain.push((theirs - theirs0) / (plain - plain0));
  }
  // The median of per-round ratios resists bursts of load from other processes.
  const medianOf = (a: number[]): number => {
    const sorted = a.slice().sort((x, y) => x - y);
    return sorted[sorted.length >> 1];
  };
  const median = medianOf(ratios);
  const total = n * (rounds - warmup);
  const astarPerS = total / (mine / 1000);
  const pfPerS = total / (theirs / 1000);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += costs[i];
  return {
    astar_paths_per_s: Math.round(astarPerS),
    astar_plain_paths_per_s: Math.round(total / (plain / 1000)),
    ratio_plain: Number(medianOf(ratiosPlain).toFixed(2)),
    pathfinding_pkg_paths_per_s: Math.round(pfPerS),
    ratio: Number(median.toFixed(2)),
    ratio_overall: Number((astarPerS / pfPerS).toFixed(2)),
    queries: n,
    rounds: rounds - warmup,
    mean_cost: Number((sum / n).toFixed(2)),
  };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const quick = process.argv.includes('--quick');
  const r = await benchPath({ quick });
  if (process.argv.includes('--json')) console.log(JSON.stringify(r));
  else {
    console.log(`A* with jump points:       ${r.astar_paths_per_s} paths/s  (the game's path jobs)`);
    console.log(`plain A*:                  ${r.astar_plain_paths_per_s} paths/s  (ratio ${r.ratio_plain}x)`);
    console.log(`pathfinding AStarFinder:   ${r.pathfinding_pkg_paths_per_s} paths/s`);
    console.log(`ratio:                     ${r.ratio}x  (${r.queries} queries x ${r.rounds} rounds, mean cost ${r.mean_cost} cells)`);
  }
}
