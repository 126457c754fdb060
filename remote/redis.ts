/**
 * Redis connections for the coordinator and the remote workers: one parse of the URL,
 * clients that queue commands while Redis is briefly away (BullMQ needs
 * `maxRetriesPerRequest: null` on anything that blocks), a bounded wait for the first
 * connection, and a watch that turns a long outage into a typed error instead of a hang.
 * Every message that can carry the URL or a driver error goes through the redactor.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { BackendError } from './errors.js';
import { Redactor, redactUrl } from './redact.js';

export interface RedisTarget {
  /** The URL as given (with its password): only ever handed to the driver. */
  readonly url: string;
  /** The URL with its password masked: the only form that is printed. */
  readonly shown: string;
  readonly redactor: Redactor;
}

/** Validates a redis:// or rediss:// URL. Throws BackendError('INVALID_OPTION') with the URL redacted. */
export function parseRedisUrl(url: unknown): RedisTarget {
  if (typeof url !== 'string' || url.length === 0) throw new BackendError('INVALID_OPTION', 'redis must be a redis:// URL');
  const shown = redactUrl(url);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BackendError('INVALID_OPTION', `redis must be a redis:// URL, got ${shown}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new BackendError('INVALID_OPTION', `redis URL must start with redis:// or rediss://, got ${shown}`);
  if (u.hostname === '') throw new BackendError('INVALID_OPTION', `redis URL has no host: ${shown}`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db)) throw new BackendError('INVALID_OPTION', `redis URL database must be a number, got ${shown}`);
  return { url, shown, redactor: Redactor.forUrl(url) };
}

export interface ClientOptions {
  /** Name shown in CLIENT LIST. */
  readonly name: string;
  /** Longest wait for one TCP connect, ms. */
  readonly connectTimeoutMs: number;
}

/** A client that reconnects every 50-500 ms and holds commands while disconnected. Not connected yet. */
export function createClient(target: RedisTarget, opts: ClientOptions): Redis {
  const options: RedisOptions = {
    lazyConnect: true,
    // BullMQ's blocking commands must wait through reconnects, not fail after N tries;
    // the outage watch (not the driver) decides when waiting has lasted too long.
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    connectTimeout: opts.connectTimeoutMs,
    connectionName: opts.name,
    retryStrategy: (times: number) => Math.min(50 * times, 500),
  };
  const client = new Redis(target.url, options);
  // Without a listener ioredis prints errors itself; ours are redacted and reported by the watch.
  client.on('error', () => {});
  return client;
}

const isAuthError = (msg: string): boolean => /NOAUTH|WRONGPASS|invalid password|invalid username/i.test(msg);

/**
 * Connects, or throws within timeoutMs: BackendError('REDIS_UNREACHABLE') when nothing
 * answers, BackendError('REDIS_ERROR') when Redis refuses the credentials.
 */
export async function connectWithin(client: Redis, target: RedisTarget, timeoutMs: number): Promise<void> {
  let lastError = '';
  const onError = (err: Error): void => {
    lastError = target.redactor.error(err);
  };
  client.on('error', onError);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new BackendError('REDIS_UNREACHABLE', `Redis at ${target.shown} did not answer within ${timeoutMs} ms${lastError ? ` (${lastError})` : ''}`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    client.disconnect();
    if (err instanceof BackendError) throw err;
    const msg = target.redactor.error(err);
    if (isAuthError(msg) || isAuthError(lastError)) throw new BackendError('REDIS_ERROR', `Redis at ${target.shown} refused the connection: ${msg}`);
    throw new BackendError('REDIS_UNREACHABLE', `Redis at ${target.shown} is unreachable: ${msg}`);
  } finally {
    clearTimeout(timer);
    client.off('error', onError);
  }
}

/**
 * Watches clients: when any stays disconnected for longer than `limitMs`, calls
 * `onOutage` once with a typed error. A reconnect before then cancels it.
 */
export class OutageWatch {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastError = '';
  private readonly detach: (() => void)[] = [];
  private fired = false;

  constructor(
    private readonly clients: readonly Redis[],
    private readonly target: RedisTarget,
    private readonly limitMs: number,
    private readonly onOutage: (err: BackendError) => void,
  ) {
    for (const c of clients) {
      const down = (): void => this.down();
      const up = (): void => this.up();
      const err = (e: Error): void => {
        this.lastError = target.redactor.error(e);
      };
      c.on('close', down);
      c.on('end', down);
      c.on('ready', up);
      c.on('error', err);
      this.detach.push(() => {
        c.off('close', down);
        c.off('end', down);
        c.off('ready', up);
        c.off('error', err);
      });
      if (c.status !== 'ready') this.down();
    }
  }

  private down(): void {
    if (this.timer !== null || this.fired) return;
    this.timer = setTimeout(() => {
      this.fired = true;
      this.onOutage(
        new BackendError('REDIS_UNREACHABLE', `Redis at ${this.target.shown} was unreachable for more than ${this.limitMs} ms${this.lastError ? ` (${this.lastError})` : ''}`),
      );
    }, this.limitMs);
  }

  private up(): void {
    if (this.clients.every((c) => c.status === 'ready') && this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const d of this.detach) d();
    this.detach.length = 0;
  }
}

/** Resolves when p settles or after ms, whichever is first (for closes that can hang while Redis is away). */
export async function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([p.then(() => undefined, () => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
