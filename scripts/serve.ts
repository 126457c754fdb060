/**
 * The debug panel's static file server: `npm run panel` builds, then runs this.
 *
 * It serves the browser build (dist/web/) and nothing else:
 * - bound to 127.0.0.1 only, never to other interfaces;
 * - every response, errors included, carries the cross-origin isolation headers
 *   (COOP same-origin, COEP require-corp, CORP same-origin), without which a page
 *   gets no SharedArrayBuffer and the engine falls back or fails;
 * - a path that could leave the build folder (`..` segments, their percent-encoded
 *   forms, encoded slashes, backslashes, NUL bytes, malformed escapes, symlinks out)
 *   is answered 404, exactly like a file that does not exist, so probing tells nothing.
 *
 * It never opens a browser: it prints the URL and a person (or a test) opens it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError } from '../engine/errors.js';
import { cliOptions, integerIn, optionalNumber, parseCli, runCli, runIfMain } from '../game/cli-args.js';

export const HOST = '127.0.0.1';
export const DEFAULT_PORT = 8173;

/** Headers sent on every response, including 404 and 405. */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
});

export const CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
});
const FALLBACK_TYPE = 'application/octet-stream';

export const USAGE = `Usage: npm run panel -- [--port N] [--no-isolation] [--root DIR]

  --port N          port on 127.0.0.1 (default ${DEFAULT_PORT}; 0 = any free port)
  --no-isolation    serve without the cross-origin isolation headers (shows the inline fallback)
  --root DIR        serve this folder instead of the panel's build (dist/web)
  --help            this text`;

export interface ServeOptions {
  /** Folder to serve (absolute path). Default: dist/web beside this built script. */
  root?: string;
  /** TCP port; 0 picks any free port. Default DEFAULT_PORT. */
  port?: number;
  /**
   * Send the cross-origin isolation headers. Default true. False (`--no-isolation`) serves
   * the page without them, to see and test the panel's inline fallback.
   */
  isolation?: boolean;
}

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  close(): Promise<void>;
}

/** dist/web, found from this file's location (dist/scripts/serve.js or scripts/serve.ts). */
export function defaultRoot(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const inDist = here.split(sep).includes('dist');
  return inDist ? join(here, '..', 'web') : join(here, '..', 'dist', 'web');
}

/**
 * Maps a request target to a path relative to the root, or null when it must be refused.
 * Works on the raw target: nothing here trusts a client to have normalised it.
 */
export function safeRelativePath(target: string): string | null {
  const q = target.search(/[?#]/);
  const rawPath = q === -1 ? target : target.slice(0, q);
  if (!rawPath.startsWith('/')) return null;
  // Encoded separators and backslashes would turn into separators after decoding on some
  // platforms or proxies; there is no legitimate use for them in a static build.
  if (/%2f|%5c|\\|%00|\0/i.test(rawPath)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').filter((s) => s !== '');
  for (const s of segments) {
    if (s === '.' || s === '..') return null;
  }
  if (segments.length === 0 || decoded.endsWith('/')) segments.push('index.html');
  return segments.join('/');
}

/** The headers every response carries (without the isolation trio when isolation is off). */
function baseHeaders(isolation: boolean): Record<string, string> {
  if (isolation) return { ...ISOLATION_HEADERS };
  const h: Record<string, string> = { ...ISOLATION_HEADERS };
  delete h['Cross-Origin-Opener-Policy'];
  delete h['Cross-Origin-Embedder-Policy'];
  delete h['Cross-Origin-Resource-Policy'];
  return h;
}

function send(res: ServerResponse, headers: Record<string, string>, status: number, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', ...extra });
  res.end(body);
}

async function handle(rootReal: string, headers: Record<string, string>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, headers, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    return;
  }
  const rel = safeRelativePath(req.url ?? '');
  if (rel === null) {
    send(res, headers, 404, 'not found\n');
    return;
  }
  let file: string;
  try {
    // realpath resolves symlinks, so a link inside the build pointing outside it is refused too.
    file = await realpath(join(rootReal, rel));
    if (file !== rootReal && !file.startsWith(rootReal + sep)) throw new Error('outside root');
    const st = await stat(file);
    if (!st.isFile()) throw new Error('not a file');
    res.writeHead(200, {
      ...headers,
      'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? FALLBACK_TYPE,
      'Content-Length': String(st.size),
    });
  } catch {
    send(res, headers, 404, 'not found\n');
    return;
  }
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/** Starts serving `root` on 127.0.0.1. Resolves once listening. */
export async function startServer(opts: ServeOptions = {}): Promise<RunningServer> {
  const root = opts.root ?? defaultRoot();
  const port = opts.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new EngineError('INVALID_OPTION', `port must be an integer in 0..65535, got ${port}`);
  }
  let rootReal: string;
  try {
    rootReal = await realpath(root);
  } catch {
    throw new EngineError('INVALID_OPTION', `nothing to serve: ${root} does not exist (run npm run build first)`);
  }
  const headers = baseHeaders(opts.isolation ?? true);
  const server = createServer((req, res) => {
    handle(rootReal, headers, req, res).catch(() => {
      if (!res.headersSent) send(res, headers, 500, 'internal error\n');
      else res.destroy();
    });
  });
  // Requests the HTTP parser refuses never reach the handler; answer them with the same headers.
  server.on('clientError', (_err, socket) => {
    if (!socket.writable) return;
    const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.end(`HTTP/1.1 400 Bad Request\r\n${head}Content-Length: 0\r\nConnection: close\r\n\r\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  return {
    server,
    port: actualPort,
    url: `http://${HOST}:${actualPort}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

const OPTIONS = cliOptions(['port', 'root'], ['no-isolation']);

/** Parses `--port N` / `--port=N`, `--root DIR` and `--no-isolation`; throws EngineError('INVALID_OPTION') on bad input. */
export function parseArgs(argv: readonly string[]): ServeOptions & { help?: boolean } {
  const v = parseCli(argv, OPTIONS);
  const opts: ServeOptions & { help?: boolean } = {};
  const port = optionalNumber(v, 'port', integerIn(0, 65535));
  if (port !== undefined) opts.port = port;
  if (v.root !== undefined) {
    if (v.root === '') throw new EngineError('INVALID_OPTION', '--root needs a folder');
    opts.root = String(v.root);
  }
  if (v['no-isolation'] === true) opts.isolation = false;
  if (v.help === true) opts.help = true;
  return opts;
}

function main(argv: readonly string[]): Promise<number> {
  return runCli('panel', USAGE, argv, parseArgs, async (opts) => {
    if (opts.port === undefined) console.log(`port: ${DEFAULT_PORT} (default; change with --port N, 0 = any free port)`);
    const running = await startServer(opts);
    console.log(`framejobs panel: ${running.url}`);
    if (opts.isolation === false) console.log('serving WITHOUT cross-origin isolation headers: the page runs the engine inline (workers: 0)');
    console.log('open it in a browser; Ctrl-C stops the server');
    const stop = (): void => {
      running.close().finally(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return 0;
  });
}

runIfMain(import.meta.url, 'panel', main);
