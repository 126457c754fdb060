/**
 * The folders point one way (engine < frame < kinds < game < stress < panel; tools, bench, scripts and
 * test on top): no module imports from a folder above its own. A failure lists every
 * offending edge as `file:line imports target: rule`.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { edgesOf, importsOf, layerViolations, readSources } from '../scripts/import-graph.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('import graph', () => {
  it('has no import from a lower folder into a higher one', () => {
    const files = readSources(ROOT);
    // The walk must really see the tree: every layer has sources, and edges between them.
    for (const dir of ['engine', 'kinds', 'game', 'stress', 'panel', 'tools', 'bench', 'scripts', 'test']) {
      expect([...files.keys()].some((p) => p.startsWith(`${dir}/`)), dir).toBe(true);
    }
    expect(edgesOf(files).some((e) => e.from.startsWith('panel/') && e.to.startsWith('stress/'))).toBe(true);
    const bad = layerViolations(files);
    expect(bad, `imports that point up a layer:\n${bad.join('\n')}`).toEqual([]);
  });

  it('finds every kind of module reference, and none in comments or strings', () => {
    const src = [
      "import { a, type B } from './a.js';",
      'import type {',
      '  C,',
      "} from '../b.js';",
      "import * as d from 'node:fs';",
      "import './side.js';",
      "export { e } from './e.js';",
      "export * from './f.js';",
      "const g = await import('./g.js');",
      "type H = import('./h.js').H;",
      "const w = builtModuleUrl(import.meta.url, './worker.js');",
      "const u = new URL('./kinds.entry.js', import.meta.url);",
      "// import { no } from './commented.js';",
      "/* export * from './block.js'; */",
      'const t = "import { s } from \'./in-string.js\'", u = `export * from \'./in-template.js\'`;',
      "const s = 'http://example.com'; const r = /['\"]/; import { z } from './after-regex.js';",
    ].join('\n');
    expect(importsOf(src)).toEqual([
      { spec: './a.js', line: 1 },
      { spec: '../b.js', line: 4 },
      { spec: 'node:fs', line: 5 },
      { spec: './side.js', line: 6 },
      { spec: './e.js', line: 7 },
      { spec: './f.js', line: 8 },
      { spec: './g.js', line: 9 },
      { spec: './h.js', line: 10 },
      { spec: './worker.js', line: 11 },
      { spec: './kinds.entry.js', line: 12 },
      { spec: './after-regex.js', line: 16 },
    ]);
  });

  it('names each upward edge with its file, line and rule', () => {
    const files = new Map([
      ['engine/core.ts', "import { x } from '../game/world.js';\n"],
      ['game/world.ts', "\nimport type { R } from '../stress/report/result.js';\n"],
      ['stress/report/result.ts', "import { m } from '../modes/burst.js';\n"],
      ['stress/modes/burst.ts', "import { r } from '../report/result.js';\nimport { g } from '../../game/world.js';\n"],
      ['panel/burst.ts', "import { b } from '../stress/modes/burst.js';\n"],
      ['test/a.test.ts', "import { p } from '../panel/burst.js';\n"],
      ['game/fixture-user.ts', "import { f } from '../test/a.test.js';\n"],
      ['newdir/x.ts', ''],
    ]);
    expect(layerViolations(files)).toEqual([
      'newdir/ is in no layer: add it to LAYERS in scripts/import-graph.ts',
      'engine/core.ts:1 imports game/world.ts: engine/ may import only from engine/',
      'game/world.ts:2 imports stress/report/result.ts: game/ may import only from engine/, frame/, kinds/, game/',
      'stress/report/result.ts:1 imports stress/modes/burst.ts: stress/report/ may not import from stress/modes/ (report < modes, peers < cli)',
      'game/fixture-user.ts:1 imports test/a.test.ts: game/ may import only from engine/, frame/, kinds/, game/',
    ]);
  });
});
