// Builds every TypeScript source to dist/ with esbuild.
// Node code is transpiled file by file (no bundling) so relative URLs such as
// new URL('./worker-entry.js', import.meta.url) keep pointing at their siblings.
// The browser builds bundle the panel's page, worker and kind module (panel/*.entry.ts,
// to dist/web/) and the browser benchmark's page and workers (bench/browser/*.entry.ts,
// to dist/bench-web/) as separate entry points, because esbuild does not follow
// new Worker(new URL(...)) by itself; the panel is browser-only, so it has no Node build.
import { build } from 'esbuild';
import { readdirSync, statSync, mkdirSync, copyFileSync, existsSync, rmSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nodeDirs = ['engine', 'frame', 'game', 'remote', 'stress', 'tools', 'bin', 'scripts', 'bench', 'test'];

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts') && !p.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

// --clean (used by prepack): start from an empty dist/, so nothing stale is packed.
if (process.argv.includes('--clean')) rmSync(join(root, 'dist'), { recursive: true, force: true });

const entryPoints = nodeDirs.flatMap((d) => walk(join(root, d), []));
await build({
  entryPoints,
  outdir: join(root, 'dist'),
  outbase: root,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});

/**
 * Bundles every `*.entry.ts` in `srcDir` for the browser into `outDir` (one file per entry,
 * shared code split into chunks), and copies `srcDir/static/` beside them. `nodeOnly`: bare
 * Node built-ins a dependency requires only on Node (left out; never loaded in a browser).
 */
async function bundleWeb(srcDir, outDir, nodeOnly = []) {
  if (!existsSync(srcDir)) return;
  const webEntries = readdirSync(srcDir)
    .filter((n) => n.endsWith('.entry.ts'))
    .map((n) => join(srcDir, n));
  if (webEntries.length > 0) {
    await build({
      entryPoints: webEntries,
      outdir: outDir,
      entryNames: '[name]',
      chunkNames: 'chunks/[name]-[hash]',
      // A page and its workers share the engine (and Rapier, in the panel): one copy.
      splitting: true,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'chrome120',
      sourcemap: 'linked',
      logLevel: 'warning',
      external: ['node:*', ...nodeOnly],
      // tsconfig's "paths" maps '#platform' to the Node platform for type-checking; a
      // browser bundle takes the web one, as package.json "imports" would give it.
      plugins: [
        {
          name: 'web-platform',
          setup(b) {
            b.onResolve({ filter: /^#platform$/ }, () => ({ path: join(root, 'engine', 'platform-web.ts') }));
          },
        },
      ],
    });
  }
  const staticDir = join(srcDir, 'static');
  if (existsSync(staticDir)) {
    for (const name of readdirSync(staticDir)) {
      mkdirSync(outDir, { recursive: true });
      copyFileSync(join(staticDir, name), join(outDir, name));
    }
  }
}

await bundleWeb(join(root, 'panel'), join(root, 'dist', 'web'));
// The browser benchmark's page and workers (`npm run bench:browser`), a build of their own.
// workerpool's browser build requires these only when it finds itself on Node.
await bundleWeb(join(root, 'bench', 'browser'), join(root, 'dist', 'bench-web'), ['worker_threads', 'os', 'child_process']);
console.log(`built ${entryPoints.length} modules to ${relative(process.cwd(), join(root, 'dist')) || 'dist'}`);
