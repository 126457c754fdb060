// The API reference (API.md), generated from the declarations tsc emits for the
// package's entry points and the doc comments in them.
//
//   node scripts/api-docs.mjs [--types DIR] [--write | --check]
//
// DIR holds the emitted .d.ts tree (default dist/, made by `npm run build:types`).
// --write rewrites API.md; --check exits 1 if API.md is out of date or if an export
// has no doc comment; with neither, prints the reference.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The public entry points: import specifier, declaration file (relative to the types dir), what it is for. */
export const ENTRIES = [
  ['framejobs', 'engine/index.d.ts', 'The engine: start it, define kinds, submit and poll.'],
  ['framejobs/worker', 'engine/worker.d.ts', 'What a worker entry of your own imports.'],
  ['framejobs/frame', 'frame/index.d.ts', 'The embedding layer: frame-tagged requests with apply policies, and a fixed-step loop.'],
  ['framejobs/kinds/grid', 'kinds/grid/index.d.ts', 'Ready-made grid kinds (`path`, `distances`) over your own navigation grid, and the searches they run.'],
  ['framejobs/kinds/rapier', 'kinds/rapier/index.d.ts', 'Ready-made Rapier kinds (`physics.predict`, `physics.raycasts`) over your own static colliders. Needs `@dimforge/rapier3d-compat`.'],
  ['framejobs/stress', 'bin/workload.d.ts', 'The workload module of `framejobs stress --kinds K --workload W`.'],
  ['framejobs/remote', 'remote/index.d.ts', 'Batches with no frame deadline and the groups that choose where they run (`inline`, `local`, `bullmq`). Imports nothing of BullMQ or Redis.'],
  ['framejobs/remote/bullmq', 'remote/bullmq.d.ts', 'Batches on a BullMQ queue over Redis, and the remote worker. Needs `bullmq` and `ioredis`.'],
];

/** Splits a .d.ts into top-level statements, each with the doc comment right before it. */
function statements(text) {
  const lines = text.split('\n');
  const out = [];
  let doc = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('/**')) {
      const start = i;
      while (!lines[i].includes('*/')) i++;
      doc = lines.slice(start, i + 1).join('\n');
      continue;
    }
    if (line.trim() === '' || line.startsWith('//') || line.startsWith('import ')) {
      if (line.startsWith('import ')) doc = null;
      continue;
    }
    // A statement: until braces balance and the line ends it.
    const start = i;
    let depth = 0;
    for (;;) {
      for (const ch of lines[i]) {
        if (ch === '{' || ch === '(' || ch === '[') depth++;
        else if (ch === '}' || ch === ')' || ch === ']') depth--;
      }
      const t = lines[i].trimEnd();
      if (depth <= 0 && (t.endsWith(';') || t.endsWith('}'))) break;
      if (i + 1 >= lines.length) break;
      i++;
    }
    out.push({ text: lines.slice(start, i + 1).join('\n'), doc });
    doc = null;
  }
  return out;
}

const DECL = /^(?:export )?(?:declare )?(?:abstract )?(class|interface|type|function|const|let|enum|namespace) ([A-Za-z_$][\w$]*)/;
const REEXPORT = /^export (type )?\{([^}]*)\} from ['"]([^'"]+)['"];?$/s;

/** Turns a doc comment into prose. */
function prose(doc) {
  if (!doc) return '';
  return doc
    .split('\n')
    .map((l) => l.replace(/^\s*\/\*\*\s?/, '').replace(/\s*\*\/\s*$/, '').replace(/^\s*\*\s?/, ''))
    .join('\n')
    .trim();
}

/** A declaration without its private members (and the doc comments in front of them). */
function publicText(text) {
  const out = [];
  let pending = [];
  let inComment = false;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (inComment || t.startsWith('/**')) {
      pending.push(line);
      inComment = !t.endsWith('*/');
      continue;
    }
    if (/^\s+(private|#)/.test(line)) {
      pending = [];
      continue;
    }
    out.push(...pending, line);
    pending = [];
  }
  return out.join('\n').replace(/^export declare /gm, 'export ').replace(/^declare /gm, '');
}

/** Every declaration named `name` reachable from `file` (following re-exports). */
function resolveName(typesDir, file, name, seen = new Set()) {
  const key = `${file}#${name}`;
  if (seen.has(key)) return [];
  seen.add(key);
  const stmts = statements(readFileSync(join(typesDir, file), 'utf8'));
  const found = [];
  for (const s of stmts) {
    const d = DECL.exec(s.text);
    if (d && d[2] === name) found.push({ kind: d[1], text: s.text, doc: s.doc, file });
  }
  if (found.length > 0) return found;
  for (const s of stmts) {
    const r = REEXPORT.exec(s.text);
    if (!r) continue;
    for (const spec of r[2].split(',').map((x) => x.trim()).filter(Boolean)) {
      const [orig, alias] = spec.split(/\s+as\s+/);
      if ((alias ?? orig) !== name) continue;
      const target = join(dirname(file), r[3].replace(/\.js$/, '.d.ts'));
      const inner = resolveName(typesDir, target, orig, seen);
      // A doc comment on the re-export stands in for a declaration that has none.
      return inner.map((x) => ({ ...x, doc: x.doc ?? s.doc }));
    }
  }
  return [];
}

/** The names an entry file exports, in order. */
function exportedNames(typesDir, file) {
  const names = [];
  for (const s of statements(readFileSync(join(typesDir, file), 'utf8'))) {
    const r = REEXPORT.exec(s.text);
    if (r) {
      for (const spec of r[2].split(',').map((x) => x.trim()).filter(Boolean)) {
        const [orig, alias] = spec.split(/\s+as\s+/);
        names.push(alias ?? orig);
      }
      continue;
    }
    const d = DECL.exec(s.text);
    if (d && s.text.startsWith('export') && !names.includes(d[2])) names.push(d[2]);
  }
  return names;
}

/** The reference as Markdown, and the exports that have no doc comment. */
export function generate(typesDir) {
  const out = [
    '# API reference',
    '',
    '<!-- Generated by `npm run docs` (scripts/api-docs.mjs) from the doc comments in the sources; test/api-docs.test.ts keeps it complete and current. -->',
    '',
  ];
  const missing = [];
  for (const [spec, file] of ENTRIES) out.push(`- [\`${spec}\`](#${spec.replace(/[^a-z0-9]+/g, '')})`);
  out.push('');
  for (const [spec, file, what] of ENTRIES) {
    out.push(`## \`${spec}\``, '', what, '');
    for (const name of exportedNames(typesDir, file)) {
      const decls = resolveName(typesDir, file, name);
      if (decls.length === 0) {
        missing.push(`${spec}: ${name} (declaration not found)`);
        continue;
      }
      const doc = decls.map((d) => prose(d.doc)).find((p) => p !== '') ?? '';
      if (doc === '') missing.push(`${spec}: ${name}`);
      out.push(`### ${name}`, '');
      if (doc) out.push(doc, '');
      out.push('```ts', ...decls.map((d) => publicText(d.text)), '```', '');
    }
  }
  return { markdown: out.join('\n'), missing };
}

if (resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const t = args.indexOf('--types');
  const typesDir = resolve(t >= 0 ? args[t + 1] : join(root, 'dist'));
  const { markdown, missing } = generate(typesDir);
  const target = join(root, 'API.md');
  if (args.includes('--write')) {
    writeFileSync(target, markdown);
    console.log(`wrote API.md (${markdown.split('\n').length} lines)`);
  } else if (args.includes('--check')) {
    const current = readFileSync(target, 'utf8');
    if (current !== markdown) console.error('API.md is out of date: npm run docs');
    if (missing.length > 0) console.error(`exports without a doc comment:\n  ${missing.join('\n  ')}`);
    process.exitCode = current === markdown && missing.length === 0 ? 0 : 1;
  } else {
    process.stdout.write(markdown);
  }
  if (missing.length > 0 && !args.includes('--check')) console.error(`exports without a doc comment:\n  ${missing.join('\n  ')}`);
}
