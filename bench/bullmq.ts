/**
 * `npm run bench:bullmq -- [--quick] [--tasks N] [--concurrency N] [--redis URL] [--json]`
 *
 * Per-task overhead of the bullmq backend: no-op tasks/s through our coordinator and a
 * remote worker process (`framejobs worker`, its own EngineCore, one thread) against a
 * bare BullMQ Worker with a no-op processor in a process of its own, fed by a plain
 * producer: the same Redis, the same run, the same worker concurrency.
 * Both sides add every task, process it and see it finished; ours also checks, orders,
 * deduplicates and removes each finished job. Without --redis it starts its own
 * redis-server (append-only on). The last stdout line with --json is one JSON object.
 * Read the ratio, not the absolute figures: the machine is shared.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { BullmqBackend } from '../remote/bullmq-backend.js';
import { spawnWorker } from '../remote/spawn.js';
import { RedisServer } from '../test/fixtures/redis-server.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    tasks: { type: 'string' },
    concurrency: { type: 'string' },
    redis: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean' },
  },
  strict: true,
});

const USAGE = 'usage: npm run bench:bullmq -- [--quick] [--tasks N] [--concurrency N] [--redis URL] [--json]';
if (values.help === true) {
  console.log(USAGE);
  process.exit(0);
}

const quick = values.quick === true;
const tasks = Number(values.tasks ?? (quick ? 2000 : 10_000));
const concurrency = Number(values.concurrency ?? 16);
if (!Number.isInteger(tasks) || tasks < 1 || !Number.isInteger(concurrency) || concurrency < 1) {
  console.error(USAGE);
  process.exit(2);
}
const rounds = quick ? 3 : 5;

/** Starts a worker process and resolves once it printed {"event":"ready"}. */
function startProcess(args: string[], env: Record<string, string> = {}): Promise<{ done: Promise<void>; proc: ChildProcess }> {
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let buf = '';
  let onDone: () => void = () => {};
  const done = new Promise<void>((r) => (onDone = r));
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`worker process exited with ${code}`)));
    proc.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      if (buf.includes('"event":"ready"')) resolve({ done, proc });
      if (buf.includes('"event":"done"')) onDone();
    });
  });
}

/**
 * Bare: the producer adds every job (500 per addBulk); a no-op BullMQ Worker in its own
 * process completes them. With `events`, the producer also counts the completions on the
 * queue's event stream, as any batch that wants its results back must.
 */
async function bare(url: string, queueName: string, tasks: number, events: boolean): Promise<number> {
  const conn = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection: conn, prefix: 'bench' });
  let seen: Promise<void> = Promise.resolve();
  let queueEvents: QueueEvents | null = null;
  if (events) {
    queueEvents = new QueueEvents(queueName, { connection: conn, prefix: 'bench' });
    await queueEvents.waitUntilReady();
    let n = 0;
    seen = new Promise<void>((resolve) => queueEvents!.on('completed', () => void (++n === tasks && resolve())));
  }
  const worker = await startProcess([fileURLToPath(new URL('./bare-worker.js', import.meta.url)), url, queueName, 'bench', String(concurrency), String(tasks)]);
  const t0 = performance.now();
  for (let i = 0; i < tasks; i += 500) {
    const n = Math.min(500, tasks - i);
    await queue.addBulk(Array.from({ length: n }, (_, k) => ({ name: 'noop', data: { kind: 'noop', params: [i + k, 1] } })));
  }
  await worker.done;
  await seen;
  const perS = tasks / ((performance.now() - t0) / 1000);
  worker.proc.kill('SIGKILL');
  await queueEvents?.close();
  await queue.obliterate({ force: true });
  await queue.close();
  conn.disconnect();
  return perS;
}

/** Ours: the coordinator runs the batch; a `framejobs worker` process (one engine thread) runs the tasks. */
async function ours(url: string, queueName: string, tasks: number): Promise<number> {
  const worker = spawnWorker({ redis: url, kinds: [fileURLToPath(new URL('./noop-kinds.js', import.meta.url))], args: ['--queue', queueName, '--prefix', 'bench', '--threads', '1', '--concurrency', String(concurrency)] });
  await worker.waitFor((e) => e.event === 'ready');
  const backend = await BullmqBackend.connect({ redis: url, queue: queueName, prefix: 'bench' });
  let sum = 0;
  const t0 = performance.now();
  const summary = await backend.runBatch({
    tasks: { count: tasks, task: (i) => ({ kind: 'bench.noop', params: [i, 1] }) },
    maxInFlight: 512,
    onResult: (_i, r) => {
      sum += r.values[0] ?? 0;
    },
  });
  const perS = tasks / ((performance.now() - t0) / 1000);
  if (summary.completed !== tasks || sum !== (tasks * (tasks - 1)) / 2 + tasks) throw new Error(`bench batch went wrong: ${JSON.stringify(summary)}`);
  await backend.close();
  await worker.kill('SIGKILL');
  return perS;
}

const server = values.redis === undefined ? await RedisServer.start() : null;
const url = values.redis ?? server!.url;
try {
  // Warm-up: JIT, first connections and script loading on both sides, not measured.
  await bare(url, `bare-${process.pid}-warm`, Math.min(tasks, 1000), false);
  await ours(url, `ours-${process.pid}-warm`, Math.min(tasks, 1000));
  // Rounds alternate the three back to back; each ratio is the median of the rounds'
  // ratios, which a load spike on a shared machine moves less than any best figure.
  const bares: number[] = [];
  const bareEvents: number[] = [];
  const ourses: number[] = [];
  for (let r = 0; r < rounds; r++) {
    bares.push(await bare(url, `bare-${process.pid}-${r}`, tasks, false));
    bareEvents.push(await bare(url, `bare-ev-${process.pid}-${r}`, tasks, true));
    ourses.push(await ours(url, `ours-${process.pid}-${r}`, tasks));
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ratios = bares.map((b, i) => ourses[i] / b);
  const ratiosEvents = bareEvents.map((b, i) => ourses[i] / b);
  const result = {
    bullmq_noop_tasks_per_s: {
      ours: Math.round(Math.max(...ourses)),
      bare: Math.round(Math.max(...bares)),
      ratio: Number(median(ratios).toFixed(3)),
      bare_with_events: Math.round(Math.max(...bareEvents)),
      ratio_with_events: Number(median(ratiosEvents).toFixed(3)),
    },
    round_ratios: ratios.map((r) => Number(r.toFixed(3))),
    tasks,
    concurrency,
    rounds,
  };
  if (values.json === true) console.log(JSON.stringify(result));
  else {
    console.log(`no-op tasks/s, ${tasks} tasks, worker concurrency ${concurrency}, best of ${rounds} rounds:`);
    const b = result.bullmq_noop_tasks_per_s;
    console.log(`  bare BullMQ Worker                      ${b.bare}`);
    console.log(`  bare, completions read from the events  ${b.bare_with_events}`);
    console.log(`  framejobs bullmq                        ${b.ours}`);
    console.log(`  ratio to bare (median of rounds)        ${b.ratio} (target >= 0.8; rounds ${result.round_ratios.join(', ')})`);
    console.log(`  ratio to bare with events               ${b.ratio_with_events}`);
  }
} finally {
  await server?.dispose();
}
