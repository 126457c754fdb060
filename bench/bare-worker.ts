/**
 * The bare side of `npm run bench:bullmq`: a BullMQ Worker with a no-op processor in a
 * process of its own, as a remote worker is. Prints {"event":"ready"} once it takes jobs
 * and {"event":"done"} after it has completed `count` of them.
 * Arguments: redisUrl queue prefix concurrency count.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const [url, queue, prefix, concurrencyArg, countArg] = process.argv.slice(2);
const count = Number(countArg);
const conn = new Redis(url, { maxRetriesPerRequest: null });
let done = 0;
const worker = new Worker(queue, async () => 0, { connection: conn, prefix, concurrency: Number(concurrencyArg), autorun: false });
worker.on('completed', () => {
  if (++done === count) {
    console.log(JSON.stringify({ event: 'done' }));
    void worker.close().then(() => {
      conn.disconnect();
      process.exit(0);
    });
  }
});
await worker.waitUntilReady();
void worker.run();
console.log(JSON.stringify({ event: 'ready' }));
