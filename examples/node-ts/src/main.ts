import { Worker } from 'node:worker_threads';
import { EngineCore, Outcome, type ResultView } from 'framejobs';
import { distance, kinds } from './kinds.js';

const JOBS = 2000;
const engine = await EngineCore.start({
  workers: 2,
  kinds,
  workerFactory: () => new Worker(new URL('./worker.js', import.meta.url)),
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
const workers = engine.workerCount;
await engine.shutdown();
console.log(JSON.stringify({ ok: wrong === 0 && done === JOBS, jobs: done, wrong, workers, shutdownAt: Date.now() }));
