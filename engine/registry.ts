/**
 * Kind registry: built-in kinds first, then the kinds given in code (EngineOptions.kinds
 * on the main thread, serveWorker's argument in a worker), then each kind module in the
 * order given. Main thread and workers build it the same way, so a kind's numeric id is
 * the same on both sides; workers also compare the name list they were sent with their own.
 */
import { kinds as builtinKinds } from './builtin-kinds.js';
import { EngineError, thrownText } from './errors.js';
import { adoptKind, type JobKind, type KindModule } from './kind.js';

export interface LoadedKinds {
  readonly list: readonly JobKind<any, any, any>[];
  readonly byName: ReadonlyMap<string, number>;
}

/** The entries of a caller's array, read once; throws `refuse()` for anything else. */
function entriesOf(read: () => unknown, refuse: (cause?: unknown) => EngineError): readonly unknown[] {
  try {
    const list = read();
    if (!Array.isArray(list)) throw refuse();
    return Array.from(list as readonly unknown[]);
  } catch (err) {
    throw err instanceof EngineError ? err : refuse(err);
  }
}

export async function loadKinds(modules: readonly (string | URL)[], given: readonly unknown[] = []): Promise<LoadedKinds> {
  const list: JobKind<any, any, any>[] = [...builtinKinds];
  const givenKinds = entriesOf(() => given, (cause) => new EngineError('INVALID_OPTION', 'kinds must be an array of defineKind(...) results', { cause }));
  givenKinds.forEach((k, i) => list.push(adoptKind(k, `kinds[${i}]`)));
  for (const spec of modules) {
    const url = typeof spec === 'string' ? spec : spec.href;
    let mod: Partial<KindModule>;
    try {
      mod = (await import(/* @vite-ignore */ url)) as Partial<KindModule>;
    } catch (err) {
      throw new EngineError('KIND_MODULE_FAILED', `could not import kind module ${url}: ${thrownText(err)}`, { cause: err });
    }
    const exported = entriesOf(() => mod.kinds, (cause) => new EngineError('KIND_MODULE_FAILED', `kind module ${url} must export \`kinds\`, an array of defineKind(...) results`, { cause }));
    exported.forEach((k, i) => list.push(adoptKind(k, `kind module ${url}: kinds[${i}]`)));
  }
  const byName = new Map<string, number>();
  list.forEach((k, i) => {
    if (byName.has(k.name)) throw new EngineError('DUPLICATE_KIND', `kind ${JSON.stringify(k.name)} is registered twice`);
    byName.set(k.name, i);
  });
  if (list.length > 0x7fff) throw new EngineError('INVALID_KIND', 'too many kinds');
  return { list, byName };
}


