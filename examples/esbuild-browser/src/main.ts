import { run } from './run.js';

// esbuild does not follow `new Worker(new URL(...))`: worker.ts is a second entry point
// (build.mjs), and this URL names its output beside main.js.
run(() => new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })).catch((e: unknown) => {
  document.body.dataset.result = JSON.stringify({ ok: false, error: String(e) });
});
