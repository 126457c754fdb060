import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

// Two entry points, the page and its worker, in one folder.
await build({
  entryPoints: ['src/main.ts', 'src/worker.ts'],
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  logLevel: 'warning',
});
mkdirSync('dist', { recursive: true });
copyFileSync('index.html', 'dist/index.html');
