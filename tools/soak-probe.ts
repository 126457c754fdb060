/**
 * A memory probe for long runs: the `probe.memory` kind reports, from inside the
 * thread that runs it, how big that thread's WebAssembly memory (Rapier's) and V8
 * heap are. The soak and the memory test submit it now and then; the result's
 * `worker` field says which worker answered.
 *
 * How the wasm memory is found: Rapier keeps its instance private, so this module
 * wraps WebAssembly.instantiate when it is imported and remembers the memory of every
 * instance created afterwards. The engine imports every kind module before it runs any
 * kind's init (where Rapier is loaded), so listing this module among the kind modules
 * is enough; on the main thread, import it before the first initRapier() call. A
 * thread where Rapier was loaded before the wrap reports -1 rather than a guess.
 *
 * Linear memory never shrinks, so its size is the high-water mark of everything Rapier
 * ever allocated on that thread: flat means no leak.
 *
 * The probe allocates (v8.getHeapStatistics returns an object): submit it every few
 * seconds, not every frame.
 */
import { getHeapStatistics } from 'node:v8';
import { defineKind } from '../engine/kind.js';
import { initRapier } from '../game/physics.js';

const memories: WebAssembly.Memory[] = [];

interface Instantiated {
  instance?: WebAssembly.Instance;
  exports?: WebAssembly.Exports;
}

function remember(result: unknown): void {
  const r = result as Instantiated;
  const exports = r?.instance?.exports ?? r?.exports;
  const mem = exports?.memory;
  if (mem instanceof WebAssembly.Memory && !memories.includes(mem)) memories.push(mem);
}

const WRAPPED = Symbol.for('framejobs.soak-probe.wrapped');
const wa = WebAssembly as unknown as Record<PropertyKey, unknown> & { instantiate: (...a: unknown[]) => Promise<unknown> };
if (wa[WRAPPED] !== true) {
  const original = wa.instantiate;
  wa.instantiate = async function instantiate(...args: unknown[]): Promise<unknown> {
    const result = await original.apply(WebAssembly, args);
    remember(result);
    return result;
  };
  wa[WRAPPED] = true;
}

/** Bytes of WebAssembly linear memory on this thread (Rapier's), or -1 if it was loaded before the wrap. */
export function wasmMemoryBytes(): number {
  if (memories.length === 0) return -1;
  let n = 0;
  for (const m of memories) n += m.buffer.byteLength;
  return n;
}

/** Result values of `probe.memory`, in order. */
export const PROBE_WASM_BYTES = 0;
export const PROBE_HEAP_USED = 1;
export const PROBE_HEAP_TOTAL = 2;
export const PROBE_EXTERNAL = 3;
export const PROBE_WORKER = 4;

export const probeKind = defineKind<null>({
  name: 'probe.memory',
  params: [],
  results: ['wasmBytes', 'heapUsed', 'heapTotal', 'external', 'worker'],
  // Loads Rapier on this thread (a no-op when the game kinds already did), so the
  // probe has a memory to report even if it is the only kind a thread has run.
  init: async () => {
    await initRapier();
    return null;
  },
  run(_p, out, ctx) {
    const h = getHeapStatistics();
    out[PROBE_WASM_BYTES] = wasmMemoryBytes();
    out[PROBE_HEAP_USED] = h.used_heap_size;
    out[PROBE_HEAP_TOTAL] = h.total_heap_size;
    out[PROBE_EXTERNAL] = h.external_memory;
    out[PROBE_WORKER] = ctx.env.workerIndex;
  },
});

export const kinds = [probeKind];
