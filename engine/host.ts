/**
 * Host selection: Node worker_threads on Node, Web Workers in a browser, one WorkerHost
 * interface (api.ts) for both. Also the cross-origin isolation check a browser needs
 * before it can share memory with workers.
 *
 * The Node host comes from `#platform` (platform.ts): a static import that a bundler
 * resolves by its conditions, to platform-node.ts for Node and to platform-web.ts for
 * a browser, so a browser bundle never contains node:worker_threads and a Node bundle
 * needs no dynamic import.
 *
 * Threads: call from the thread that starts the engine.
 */
import type { WorkerHost } from './api.js';
import { platform } from '#platform';
import { EngineError } from './errors.js';
import { browserHost, hasWebWorkers } from './host-browser.js';

/** True on Node (and on runtimes that present themselves as Node). */
export function isNodeRuntime(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/**
 * The host for this runtime: `nodeHost` on Node, `browserHost` where Web Workers exist.
 * In a browser that is not cross-origin isolated it throws EngineError('NOT_ISOLATED')
 * with isolationStatus()'s explanation (start with `workers: 0` there instead).
 * Throws EngineError('INVALID_OPTION') on a runtime with neither; pass `workers: 0` there.
 */
export async function defaultHost(): Promise<WorkerHost> {
  return selectHost();
}

/** defaultHost, synchronously. */
export function selectHost(): WorkerHost {
  if (platform.nodeHost !== null) return platform.nodeHost;
  if (hasWebWorkers()) {
    // Workers share the engine's memory; without isolation there is none to share.
    assertIsolated();
    return browserHost;
  }
  throw new EngineError(
    'INVALID_OPTION',
    'this runtime has neither node:worker_threads nor Web Workers; start the engine with workers: 0 or pass options.host',
  );
}

/** Whether this page can share memory with workers, and if not, why (isolationStatus()). */
export interface IsolationStatus {
  /** SharedArrayBuffer exists and can be posted to workers. Always true on Node. */
  readonly isolated: boolean;
  /** Why not, and what to do about it; empty when isolated. */
  readonly message: string;
}

/**
 * Whether shared memory with workers is possible here. In a browser that needs
 * `crossOriginIsolated`, which the page only gets when served with
 * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`
 * (scripts/serve.ts sends both) over a secure origin (https, or http on localhost/127.0.0.1).
 */
export function isolationStatus(): IsolationStatus {
  if (isNodeRuntime()) return { isolated: true, message: '' };
  const g = globalThis as { crossOriginIsolated?: boolean; isSecureContext?: boolean };
  if (g.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function') return { isolated: true, message: '' };
  const why: string[] = ['This page is not cross-origin isolated, so SharedArrayBuffer is unavailable and the engine cannot share memory with workers.'];
  if (g.isSecureContext === false) {
    why.push('The origin is not secure: serve it over https or from http://127.0.0.1 / http://localhost.');
  }
  why.push(
    'Serve the page with the headers "Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp" (npm run panel does), and load every sub-resource from the same origin.',
  );
  return { isolated: false, message: why.join(' ') };
}

/** Throws EngineError('NOT_ISOLATED') with isolationStatus()'s message when memory cannot be shared. */
export function assertIsolated(): void {
  const s = isolationStatus();
  if (!s.isolated) throw new EngineError('NOT_ISOLATED', s.message);
}
