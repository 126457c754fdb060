/**
 * The error-text area of a worker block (layout.ts: ERR_SLOTS slots of ERR_SLOT_BYTES):
 * a failed job's message and stack travel to the main thread here, so that a result
 * record stays fixed-size and the run path builds strings only when a handler throws.
 *
 *   slot (uint16 words)   0 seq low | 1 seq high | 2 length | 3.. chars: message \0 stack
 *
 * Writer: the worker that owns the block. Reader: the main thread, by the sequence number
 * the result record carries; a slot reused since (more than ERR_SLOTS failures between
 * polls) no longer carries that number and reads back as null.
 */
import { ERR_HEADER_U16, ERR_MAX_CHARS, ERR_SLOT_BYTES, ERR_SLOTS, W_ERR_SEQ, type WorkerBlockView } from './layout.js';

export interface ThrownText {
  readonly message: string;
  readonly stack: string;
}

const attempt = (read: () => unknown): unknown => {
  try {
    return read();
  } catch {
    return undefined;
  }
};

/**
 * A message and a stack for anything a handler can throw, without ever throwing itself:
 * a null-prototype object, a value whose `message`, `stack` or `toString` throws, a
 * revoked or throwing Proxy. Each property is read once.
 */
export function describeThrown(err: unknown): ThrownText {
  if (err === null || (typeof err !== 'object' && typeof err !== 'function')) {
    const text = attempt(() => String(err));
    return { message: typeof text === 'string' ? text : 'a value that cannot be shown', stack: '' };
  }
  const e = err as { name?: unknown; message?: unknown; stack?: unknown };
  const name = attempt(() => e.name);
  const message = attempt(() => e.message);
  const stack = attempt(() => e.stack);
  let text: string;
  if (typeof message === 'string') text = `${typeof name === 'string' ? name : 'Error'}: ${message}`;
  else {
    const shown = attempt(() => String(err));
    text = typeof shown === 'string' ? shown : 'a thrown object that cannot be shown';
  }
  return { message: text, stack: typeof stack === 'string' ? stack : '' };
}

/** Writes an error's text into the block's error slots; returns the sequence number to put in the result. */
export function writeErrorText(block: WorkerBlockView, err: unknown): number {
  const seq = (block.i32[W_ERR_SEQ] + 1) & 0x7fffffff;
  block.i32[W_ERR_SEQ] = seq;
  const d = describeThrown(err);
  const text = `${d.message}\u0000${d.stack || d.message}`;
  const len = Math.min(text.length, ERR_MAX_CHARS);
  const base = (seq % ERR_SLOTS) * (ERR_SLOT_BYTES / 2);
  const u16 = block.errU16;
  u16[base] = seq & 0xffff;
  u16[base + 1] = seq >>> 16;
  u16[base + 2] = len;
  for (let i = 0; i < len; i++) u16[base + ERR_HEADER_U16 + i] = text.charCodeAt(i);
  return seq;
}

/** Reads back an error written by writeErrorText; null when the slot was reused since. */
export function readErrorText(block: WorkerBlockView, seq: number): ThrownText | null {
  if (!(seq >= 0)) return null;
  const base = (seq % ERR_SLOTS) * (ERR_SLOT_BYTES / 2);
  const u16 = block.errU16;
  if ((u16[base] | (u16[base + 1] << 16)) !== seq) return null;
  const len = Math.min(u16[base + 2], ERR_MAX_CHARS);
  let text = '';
  for (let i = 0; i < len; i += 1024) {
    text += String.fromCharCode(...u16.subarray(base + ERR_HEADER_U16 + i, base + ERR_HEADER_U16 + Math.min(len, i + 1024)));
  }
  const cut = text.indexOf('\u0000');
  return cut < 0 ? { message: text, stack: text } : { message: text.slice(0, cut), stack: text.slice(cut + 1) };
}
