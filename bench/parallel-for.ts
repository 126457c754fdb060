/**
 * `npm run bench:pfor [-- --agents N] [--json]`: one steering job over many agents
 * (game/steer-kinds.ts) as engine.parallelFor, run inline (workers: 0: every chunk on
 * this thread, back to back) and on 1 and 2 workers, interleaved in rounds on the same
 * data; reports each one's median time and the speed-up over inline, and checks the
 * outputs are identical.
 */
import { parseArgs } from 'node:util';
import type { ResultView } from '../engine/api.js';
import { EngineCore } from '../engine/core.js';
import { builtModuleUrl } from '../engine/paths.js';
import { mulberry32 } from '../game/random.js';
import { STEER_IN, STEER_OUT } from '../game/steer-kinds.js';

const { values: v } = parseArgs({ options: { agents: { type: 'string', default: '60000' }, rounds: { type: 'string', default: '15' }, json: { type: 'boolean', default: false } } });
const agents = Number(v.agents);
const rounds = Number(v.rounds);
const KINDS = builtModuleUrl(import.meta.url, '../game/steer-kinds.js');

const input = new Float32Array(agents * STEER_IN);
const rnd = mulberry32(5);
for (let i = 0; i < input.length; i++) input[i] = (rnd() - 0.5) * 100;

async function engineFor(workers: number): Promise<EngineCore> {
  return EngineCore.start({ workers, kindModules: [KINDS], arenaBytes: 1 << 24, backgroundWorkers: Math.max(1, workers), hangTimeoutMs: 10_000, workerNice: 0 });
}

/** One steering job; returns its wall time (submit to result) and a copy of the output. */
async function once(e: EngineCore, grain: number): Promise<{ ms: number; out: Float32Array }> {
  const kind = e.kindId('steer');
  const bytes = 4 * (STEER_IN + STEER_OUT) * agents;
  const off = e.arenaAlloc(bytes);
  if (off < 0) throw new Error('arena too small');
  e.arenaF32.set(input, off >> 2);
  const t0 = performance.now();
  const id = e.parallelFor(kind, [agents, 8, 1, 0.05], agents, grain, 0, { arenaOffset: off, arenaBytes: bytes });
  if (id < 0) throw new Error(`parallelFor refused: ${id}`);
  let out: Float32Array | null = null;
  let status = 0;
  const sink = (r: ResultView): void => {
    status = r.status;
    const o = (r.arenaOffset >> 2) + STEER_IN * agents;
    out = e.arenaF32.slice(o, o + STEER_OUT * agents);
  };
  // The waiting thread sleeps between polls: on two cores a spinning poller would take
  // the core a worker needs (a game thread waits for its next frame the same way).
  const wake = new Int32Array(new SharedArrayBuffer(4));
  while (out === null) {
    e.poll(sink);
    if (out === null) Atomics.wait(wake, 0, 0, 0.2);
  }
  const ms = performance.now() - t0;
  if (status !== 1) throw new Error(`steering job ended with status ${status}`);
  return { ms, out };
}

const setups = [0, 1, 2];
const engines = await Promise.all(setups.map((w) => engineFor(w)));
const times: number[][] = setups.map(() => []);
let reference: Float32Array | null = null;
let identical = true;
try {
  for (let r = -2; r < rounds; r++) {
    for (let s = 0; s < setups.length; s++) {
      const grain = Math.max(64, Math.ceil(agents / (8 * Math.max(1, setups[s]))));
      const { ms, out } = await once(engines[s], grain);
      if (r >= 0) times[s].push(ms);
      if (reference === null) reference = out;
      else if (out.length !== reference.length || out.some((x, i) => x !== reference![i])) identical = false;
    }
  }
} finally {
  await Promise.all(engines.map((e) => e.shutdown()));
}
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const inlineMs = median(times[0]);
const result = {
  bench: 'parallel-for',
  agents,
  rounds,
  inline_ms: Number(inlineMs.toFixed(3)),
  workers_1_ms: Number(median(times[1]).toFixed(3)),
  workers_2_ms: Number(median(times[2]).toFixed(3)),
  speedup_1: Number((inlineMs / median(times[1])).toFixed(2)),
  speedup_2: Number((inlineMs / median(times[2])).toFixed(2)),
  identical_output: identical,
};
if (!v.json) console.log(`steering ${agents} agents: inline ${result.inline_ms} ms, 1 worker ${result.workers_1_ms} ms (${result.speedup_1}x), 2 workers ${result.workers_2_ms} ms (${result.speedup_2}x); outputs identical: ${identical}`);
console.log(JSON.stringify(result));
if (!identical) process.exitCode = 1;
