/**
 * `npm run bench:batch [-- --quick] [-- --json] [-- --workers N] [-- --in-flight N]`: ordered batch
 * throughput against unordered on the same tasks, in the same run, rounds interleaved
 * so drift on a shared machine hits both alike. The tasks are COMPUTE_HEAVY jobs with
 * seeded, skewed run times (most short, one in five ten times longer), so workers finish
 * out of order and the reorder window has work to do. Same bound and window for both:
 * the difference is the cost of delivering in input order.
 *
 * Expected: ordered at 90 % or more of unordered. With --json the last stdout line is
 * one JSON object.
 */
import { parseArgs } from 'node:util';
import { runBatch, type BatchReport } from '../engine/batch.js';
import { EngineCore } from '../engine/core.js';
import { mulberry32 } from '../game/grid.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    workers: { type: 'string', default: '2' },
    tasks: { type: 'string' },
    'in-flight': { type: 'string' },
  },
});
const workers = Number(args.workers);
const tasks = Number(args.tasks ?? (args.quick ? 3000 : 20000));
const rounds = args.quick ? 2 : 4;
const maxInFlight = Number(args['in-flight'] ?? Math.max(1, workers * 2));
const log = (...a: unknown[]): void => {
  if (args.json) console.error(...a);
  else console.log(...a);
};

const rnd = mulberry32(42);
const iterations = new Int32Array(tasks);
for (let i = 0; i < tasks; i++) iterations[i] = rnd() < 0.2 ? 200 + Math.floor(rnd() * 400) : 20 + Math.floor(rnd() * 40);

// An engine of the batch's own: its background lane may use every worker.
const engine = await EngineCore.start({ workers, backgroundWorkers: Math.max(1, workers) });
const kind = engine.kindId('compute-heavy');

async function once(ordered: boolean): Promise<{ perSecond: number; report: BatchReport; values: Float64Array }> {
  const values = new Float64Array(tasks);
  let expect = 0;
  let inOrder = true;
  const t0 = performance.now();
  const report = await runBatch(engine, {
    kind,
    count: tasks,
    ordered,
    maxInFlight,
    params: (i, _seed, out) => {
      out[0] = i;
      out[1] = iterations[i];
    },
    onResult: (i, r) => {
      if (i !== expect++) inOrder = false;
      values[i] = r.values[0];
    },
  });
  const s = (performance.now() - t0) / 1000;
  if (report.done !== tasks) throw new Error(`batch ended with ${report.done} of ${tasks} done`);
  if (ordered && !inOrder) throw new Error('ordered batch delivered out of order');
  return { perSecond: tasks / s, report, values };
}

// Warm-up: the workers' handlers and the main thread's batch code get optimised.
await once(true);
await once(false);
const ord: number[] = [];
const un: number[] = [];
for (let r = 0; r < rounds; r++) {
  const a = await once(r % 2 === 0);
  const b = await once(r % 2 !== 0);
  const [o, u] = r % 2 === 0 ? [a, b] : [b, a];
  ord.push(o.perSecond);
  un.push(u.perSecond);
  for (let i = 0; i < tasks; i++) if (o.values[i] !== u.values[i]) throw new Error(`ordered and unordered runs disagree at task ${i}`);
  log(`round ${r + 1}: ordered ${o.perSecond.toFixed(0)} tasks/s, unordered ${u.perSecond.toFixed(0)} tasks/s`);
}
const median = (v: number[]): number => {
  const s = [...v].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const result = {
  bench: 'batch-order',
  workers,
  tasks,
  rounds,
  max_in_flight: maxInFlight,
  ordered_tasks_per_s: Math.round(median(ord)),
  unordered_tasks_per_s: Math.round(median(un)),
  ordered_vs_unordered: Number((median(ord) / median(un)).toFixed(3)),
  target: 0.9,
};
log(`ordered / unordered: ${(result.ordered_vs_unordered * 100).toFixed(1)} % (target >= 90 %)`);
console.log(JSON.stringify(result));
await engine.shutdown({ timeoutMs: 2000 });
