import { Worker } from 'node:worker_threads';
import { EngineCore, Outcome, type ResultView } from 'framejobs';
import { PATH_MOVES_4, PATH_MOVES_8_JUMP, navGridFromWalkable, pathKind } from 'framejobs/kinds/grid';
import { distance, kinds } from './kinds.js';

// Our own level for the path kind: one corridor zig-zagging down, 25 steps from S to G.
const LEVEL = [
  'S.......',
  '#######.',
  '........',
  '.#######',
  '.......G',
];
const W = 8;
const walkable = Uint8Array.from(LEVEL.join(''), (c) => (c === '#' ? 0 : 1));
const grid = navGridFromWalkable(W, LEVEL.length, walkable);

const JOBS = 2000;
const engine = await EngineCore.start({
  workers: 2,
  kinds,
  // Built (tsc, a bundler): worker.js beside this file. From source under tsx: a small
  // JavaScript entry that registers tsx in the worker first (src/worker-tsx.mjs).
  workerFactory: () => new Worker(new URL(import.meta.url.endsWith('.ts') ? './worker-tsx.mjs' : './worker.js', import.meta.url)),
  shared: { nav: grid.sab },
});
const DIST = engine.kindId(distance.name);
const p = distance.createParams();
const expected = new Float64Array(JOBS);
const seen = new Uint8Array(JOBS);
let wrong = 0;
let done = 0;
const onResult = (r: ResultView): void => {
  done++;
  const v = distance.readResults(r.values);
  if (r.status !== Outcome.Done || seen[r.tag] === 1 || v.d !== expected[r.tag] || v.dx !== -2 * r.tag) wrong++;
  seen[r.tag] = 1;
};
let submitted = 0;
while (done < JOBS) {
  while (submitted < JOBS) {
    p.ax = submitted;
    p.ay = submitted * 0.5;
    p.bx = -submitted;
    p.by = 3;
    expected[submitted] = Math.hypot(p.bx - p.ax, p.by - p.ay);
    if (engine.submit(DIST, p, submitted) < 0) break;
    submitted++;
  }
  engine.poll(onResult);
  await new Promise((r) => setTimeout(r, 1));
}

// Path jobs over our grid, both ways, plain A* and jump points: the same 25-step path,
// whose turning points are the corridor's corners.
const PATHS = 40;
const PATH = engine.kindId(pathKind.name);
const corners = [0, 7, 2 * W + 7, 2 * W, 4 * W, 4 * W + 7];
const q = pathKind.createParams();
let pathWrong = 0;
let paths = 0;
let pathCost = -1;
const onPath = (r: ResultView): void => {
  paths++;
  const v = pathKind.readResults(r.values);
  const want = r.tag % 2 === 0 ? corners : [...corners].reverse();
  const got = Array.from(engine.arenaI32.subarray(r.arenaOffset >> 2, (r.arenaOffset >> 2) + v.waypoints));
  if (r.status !== Outcome.Done || v.found !== 1 || v.cost !== 25 || v.cells !== 26 || v.truncated !== 0 || v.totalWaypoints !== 6 || got.join() !== want.join()) pathWrong++;
  pathCost = v.cost;
};
let pathSubmitted = 0;
while (paths < PATHS) {
  while (pathSubmitted < PATHS) {
    const forward = pathSubmitted % 2 === 0;
    q.sx = forward ? 0 : 7;
    q.sy = forward ? 0 : 4;
    q.gx = forward ? 7 : 0;
    q.gy = forward ? 4 : 0;
    q.maxWaypoints = 16;
    q.moves = pathSubmitted % 4 < 2 ? PATH_MOVES_4 : PATH_MOVES_8_JUMP;
    q.maxExpanded = 10_000;
    if (engine.submit(PATH, q, pathSubmitted) < 0) break;
    pathSubmitted++;
  }
  engine.poll(onPath);
  await new Promise((r) => setTimeout(r, 1));
}
const workers = engine.workerCount;
await engine.shutdown();
const ok = wrong === 0 && done === JOBS && pathWrong === 0 && paths === PATHS;
console.log(JSON.stringify({ ok, jobs: done, wrong, workers, paths, pathWrong, pathCost, shutdownAt: Date.now() }));
