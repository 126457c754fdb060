/**
 * `framejobs worker --redis URL --kinds MODULE [--concurrency N]`: one remote worker
 * process. The package's bin calls `workerMain(args)`; `npm run worker -- ...` runs this
 * file directly. Exit codes: 0 after a clean stop (SIGINT/SIGTERM), 1 when it cannot
 * start (Redis unreachable, a kind module that does not load), 2 for bad options.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BackendError } from './errors.js';
import { Redactor } from './redact.js';
import { RemoteWorker, type WorkerLogEvent } from './remote-worker.js';

export const WORKER_USAGE = `usage: framejobs worker --redis URL --kinds MODULE [--kinds MODULE ...] [options]

Takes tasks from a BullMQ queue on Redis and runs them on local worker threads.

  --redis URL              redis://[user:password@]host:port[/db] (or set FRAMEJOBS_REDIS_URL,
                           which keeps the password out of the process list)
  --kinds MODULE           a built kind module (.js path or file: URL); repeatable
  --concurrency N          tasks taken from the queue at once (default: threads x 4)
  --threads N              engine worker threads (default: available cores)
  --queue NAME             queue name (default: framejobs)
  --prefix NAME            Redis key prefix (default: framejobs)
  --lock-duration-ms N     job lock, renewed while a task runs (default 30000)
  --stalled-interval-ms N  how often lost workers' jobs are looked for (default 30000)
  --max-stalled N          recoveries from lost workers before a task fails (default 2)
  --hang-timeout-ms N      a task running longer on one thread is hung (default 600000)
  --connect-timeout-ms N   longest wait for Redis at start (default 5000)
  --init-timeout-ms N      longest kind init per thread (default 120000)
  --config JSON            configuration handed to every kind's init (a JSON object)
  --name NAME              worker name shown in Redis
  --log-jobs               print a JSON line per job started, completed, failed
  --help                   this text

Only kinds registered by the given modules (and the engine's built-ins) run; a task
naming any other kind fails with reason unknown-kind. Output: JSON lines on stdout.`;

const OPTIONS = {
  redis: { type: 'string' },
  kinds: { type: 'string', multiple: true },
  concurrency: { type: 'string' },
  threads: { type: 'string' },
  queue: { type: 'string' },
  prefix: { type: 'string' },
  'lock-duration-ms': { type: 'string' },
  'stalled-interval-ms': { type: 'string' },
  'max-stalled': { type: 'string' },
  'hang-timeout-ms': { type: 'string' },
  'connect-timeout-ms': { type: 'string' },
  'init-timeout-ms': { type: 'string' },
  config: { type: 'string' },
  name: { type: 'string' },
  'log-jobs': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(v)}`);
  return Number(v);
}

function parseConfig(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new UsageError('--config must be a JSON object');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError('--config must be a JSON object');
  return v as Record<string, unknown>;
}

/** A module argument as the URL both the engine's threads import. */
function moduleUrl(spec: string, cwd: string): string {
  if (/^file:/.test(spec)) return spec;
  if (spec.endsWith('.ts')) throw new UsageError(`--kinds takes a built .js module, got ${spec}`);
  return pathToFileURL(resolve(cwd, spec)).href;
}

export interface WorkerMainIo {
  readonly out?: (line: string) => void;
  readonly err?: (line: string) => void;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Resolves when the worker should stop (default: SIGINT or SIGTERM). */
  readonly stopSignal?: Promise<void>;
}

/** Runs a worker until stopped. Returns the process exit code. */
export async function workerMain(argv: readonly string[], io: WorkerMainIo = {}): Promise<number> {
  const out = io.out ?? ((l: string) => process.stdout.write(l + '\n'));
  const err = io.err ?? ((l: string) => process.stderr.write(l + '\n'));
  const env = io.env ?? process.env;
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; args: string[]; allowPositionals: false; strict: true }>>['values'];
  let redis: string;
  let kinds: string[];
  let config: Record<string, unknown> | undefined;
  let redactor = new Redactor([]);
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: false, strict: true }));
    if (values.help === true) {
      out(WORKER_USAGE);
      return 0;
    }
    redis = values.redis ?? env.FRAMEJOBS_REDIS_URL ?? '';
    redactor = Redactor.forUrl(redis);
    if (redis === '') throw new UsageError('--redis URL is required (or FRAMEJOBS_REDIS_URL)');
    if (values.kinds === undefined || values.kinds.length === 0) throw new UsageError('--kinds MODULE is required');
    kinds = values.kinds.map((k) => moduleUrl(k, io.cwd ?? process.cwd()));
    config = parseConfig(values.config);
  } catch (e) {
    err(`framejobs worker: ${redactor.error(e)}`);
    err(WORKER_USAGE.split('\n', 1)[0]);
    return 2;
  }
  let worker: RemoteWorker;
  try {
    worker = await RemoteWorker.start({
      redis,
      kindModules: kinds,
      concurrency: int('concurrency', values.concurrency),
      threads: int('threads', values.threads),
      queue: values.queue,
      prefix: values.prefix,
      lockDurationMs: int('lock-duration-ms', values['lock-duration-ms']),
      stalledIntervalMs: int('stalled-interval-ms', values['stalled-interval-ms']),
      maxStalledCount: int('max-stalled', values['max-stalled']),
      hangTimeoutMs: int('hang-timeout-ms', values['hang-timeout-ms']),
      connectTimeoutMs: int('connect-timeout-ms', values['connect-timeout-ms']),
      initTimeoutMs: int('init-timeout-ms', values['init-timeout-ms']),
      config,
      name: values.name,
      logJobs: values['log-jobs'] === true,
      log: (e: WorkerLogEvent) => out(JSON.stringify(e)),
    });
  } catch (e) {
    const code = e instanceof UsageError || (e instanceof BackendError && e.code === 'INVALID_OPTION') ? 2 : 1;
    const tag = e instanceof BackendError || (e as { code?: unknown })?.code !== undefined ? ` [${String((e as { code?: unknown }).code)}]` : '';
    err(`framejobs worker: ${redactor.error(e)}${tag}`);
    if (code === 2) err(WORKER_USAGE.split('\n', 1)[0]);
    return code;
  }
  const stop =
    io.stopSignal ??
    new Promise<void>((resolveStop) => {
      process.once('SIGINT', () => resolveStop());
      process.once('SIGTERM', () => resolveStop());
    });
  await stop;
  await worker.close();
  out(JSON.stringify({ event: 'stopped', processed: worker.processed }));
  return 0;
}

// Run directly: `node dist/remote/worker-cli.js ...`.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  workerMain(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // A stopped worker has nothing left to do; do not wait on a driver's lingering timers.
      setTimeout(() => process.exit(code), 100).unref();
    },
    (e: unknown) => {
      process.stderr.write(`framejobs worker: ${String(e)}\n`);
      process.exit(1);
    },
  );
}
