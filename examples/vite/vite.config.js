import { defineConfig } from 'vite';

// SharedArrayBuffer needs cross-origin isolation: the dev and preview servers send the headers.
const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  server: { headers },
  preview: { headers },
  worker: { format: 'es' },
  // The dev server finds the worker's import of framejobs/worker only once the worker
  // loads; optimizing it then reloads the page. Pre-bundling both entries up front avoids that.
  optimizeDeps: { include: ['framejobs', 'framejobs/worker'] },
  build: { target: 'es2022' },
});
