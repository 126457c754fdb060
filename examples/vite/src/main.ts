import { run } from './run.js';

// Vite sees this pattern, bundles worker.ts (and its kinds) as a worker, and rewrites the URL.
run(() => new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })).catch((e: unknown) => {
  document.body.dataset.result = JSON.stringify({ ok: false, error: String(e) });
});
