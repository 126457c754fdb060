// Plain Node: kinds by URL (kindModules), the package's own worker entry.
import { EngineCore, Outcome } from 'framejobs';

const JOBS = 2000;
const engine = await EngineCore.start({ workers: 2, kindModules: [new URL('./kinds.js', import.meta.url)] });
const DIST = engine.kindId('example.distance');
const p = new Float64Array(4);
const expected = new Float64Array(JOBS);
const seen = new Uint8Array(JOBS);
let wrong = 0;
let done = 0;
const onResult = (r) => {
  done++;
  if (r.status !== Outcome.Done || seen[r.tag] === 1 || r.values[0] !== expected[r.tag]) wrong++;
  seen[r.tag] = 1;
};
let submitted = 0;
while (done < JOBS) {
  while (submitted < JOBS) {
    p[0] = submitted;
    p[1] = submitted * 0.5;
    p[2] = -submitted;
    p[3] = 3;
    expected[submitted] = Math.hypot(p[2] - p[0], p[3] - p[1]);
    if (engine.submit(DIST, p, submitted) < 0) break;
    submitted++;
  }
  engine.poll(onResult);
  await new Promise((r) => setTimeout(r, 1));
}
const workers = engine.workerCount;
await engine.shutdown();
console.log(JSON.stringify({ ok: wrong === 0 && done === JOBS, jobs: done, wrong, workers, shutdownAt: Date.now() }));
