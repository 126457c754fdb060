import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, safeRelativePath, startServer, type RunningServer } from '../scripts/serve.js';
import { EngineError } from '../engine/errors.js';

const SECRET = 'secret-outside-the-build';

/** Sends one request byte for byte (fetch() would normalise `..` away) and returns status + headers. */
function rawRequest(port: number, target: string, method = 'GET'): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let data = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (data += d));
    sock.on('error', reject);
    sock.on('end', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? NaN);
      resolve({ status, headers: head.toLowerCase(), body });
    });
    sock.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, 'latin1');
  });
}

describe('static server', () => {
  let dir: string;
  let running: RunningServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'serve-test-'));
    const root = join(dir, 'web');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(root, 'app.js'), 'export const x = 1;');
    writeFileSync(join(root, 'style.css'), 'body{}');
    writeFileSync(join(root, 'app.js.map'), '{}');
    writeFileSync(join(root, 'data.bin'), 'x');
    writeFileSync(join(root, 'sub', 'page.html'), 'sub');
    writeFileSync(join(dir, 'secret.txt'), SECRET);
    symlinkSync(join(dir, 'secret.txt'), join(root, 'link.txt'));
    running = await startServer({ root, port: 0 });
  });

  afterAll(async () => {
    await running?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on loopback only, on the port it was given (0 = any free port)', () => {
    const addr = running.server.address();
    expect(typeof addr).toBe('object');
    expect(addr && typeof addr === 'object' ? addr.address : '').toBe('127.0.0.1');
    expect(running.port).toBeGreaterThan(0);
    expect(running.url).toBe(`http://127.0.0.1:${running.port}/`);
  });

  it('serves files with correct content types and the isolation headers', async () => {
    const cases: [string, string][] = [
      ['/', 'text/html; charset=utf-8'],
      ['/index.html', 'text/html; charset=utf-8'],
      ['/app.js', 'text/javascript; charset=utf-8'],
      ['/style.css', 'text/css; charset=utf-8'],
      ['/app.js.map', 'application/json; charset=utf-8'],
      ['/data.bin', 'application/octet-stream'],
      ['/sub/page.html?x=1', 'text/html; charset=utf-8'],
    ];
    for (const [path, type] of cases) {
      const res = await fetch(running.url + path.slice(1));
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toBe(type);
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    }
    expect(await (await fetch(running.url + 'app.js')).text()).toBe('export const x = 1;');
  });

  it('sends the isolation headers on 404 and 405 too', async () => {
    const missing = await fetch(running.url + 'nope.js');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(missing.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    const post = await fetch(running.url, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(post.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  });

  it('leaves the isolation headers out only when asked to', async () => {
    const plain = await startServer({ root: join(dir, 'web'), port: 0, isolation: false });
    try {
      const res = await fetch(plain.url + 'app.js');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(res.headers.get('cross-origin-opener-policy')).toBeNull();
      expect(res.headers.get('cross-origin-embedder-policy')).toBeNull();
      expect((await rawRequest(plain.port, '/../secret.txt')).status).toBe(404);
    } finally {
      await plain.close();
    }
  });

  it('answers HEAD without a body', async () => {
    const res = await rawRequest(running.port, '/app.js', 'HEAD');
    expect(res.status).toBe(200);
    expect(res.headers).toContain('content-length: 19');
    expect(res.body).toBe('');
  });

  it('answers 404 to every path that could leave the build folder', async () => {
    const attacks = [
      '/../secret.txt',
      '/../../secret.txt',
      '/sub/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/secret.txt',
      '/.%2e/secret.txt',
      '/%2e%2e%2fsecret.txt',
      '/..%2fsecret.txt',
      '/..%2Fsecret.txt',
      '/..%5csecret.txt',
      '/..\\secret.txt',
      '/sub\\..\\..\\secret.txt',
      '/index.html%00.js',
      '/%00',
      '/%e0%a4%a', // malformed escape
      '/link.txt', // symlink pointing outside the root
      '/sub/./page.html',
    ];
    for (const target of attacks) {
      const res = await rawRequest(running.port, target);
      expect(res.status, target).toBe(404);
      expect(res.body, target).not.toContain(SECRET);
      expect(res.headers, target).toContain('cross-origin-embedder-policy: require-corp');
    }
  });

  it('answers requests the HTTP parser refuses with 400 and the isolation headers', async () => {
    const res = await rawRequest(running.port, 'secret.txt');
    expect(res.status).toBe(400);
    expect(res.body).not.toContain(SECRET);
    expect(res.headers).toContain('cross-origin-opener-policy: same-origin');
  });

  it('maps request targets to paths inside the root or refuses them', () => {
    expect(safeRelativePath('/')).toBe('index.html');
    expect(safeRelativePath('/sub/')).toBe('sub/index.html');
    expect(safeRelativePath('/a%20b.js?q=1#h')).toBe('a b.js');
    expect(safeRelativePath('/%2e%2e/x')).toBeNull();
    expect(safeRelativePath('/a/..')).toBeNull();
    expect(safeRelativePath('//etc/passwd')).toBe('etc/passwd');
    expect(safeRelativePath('secret.txt')).toBeNull();
  });

  it('rejects bad options with INVALID_OPTION', async () => {
    const code = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(EngineError);
        return (e as EngineError).code;
      }
      return 'no error';
    };
    expect(parseArgs(['--port', '0'])).toEqual({ port: 0 });
    expect(parseArgs(['--port=9000'])).toEqual({ port: 9000 });
    expect(parseArgs([])).toEqual({});
    expect(parseArgs(['--no-isolation', '--port', '0'])).toEqual({ isolation: false, port: 0 });
    expect(code(() => parseArgs(['--no-isolation=1']))).toBe('INVALID_OPTION');
    expect(code(() => parseArgs(['--port']))).toBe('INVALID_OPTION');
    expect(code(() => parseArgs(['--port', 'abc']))).toBe('INVALID_OPTION');
    expect(code(() => parseArgs(['--port', '70000']))).toBe('INVALID_OPTION');
    expect(code(() => parseArgs(['--port', '-1']))).toBe('INVALID_OPTION');
    expect(code(() => parseArgs(['--open']))).toBe('INVALID_OPTION');
    await expect(startServer({ root: dir, port: 1.5 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(startServer({ root: join(dir, 'missing'), port: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});
