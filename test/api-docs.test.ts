/**
 * API.md is generated from the declarations of the package's entry points
 * (scripts/api-docs.mjs): it must be current, and every export must carry a doc comment.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('API reference', () => {
  it('documents every public export and matches API.md (npm run docs regenerates it)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'framejobs-types-'));
    try {
      execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out], { cwd: ROOT, stdio: 'pipe' });
      const { generate } = (await import(join(ROOT, 'scripts', 'api-docs.mjs'))) as {
        generate(dir: string): { markdown: string; missing: string[] };
      };
      const { markdown, missing } = generate(out);
      expect(missing).toEqual([]);
      expect(markdown).toContain('### EngineCore');
      expect(markdown).toContain('### serveWorker');
      expect(markdown).toContain('### FrameSync');
      expect(readFileSync(join(ROOT, 'API.md'), 'utf8') === markdown, 'API.md is out of date: run npm run docs').toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
