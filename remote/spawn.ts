/**
 * Starts remote worker processes on this machine (`--spawn-workers N`, tests, benchmarks).
 * The Redis URL travels in the environment (FRAMEJOBS_REDIS_URL), not on the command
 * line, so its password is not in the process list. Each worker's JSON log lines are
 * parsed and kept; anything else it prints is kept as text.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { builtModuleUrl } from '../engine/paths.js';

/** dist/remote/worker-cli.js, also when this module runs from its TypeScript source. */
export function workerCliPath(): string {
  return fileURLToPath(builtModuleUrl(import.meta.url, './worker-cli.js'));
}

export interface SpawnedWorker {
  readonly proc: ChildProcess;
  /** Parsed JSON lines, in order. */
  readonly events: Record<string, unknown>[];
  /** Everything it printed (stdout and stderr), as text. */
  output(): string;
  /** Resolves with the first event (already seen or future) that matches. */
  waitFor(match: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface SpawnWorkerOptions {
  readonly redis: string;
  /** Built kind modules (paths or file: URLs). */
  readonly kinds: readonly string[];
  /** More command-line options, for example ['--concurrency', '4', '--log-jobs']. */
  readonly args?: readonly string[];
}

export function spawnWorker(opts: SpawnWorkerOptions): SpawnedWorker {
  const args = [workerCliPath(), ...opts.kinds.flatMap((k) => ['--kinds', k]), ...(opts.args ?? [])];
  const proc = spawn(process.execPath, args, {
    env: { ...process.env, FRAMEJOBS_REDIS_URL: opts.redis },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Record<string, unknown>[] = [];
  const waiters: { match: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];
  let text = '';
  let partial = '';
  const onLine = (line: string): void => {
    if (!line.startsWith('{')) return;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    events.push(e);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].match(e)) {
        waiters[i].resolve(e);
        waiters.splice(i, 1);
      }
    }
  };
  proc.stdout!.on('data', (chunk: Buffer) => {
    const s = chunk.toString();
    text += s;
    partial += s;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) onLine(l);
  });
  proc.stderr!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    events,
    output: () => text,
    exited,
    waitFor(match, timeoutMs = 20_000) {
      const seen = events.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker event not seen within ${timeoutMs} ms; output:\n${text.slice(-2000)}`)), timeoutMs);
        waiters.push({
          match,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`worker exited before the event; output:\n${text.slice(-2000)}`));
        });
      });
    },
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      // A worker that does not stop within 5 s of SIGTERM is ended.
      const force = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(force);
    },
  };
}
