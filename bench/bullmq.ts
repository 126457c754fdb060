/**
 * `npm run bench:bullmq -- [--quick] [--tasks N] [--concurrency N] [--redis URL] [--json]`
 *
 * Per-task overhead of the bullmq backend: no-op tasks/s through our coordinator and a
 * remote worker (its own EngineCore, one thread) against a bare BullMQ Worker with a
 * no-op processor, on the same Redis, in the same run, at the same worker concurrency.
 * Both sides add every task, process it and see it finished; ours also checks, orders,
 * deduplicates and removes each finished job. Without --redis it starts its own
 * redis-server (append-only on). The last stdout line with --json is one JSON object.
 * Read the ratio, not the absolute figures: the machine is shared.
 */
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { BullmqBackend } from '../remote/bullmq-backend.js';
import { RemoteWorker } from '../remote/remote-worker.js';
import { RedisServer } from '../test/fixtures/redis-server.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    tasks: { type: 'string' },
    concurrency: { type: 'string' },
    redis: { type: 'string' },
    json: { type: 'boolean' },
  },
  strict: true,
});

const quick = values.quick === true;
const tasks = Number(values.tasks ?? (quick ? 2000 : 10_000));
const concurrency = Number(values.concurrency ?? 16);
if (!Number.isInteger(tasks) || tasks < 1 || !Number.isInteger(concurrency) || concurrency < 1) {
  console.error('usage: npm run bench:bullmq -- [--quick] [--tasks N] [--concurrency N] [--redis URL] [--json]');
  process.exit(2);
}
const rounds = quick ? 3 : 5;

async function bare(url: string, queueName: string, tasks: number): Promise<number> {
  const conn = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection: conn, prefix: 'bench' });
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const worker = new Worker(queueName, async () => 0, { connection: conn, prefix: 'bench', concurrency, autorun: false });
  worker.on('completed', () => {
    if (++done === tasks) finish();
  });
  await worker.waitUntilReady();
  const t0 = performance.now();
  void worker.run();
  for (let i = 0; i < tasks; i += 500) {
    const n = Math.min(500, tasks - i);
    await queue.addBulk(Array.from({ length: n }, (_, k) => ({ name: 'noop', data: { kind: 'noop', params: [i + k, 1] } })));
  }
  await finished;
  const perS = tasks / ((performance.now() - t0) / 1000);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  conn.disconnect();
  return perS;
}

async function ours(url: string, queueName: string, tasks: number): Promise<number> {
  const worker = await RemoteWorker.start({ redis: url, kindModules: [], threads: 1, concurrency, queue: queueName, prefix: 'bench' });
  const backend = await BullmqBackend.connect({ redis: url, queue: queueName, prefix: 'bench' });
  let sum = 0;
  const t0 = performance.now();
  const summary = await backend.runBatch({
    tasks: { count: tasks, task: (i) => ({ kind: 'noop', params: [i, 1] }) },
    maxInFlight: 512,
    onResult: (_i, r) => {
      sum += r.values[0] ?? 0;
    },
  });
  const perS = tasks / ((performance.now() - t0) / 1000);
  if (summary.completed !== tasks || sum !== (tasks * (tasks - 1)) / 2 + tasks) throw new Error(`bench batch went wrong: ${JSON.stringify(summary)}`);
  await backend.close();
  await worker.close();
  return perS;
}

const server = values.redis === undefined ? await RedisServer.start() : null;
const url = values.redis ?? server!.url;
try {
  // Warm-up: JIT, first connections and script loading on both sides, not measured.
  await bare(url, `bare-${process.pid}-warm`, Math.min(tasks, 1000));
  await ours(url, `ours-${process.pid}-warm`, Math.min(tasks, 1000));
  // Rounds alternate bare and ours back to back; the ratio is the median of the rounds'
  // ratios, which a load spike on a shared machine moves less than either best figure.
  const bares: number[] = [];
  const ourses: number[] = [];
  for (let r = 0; r < rounds; r++) {
    bares.push(await bare(url, `bare-${process.pid}-${r}`, tasks));
    ourses.push(await ours(url, `ours-${process.pid}-${r}`, tasks));
  }
  const ratios = bares.map((b, i) => ourses[i] / b).sort((a, b) => a - b);
  const median = ratios[Math.floor(ratios.length / 2)];
  const result = {
    bullmq_noop_tasks_per_s: { ours: Math.round(Math.max(...ourses)), bare: Math.round(Math.max(...bares)), ratio: Number(median.toFixed(3)) },
    round_ratios: ratios.map((r) => Number(r.toFixed(3))),
    tasks,
    concurrency,
    rounds,
  };
  if (values.json === true) console.log(JSON.stringify(result));
  else {
    console.log(`no-op tasks/s, ${tasks} tasks, worker concurrency ${concurrency}, best of ${rounds} rounds:`);
    console.log(`  bare BullMQ Worker     ${result.bullmq_noop_tasks_per_s.bare}`);
    console.log(`  framejobs bullmq        ${result.bullmq_noop_tasks_per_s.ours}`);
    console.log(`  ratio (median of rounds) ${result.bullmq_noop_tasks_per_s.ratio} (target >= 0.8; rounds ${result.round_ratios.join(', ')})`);
  }
} finally {
  await server?.dispose();
}
