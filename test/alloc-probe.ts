/**
 * Measures main-thread heap bytes per job over submit + poll, in a plain Node process
 * running the built engine (no test-runner transforms in the way). Prints one JSON
 * line: { "inline": N, "workers": N }, with the argument `traced` { "traced": N }, with
 * `many` (jobs submitted by submitMany) { "many": N }, or with `views` (parameters filled
 * by name, in each kind's createParams() view, a class of its own) { "views": N }, or both
 * (submitMany's batches in Float64Arrays of six classes) { "manyViews": N }, or with `bundle`
 * (jobs submitted 1,024 at a time by submitBundle) { "bundle": N }.
 * Run with --expose-gc.
 *
 * Each window is measured with garbage collected before it and none during it (a
 * window is far smaller than the young generation); the least of several windows is
 * reported, so a stray allocation elsewhere cannot inflate it, while a per-job
 * allocation shows in every window.
 */
import { EngineCore } from '../engine/core.js';
import { defineKind } from '../engine/kind.js';
import { builtModuleUrl } from '../engine/paths.js';
import { echoKind } from './fixtures/kinds.js';
import { pairKind } from './fixtures/static-kinds.js';
import { kinds as builtinKinds } from '../engine/builtin-kinds.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

async function bytesPerJob(workers: number, trace = false, many = false, views = false, bundle = false): Promise<number> {
  // test.pair reads and writes its parameters and results by name (named views), and
  // the sink reads its results by name: naming must not allocate either.
  const e = await EngineCore.start({ workers, kindModules: [builtModuleUrl(import.meta.url, './fixtures/kinds.js'), builtModuleUrl(import.meta.url, './fixtures/static-kinds.js')], trace });
  const NOOP = e.kindId('noop');
  const ECHO = e.kindId('test.echo');
  const PAIR = e.kindId('test.pair');
  const p = new Float64Array(2);
  let done = 0;
  // A typed array, not a captured `let`: a double held in a closure is re-boxed on every add.
  const sum = new Float64Array(1);
  const sink = (r: { kind: number; values: Float64Array }): void => {
    done++;
    sum[0] += r.kind === PAIR ? pairKind.readResults(r.values).sum : r.values[0];
  };
  // With `views`, batches come in Float64Arrays of six classes of the game's own.
  const batchClasses = [class A extends Float64Array {}, class B extends Float64Array {}, class C extends Float64Array {}, class D extends Float64Array {}, class E extends Float64Array {}, class F extends Float64Array {}];
  // A bundle holds more jobs than a submitMany batch: 1,024, as a game would send them.
  const per = bundle ? 1024 : 256;
  const batches = views ? batchClasses.map((C) => new C(2 * per)) : [new Float64Array(2 * per)];
  const ids = new Int32Array(per);
  let turn = 0;
  const runMany = (n: number): void => {
    let s = 0;
    const start = done;
    while (s < n) {
      const batch = batches[turn++ % batches.length];
      const k = Math.min(per, n - s);
      for (let b = 0; b < k; b++) {
        batch[2 * b] = s + b;
        batch[2 * b + 1] = (s + b) & 1023;
      }
      const slice = k === per ? batch : batch.subarray(0, 2 * k);
      const got = bundle ? (e.submitBundle(NOOP, slice, k, s & 0xffff) >= 0 ? k : 0) : e.submitMany(NOOP, slice, k, ids, s & 0xffff);
      if (got < k) while (start + s + Math.max(0, got) - done > 64) e.poll(sink);
      s += Math.max(0, got);
      e.poll(sink);
    }
    while (done < start + n) e.poll(sink);
  };
  // One view per kind, each its own class: submit's parameter read meets them all at one
  // site. A game has a kind per system; past four classes a site's reads go generic. The
  // three not registered here stand for more of the game's kinds (their views, of the
  // same shape, are submitted as noop).
  const noopKind = builtinKinds.find((k) => k.name === 'noop')!;
  const more = [1, 2, 3].map((i) =>
    defineKind({ name: `probe.view${i}`, params: [{ name: `a${i}`, type: 'f64' }, { name: `b${i}`, type: 'f64' }], results: [], run() {} }).createParams(),
  );
  const named = [pairKind.createParams(), noopKind.createParams(), echoKind.createParams(), ...more];
  const run = (n: number): void => {
    if (many) return runMany(n);
    let s = 0;
    const start = done;
    while (s < n) {
      for (let b = 0; b < 256 && s < n; b++) {
        const which = s % 3 === 0 ? 0 : s & 1 ? 1 : 2;
        const q = !views ? p : which === 1 ? named[1 + ((s >> 1) % 4 === 0 ? 0 : 2 + ((s >> 1) % 3))] : named[which];
        q[0] = s;
        q[1] = s & 1023;
        if (e.submit(which === 0 ? PAIR : which === 1 ? NOOP : ECHO, q, s & 0xffff) < 0) {
          // Rings full (slow workers on a loaded machine): drain well down before
          // submitting again. Refilling a job or two per poll would read the clock (the
          // one allowance, once per burst of submits) almost per job.
          while (start + s - done > 64) e.poll(sink);
          break;
        }
        s++;
      }
      e.poll(sink);
    }
    while (done < start + n) e.poll(sink);
  };
  run(200_000);
  let least = Infinity;
  for (let w = 0; w < 7; w++) {
    gc!();
    const before = process.memoryUsage().heapUsed;
    run(20_000);
    least = Math.min(least, (process.memoryUsage().heapUsed - before) / 20_000);
  }
  await e.shutdown();
  if (!(sum[0] > 0)) throw new Error('no results');
  return least;
}

if (process.argv[2] === 'bundle') {
  console.log(JSON.stringify({ bundle: await bytesPerJob(2, false, true, false, true) }));
} else if (process.argv[2] === 'many-views') {
  console.log(JSON.stringify({ manyViews: await bytesPerJob(2, false, true, true) }));
} else if (process.argv[2] === 'views') {
  console.log(JSON.stringify({ views: await bytesPerJob(2, false, false, true) }));
} else if (process.argv[2] === 'many') {
  console.log(JSON.stringify({ many: await bytesPerJob(2, false, true) }));
} else if (process.argv[2] === 'traced') {
  // With the job timeline on (its own process, so it meets no code shaped by the others):
  // its hooks only store numbers into the trace rings.
  console.log(JSON.stringify({ traced: await bytesPerJob(2, true) }));
} else {
  const inline = await bytesPerJob(0);
  const workers = await bytesPerJob(2);
  console.log(JSON.stringify({ inline, workers }));
}
