/**
 * Kind registry: built-in kinds first, then the kinds given in code (EngineOptions.kinds
 * on the main thread, serveWorker's argument in a worker), then each kind module in the
 * order given. Main thread and workers build it the same way, so a kind's numeric id is
 * the same on both sides; workers also compare the name list they were sent with their own.
 */
import { kinds as builtinKinds } from './builtin-kinds.js';
import { EngineError } from './errors.js';
import type { JobKind, KindModule } from './kind.js';

export interface LoadedKinds {
  readonly list: readonly JobKind<any, any, any>[];
  readonly byName: ReadonlyMap<string, number>;
}

const isKind = (k: unknown): k is JobKind<any, any, any> => typeof k === 'object' && k !== null && (k as { __kind?: unknown }).__kind === true;

export async function loadKinds(modules: readonly (string | URL)[], given: readonly unknown[] = []): Promise<LoadedKinds> {
  const list: JobKind<any, any, any>[] = [...builtinKinds];
  if (!Array.isArray(given)) throw new EngineError('INVALID_OPTION', 'kinds must be an array of defineKind(...) results');
  given.forEach((k, i) => {
    if (!isKind(k)) throw new EngineError('INVALID_KIND', `kinds[${i}] was not made by defineKind`);
    list.push(k);
  });
  for (const spec of modules) {
    const url = typeof spec === 'string' ? spec : spec.href;
    let mod: Partial<KindModule>;
    try {
      mod = (await import(/* @vite-ignore */ url)) as Partial<KindModule>;
    } catch (err) {
      throw new EngineError('KIND_MODULE_FAILED', `could not import kind module ${url}: ${(err as Error).message}`);
    }
    if (!Array.isArray(mod.kinds)) throw new EngineError('KIND_MODULE_FAILED', `kind module ${url} must export \`kinds\`, an array of defineKind(...) results`);
    for (const k of mod.kinds) {
      if (!isKind(k)) throw new EngineError('INVALID_KIND', `kind module ${url} exports something in \`kinds\` that was not made by defineKind`);
      list.push(k);
    }
  }
  const byName = new Map<string, number>();
  list.forEach((k, i) => {
    if (byName.has(k.name)) throw new EngineError('DUPLICATE_KIND', `kind ${JSON.stringify(k.name)} is registered twice`);
    byName.set(k.name, i);
  });
  if (list.length > 0x7fff) throw new EngineError('INVALID_KIND', 'too many kinds');
  return { list, byName };
}


