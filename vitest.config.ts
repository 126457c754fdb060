import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export const config = defineConfig({
  // The engine's internal '#platform' import (package.json "imports") points at the
  // build; tests run the sources, so they get the Node platform's source.
  resolve: { alias: { '#platform': fileURLToPath(new URL('./engine/platform-node.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Engine tests spawn real worker threads; running files one at a time keeps a
    // two-core machine from starving heartbeats with unrelated test files.
    fileParallelism: false,
    pool: 'forks',
    // The JSON report lets .ci/run print a plain 'N passed, N failed' closing line.
    reporters: ['default', ['json', { outputFile: 'artifacts/vitest-report.json' }]],
  },
});

export default config;
