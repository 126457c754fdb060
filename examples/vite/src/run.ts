import { EngineCore, Outcome, type ResultView, type WorkerFactory } from 'framejobs';
import { distance, kinds } from './kinds.js';

/**
 * Runs jobs on two Web Workers, checks every result, shuts down, and shows the outcome
 * as JSON on document.body.dataset.result.
 */
export async function run(workerFactory: WorkerFactory): Promise<void> {
  const JOBS = 2000;
  const engine = await EngineCore.start({ workers: 2, kinds, workerFactory });
  const DIST = engine.kindId(distance.name);
  const p = distance.createParams();
  const expected = new Float64Array(JOBS);
  const seen = new Uint8Array(JOBS);
  let wrong = 0;
  let done = 0;
  const onResult = (r: ResultView): void => {
    done++;
    if (r.status !== Outcome.Done || seen[r.tag] === 1 || distance.readResults(r.values).d !== expected[r.tag]) wrong++;
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
  // A browser has no exit event: the workers say they are stopping, so this resolves as
  // soon as they are gone, long before the timeout.
  const t = performance.now();
  const report = await engine.shutdown({ timeoutMs: 10_000 });
  const shutdownMs = performance.now() - t;
  document.body.dataset.result = JSON.stringify({ ok: wrong === 0 && done === JOBS, jobs: done, wrong, workers, timedOut: report.timedOut, shutdownMs });
}
