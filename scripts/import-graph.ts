/**
 * The repository's import graph and its one rule: folders form layers, and a module may
 * import only from its own layer or a lower one.
 *
 *   engine  <  frame  <  game  <  remote  <  stress  <  panel        bin, tools, bench, scripts, test: anything
 *
 * The engine imports nothing outside itself; the embedding layer (frame) builds on the
 * engine; the game on both; the stress tools drive all of them; the debug panel is an
 * application on top. Inside
 * stress/ the same holds one level down: report < modes, peers < cli. The programs and
 * suites around the library (tools, bench, scripts, test) may use any of it, and nothing
 * in a layer may use them.
 *
 * An edge is any module reference written in a source file: `import` and `export ... from`
 * (type-only ones too: a type is still a dependency), dynamic `import('...')`, and the
 * URLs a module hands to a worker or a loader (`builtModuleUrl(import.meta.url, '...')`,
 * `new URL('...', import.meta.url)`). Only relative references are edges; packages are
 * not folders of this repository.
 *
 * test/import-graph.test.ts checks the whole tree with this, as part of `npm test`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';

/** Layer of each top-level folder; a module may import from layers <= its own. */
export const LAYERS: Readonly<Record<string, number>> = {
  engine: 0,
  frame: 1,
  game: 2,
  // Batch backends (inline, local, BullMQ): built on the engine alone; the game does not need them.
  remote: 2.5,
  stress: 3,
  panel: 4,
  // The programs and suites around the library: they may import anything, nothing imports them.
  bin: 5,
  // Consumer projects of the packed package: they import it by name, never by path.
  examples: 5,
  tools: 5,
  bench: 5,
  scripts: 5,
  test: 5,
};

/** Layers inside stress/, by subfolder. */
export const STRESS_LAYERS: Readonly<Record<string, number>> = {
  report: 0,
  modes: 1,
  peers: 1,
  cli: 2,
};

export interface ImportRef {
  /** The specifier as written. */
  readonly spec: string;
  /** 1-based line of the reference. */
  readonly line: number;
}

export interface Edge {
  /** Importing file, relative to the repository root, '/'-separated. */
  readonly from: string;
  readonly line: number;
  /** Imported file, relative to the repository root (a `.js` specifier names its `.ts` source). */
  readonly to: string;
}

/**
 * The source with comments and the contents of strings, template literals and regular
 * expression literals blanked to spaces (quotes kept, every character's position kept, so
 * indices and line numbers hold): what is left is code, where `import` is a keyword and
 * never text. A `/` starts a regular expression where an operand is expected, the usual
 * lexer heuristic.
 */
export function codeOnly(src: string): string {
  const out = src.split('');
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  let i = 0;
  let prev = ''; // last significant code character
  while (i < src.length) {
    const c = src[i];
    const next = src[i + 1];
    let end: number;
    if (c === '/' && next === '/') {
      end = src.indexOf('\n', i);
      if (end < 0) end = src.length;
      blank(i, end);
    } else if (c === '/' && next === '*') {
      end = src.indexOf('*/', i + 2);
      end = end < 0 ? src.length : end + 2;
      blank(i, end);
    } else if (c === '"' || c === "'" || c === '`') {
      end = i + 1;
      while (end < src.length && src[end] !== c) end += src[end] === '\\' ? 2 : 1;
      blank(i + 1, end);
      end++;
      prev = c;
    } else if (c === '/' && (prev === '' || '(,=:[!&|?{};+-*%<>~^'.includes(prev))) {
      let inClass = false;
      end = i + 1;
      while (end < src.length && src[end] !== '\n' && (inClass || src[end] !== '/')) {
        if (src[end] === '\\') end++;
        else if (src[end] === '[') inClass = true;
        else if (src[end] === ']') inClass = false;
        end++;
      }
      blank(i + 1, end);
      end++;
      prev = '/';
    } else {
      if (!/\s/.test(c)) prev = c;
      end = i + 1;
    }
    i = end;
  }
  return out.join('');
}

// On codeOnly() text: a string's contents are blanks there, and are read from the source.
const PATTERNS: readonly RegExp[] = [
  // import x from '...', import { a, type B } from '...', import type { C } from '...'
  /\bimport\s+(?:type\s+)?[\w*${}\s,]*?\bfrom\s*(['"])([^'"\n]*)\1/dg,
  // import '...' (for its side effects)
  /\bimport\s*(['"])([^'"\n]*)\1/dg,
  // export { a } from '...', export * from '...', export type { B } from '...'
  /\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s*from\s*(['"])([^'"\n]*)\1/dg,
  // import('...'), also in type positions
  /\bimport\s*\(\s*(['"])([^'"\n]*)\1\s*\)/dg,
  // module URLs handed to workers and loaders
  /\bbuiltModuleUrl\(\s*import\.meta\.url\s*,\s*(['"])([^'"\n]*)\1/dg,
  /\bnew\s+URL\(\s*(['"])([^'"\n]*)\1\s*,\s*import\.meta\.url/dg,
];

/** Every module reference in a source text, in order of appearance. */
export function importsOf(source: string): ImportRef[] {
  const code = codeOnly(source);
  const found: { spec: string; at: number }[] = [];
  for (const re of PATTERNS) {
    for (const m of code.matchAll(re)) {
      const [at, end] = m.indices![2]!;
      found.push({ spec: source.slice(at, end), at });
    }
  }
  found.sort((a, b) => a.at - b.at);
  return found.map(({ spec, at }) => ({ spec, line: lineAt(code, at) }));
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let k = 0; k < index; k++) if (text.charCodeAt(k) === 10) line++;
  return line;
}

/** Edges between files of `files` (path -> source text, paths relative to the root). */
export function edgesOf(files: ReadonlyMap<string, string>): Edge[] {
  const edges: Edge[] = [];
  for (const [from, source] of files) {
    for (const ref of importsOf(source)) {
      if (!ref.spec.startsWith('./') && !ref.spec.startsWith('../')) continue;
      const target = posix.normalize(posix.join(posix.dirname(from), ref.spec));
      const ts = target.replace(/\.js$/, '.ts');
      edges.push({ from, line: ref.line, to: files.has(ts) ? ts : target });
    }
  }
  return edges;
}

/** The layer of a file, or undefined for a file outside every known folder. */
function layerOf(path: string): number | undefined {
  return LAYERS[path.split('/')[0]];
}

/**
 * Every edge that points up a layer, as a line naming the file, the line, the target
 * and the rule it breaks; and every source folder that has no layer.
 */
export function layerViolations(files: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  const unplaced = new Set<string>();
  for (const path of files.keys()) {
    if (path.includes('/') && layerOf(path) === undefined) unplaced.add(path.split('/')[0]);
  }
  for (const dir of unplaced) out.push(`${dir}/ is in no layer: add it to LAYERS in scripts/import-graph.ts`);
  for (const e of edgesOf(files)) {
    const a = layerOf(e.from);
    const b = layerOf(e.to) ?? Infinity;
    if (a === undefined) continue;
    const top = e.from.split('/')[0];
    if (b > a) {
      out.push(`${e.from}:${e.line} imports ${e.to}: ${top}/ may import only from ${allowed(a)}`);
      continue;
    }
    if (top === 'stress' && e.to.startsWith('stress/')) {
      const sa = STRESS_LAYERS[e.from.split('/')[1]];
      const sb = STRESS_LAYERS[e.to.split('/')[1]];
      if (sa !== undefined && sb !== undefined && sb > sa) {
        out.push(`${e.from}:${e.line} imports ${e.to}: stress/${e.from.split('/')[1]}/ may not import from stress/${e.to.split('/')[1]}/ (report < modes, peers < cli)`);
      }
    }
  }
  return out;
}

function allowed(layer: number): string {
  return Object.keys(LAYERS)
    .filter((d) => LAYERS[d] <= layer)
    .map((d) => `${d}/`)
    .join(', ');
}

/** Reads every .ts and .mjs source under the layered folders of `root`. */
export function readSources(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|mts|mjs)$/.test(name) && !name.endsWith('.d.ts')) files.set(relative(root, p).split(sep).join('/'), readFileSync(p, 'utf8'));
    }
  };
  walk(root);
  return files;
}
