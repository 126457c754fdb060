/**
 * Measures main-thread heap bytes per task of a batch (params builder, submit, handle,
 * in-order delivery), in a plain Node process running the built code. Prints one JSON
 * line: { "inline": N, "workers": N }. Run with --expose-gc.
 *
 * The batch is driven by hand (poll, handle, pump) in a loop, as a game would drive it;
 * windows are measured as in alloc-probe.ts: garbage collected before each, the least
 * of several reported.
 */
import type { ResultView } from '../engine/api.js';
import { Batch } from '../engine/batch.js';
import { EngineCore } from '../engine/core.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

async function bytesPerTask(workers: number): Promise<number> {
  const e = await EngineCore.start({ workers });
  const count = 260_000;
  const got = new Float64Array(2);
  const batch = new Batch(e, {
    kind: 'noop',
    count,
    maxInFlight: 256,
    reorderWindow: 1024,
    params: (i, seed, out) => {
      out[0] = i;
      out[1] = seed & 0xff;
    },
    onResult: (i, r) => {
      got[0]++;
      got[1] += r.values[0] - i;
    },
  });
  const route = (r: ResultView): void => {
    batch.handle(r);
  };
  // An empty poll costs the engine a byte or two of heap (measured apart): on a loaded
  // machine a loop that spins on it would count thousands of them against the batch.
  // So a poll that found nothing naps 50 us first (blocking is fine in a probe).
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const until = (n: number): void => {
    while (got[0] < n) {
      if (e.poll(route) === 0) Atomics.wait(nap, 0, 0, 0.05);
      batch.pump();
    }
  };
  until(100_000);
  let least = Infinity;
  for (let w = 0; w < 7; w++) {
    gc!();
    const before = process.memoryUsage().heapUsed;
    until(got[0] + 20_000);
    least = Math.min(least, (process.memoryUsage().heapUsed - before) / 20_000);
  }
  until(count);
  const report = await batch.done;
  await e.shutdown();
  if (report.done !== count) throw new Error(`batch ended with ${report.done} of ${count} done`);
  return least;
}

const inline = await bytesPerTask(0);
const workers = await bytesPerTask(2);
console.log(JSON.stringify({ inline, workers }));
