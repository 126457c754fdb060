/**
 * Sharing one engine between the panel's users of it (the game and the quick test):
 * each is a client with a tag prefix, and one poll callback routes every result to the
 * client whose prefix its tag carries. Any of them may call poll(); the results still
 * reach their owners, so nobody has to own the poll loop. (The Stress Test is not a
 * client: it runs alone, with the game paused and nothing in flight, and polls itself.)
 *
 * Tag layout (int32):  bits 28..30 client id | bits 0..27 the client's own data.
 *
 * Threads: the engine's thread only (the page's main thread).
 */
import type { EngineStats, ResultView, SubmitOptions, WorkerHealth } from '../engine/api.js';

export const CLIENT_SHIFT = 28;
export const CLIENT_DATA_MASK = (1 << CLIENT_SHIFT) - 1;
export const CLIENT_GAME = 0;
export const CLIENT_QUICK = 1;
const MAX_CLIENTS = 8;

/** A receiver of results. `data` is the tag's low 28 bits. */
export interface ResultClient {
  onResult(r: ResultView, data: number): void;
}

/** What the router needs of an engine: poll, and the current frame to measure lag against. */
export interface Pollable {
  poll(onResult: (r: ResultView) => void, max?: number): number;
  readonly frame: number;
}

export const clientTag = (client: number, data: number): number => (client << CLIENT_SHIFT) | (data & CLIENT_DATA_MASK);

/** Routes results by tag prefix. Allocation-free per result. */
export class ResultRouter {
  private readonly clients: (ResultClient | null)[] = new Array<ResultClient | null>(MAX_CLIENTS).fill(null);
  /** Results whose tag named no registered client (a client that went away with jobs in flight). */
  orphaned = 0;
  /** Results applied 0, 1, 2 and 3+ frames after the frame that submitted them. */
  readonly appliedAfter = new Float64Array(4);
  private frame = 0;
  private readonly deliver = (r: ResultView): void => {
    const lag = this.frame - r.submitFrame;
    this.appliedAfter[lag < 0 ? 0 : lag > 3 ? 3 : lag]++;
    const c = this.clients[(r.tag >>> CLIENT_SHIFT) & (MAX_CLIENTS - 1)];
    if (c) c.onResult(r, r.tag & CLIENT_DATA_MASK);
    else this.orphaned++;
  };

  set(client: number, receiver: ResultClient | null): void {
    this.clients[client] = receiver;
  }

  poll(engine: Pollable, max?: number): number {
    this.frame = engine.frame;
    return engine.poll(this.deliver, max);
  }
}

/** The part of EngineCore the panel's clients use (EngineCore satisfies it structurally). */
export interface PanelEngine extends Pollable {
  kindId(name: string): number;
  submit(kind: number, params: ArrayLike<number>, tag: number, opts?: SubmitOptions): number;
  health(): readonly WorkerHealth[];
  stats(): EngineStats;
  beginFrame(frame: number): void;
  killWorker(index: number): void;
  readonly frame: number;
  readonly workerCount: number;
}

/** Something the panel's 30 Hz loop drives: called once per frame, after beginFrame, before poll. */
export interface FrameClient extends ResultClient {
  onFrame(engine: PanelEngine, frame: number, nowMs: number): void;
}
