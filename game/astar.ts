/**
 * Grid search over a NavGrid: A* for one path and Dijkstra for a distance field.
 * No per-node objects: every per-cell value lives in typed arrays sized once for
 * the grid, and a generation stamp marks which entries belong to the current search,
 * so nothing is cleared between searches and nothing is allocated per search.
 *
 * Movement model (the same one the `pathfinding` package calls
 * DiagonalMovement.OnlyWhenNoObstacles when `diagonal` is on, Never when off):
 * orthogonal steps cost 1; a diagonal step costs SQRT2 and is allowed only when both
 * orthogonal cells it passes between are free, so paths never cut a wall corner.
 *
 * One instance per thread: a worker keeps its AStar in its kind state and reuses it.
 */
import type { NavGrid } from './grid.js';

const SQRT2 = Math.SQRT2;
const OCTILE_F = SQRT2 - 1;

/**
 * Binary min-heap of cell indices keyed by a Float64Array of priorities, with
 * decrease-key through a position index. Capacity is the cell count; a cell is in
 * the heap at most once.
 */
export class IndexedMinHeap {
  private readonly heap: Int32Array;
  /** Heap position of each cell, valid while the cell is queued. */
  private readonly pos: Int32Array;
  private readonly key: Float64Array;
  /** Tie-break: among equal keys prefer the larger secondary (deeper g), which finishes straight runs first. */
  private readonly tie: Float64Array;
  size = 0;

  constructor(capacity: number) {
    this.heap = new Int32Array(capacity);
    this.pos = new Int32Array(capacity);
    this.key = new Float64Array(capacity);
    this.tie = new Float64Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  private less(a: number, b: number): boolean {
    const ka = this.key[a];
    const kb = this.key[b];
    return ka < kb || (ka === kb && this.tie[a] > this.tie[b]);
  }

  /** Inserts `cell`, or lowers its key if it is already queued (`queued` says which). */
  push(cell: number, key: number, tie: number, queued: boolean): void {
    this.key[cell] = key;
    this.tie[cell] = tie;
    let i: number;
    if (queued) {
      i = this.pos[cell];
    } else {
      i = this.size++;
      this.heap[i] = cell;
      this.pos[cell] = i;
    }
    this.up(i);
  }

  pop(): number {
    const h = this.heap;
    const top = h[0];
    const last = h[--this.size];
    if (this.size > 0) {
      h[0] = last;
      this.pos[last] = 0;
      this.down(0);
    }
    return top;
  }

  private up(i: number): void {
    const h = this.heap;
    const cell = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pc = h[p];
      if (!this.less(cell, pc)) break;
      h[i] = pc;
      this.pos[pc] = i;
      i = p;
    }
    h[i] = cell;
    this.pos[cell] = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = this.size;
    const cell = h[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(h[c + 1], h[c])) c++;
      if (!this.less(h[c], cell)) break;
      h[i] = h[c];
      this.pos[h[c]] = i;
      i = c;
    }
    h[i] = cell;
    this.pos[cell] = i;
  }
}

/** Per-cell search state, valid only where stamp === the search's generation. */
const OPEN = 1;
const CLOSED = 2;

/** Outcome of the last AStar.search, read right after it. */
export interface SearchInfo {
  found: boolean;
  /** Path cost in cells (orthogonal 1, diagonal SQRT2); -1 when not found. */
  cost: number;
  /** Cells on the path, start and goal included; 0 when not found. */
  cells: number;
  /** Nodes taken off the open list. */
  expanded: number;
}

/** A* over one NavGrid. Any single thread may use an instance; it is not shareable. */
export class AStar {
  readonly grid: NavGrid;
  private readonly g: Float64Array;
  private readonly parent: Int32Array;
  private readonly stamp: Uint32Array;
  private readonly state: Uint8Array;
  private readonly heap: IndexedMinHeap;
  /** Goal-to-start chain of the last path, reused across searches. */
  private readonly chain: Int32Array;
  private gen = 0;
  private lastGoal = -1;
  readonly info: SearchInfo = { found: false, cost: -1, cells: 0, expanded: 0 };

  constructor(grid: NavGrid) {
    const n = grid.width * grid.height;
    this.grid = grid;
    this.g = new Float64Array(n);
    this.parent = new Int32Array(n);
    this.stamp = new Uint32Array(n);
    this.state = new Uint8Array(n);
    this.heap = new IndexedMinHeap(n);
    this.chain = new Int32Array(n);
  }

  private nextGen(): number {
    this.gen = (this.gen + 1) >>> 0;
    if (this.gen === 0) {
      // Wrapped after 4 billion searches: old stamps could collide, so reset them once.
      this.stamp.fill(0);
      this.gen = 1;
    }
    return this.gen;
  }

  /**
   * Finds a shortest path from (sx, sy) to (gx, gy). Gives up (not found) after
   * `maxExpanded` expansions. Returns the cost, or -1; details in `info`.
   */
  search(sx: number, sy: number, gx: number, gy: number, diagonal: boolean, maxExpanded = 0x7fffffff): number {
    const info = this.info;
    info.found = false;
    info.cost = -1;
    info.cells = 0;
    info.expanded = 0;
    this.lastGoal = -1;
    const { width: W, height: H, cells } = this.grid;
    if (sx < 0 || sy < 0 || gx < 0 || gy < 0 || sx >= W || gx >= W || sy >= H || gy >= H) return -1;
    const start = sy * W + sx;
    const goal = gy * W + gx;
    if (cells[start] !== 0 || cells[goal] !== 0) return -1;
    const gen = this.nextGen();
    const g = this.g;
    const parent = this.parent;
    const stamp = this.stamp;
    const state = this.state;
    const heap = this.heap;
    heap.clear();
    stamp[start] = gen;
    state[start] = OPEN;
    g[start] = 0;
    parent[start] = -1;
    heap.push(start, 0, 0, false);
    let expanded = 0;
    while (heap.size > 0) {
      const cur = heap.pop();
      state[cur] = CLOSED;
      expanded++;
      if (cur === goal) break;
      if (expanded > maxExpanded) {
        info.expanded = expanded;
        return -1;
      }
      const cy = (cur / W) | 0;
      const cx = cur - cy * W;
      const gc = g[cur];
      // Orthogonal free flags, needed again for the diagonal corner rule.
      const fN = cy > 0 && cells[cur - W] === 0;
      const fS = cy < H - 1 && cells[cur + W] === 0;
      const fW = cx > 0 && cells[cur - 1] === 0;
      const fE = cx < W - 1 && cells[cur + 1] === 0;
      for (let d = 0; d < 8; d++) {
        let nb: number;
        let step: number;
        switch (d) {
          case 0: if (!fN) continue; nb = cur - W; step = 1; break;
          case 1: if (!fE) continue; nb = cur + 1; step = 1; break;
          case 2: if (!fS) continue; nb = cur + W; step = 1; break;
          case 3: if (!fW) continue; nb = cur - 1; step = 1; break;
          case 4: if (!diagonal || !fN || !fE || cells[cur - W + 1] !== 0) continue; nb = cur - W + 1; step = SQRT2; break;
          case 5: if (!diagonal || !fS || !fE || cells[cur + W + 1] !== 0) continue; nb = cur + W + 1; step = SQRT2; break;
          case 6: if (!diagonal || !fS || !fW || cells[cur + W - 1] !== 0) continue; nb = cur + W - 1; step = SQRT2; break;
          default: if (!diagonal || !fN || !fW || cells[cur - W - 1] !== 0) continue; nb = cur - W - 1; step = SQRT2; break;
        }
        const fresh = stamp[nb] !== gen;
        if (!fresh && state[nb] === CLOSED) continue;
        const ng = gc + step;
        if (!fresh && ng >= g[nb]) continue;
        if (fresh) {
          stamp[nb] = gen;
          state[nb] = OPEN;
        }
        g[nb] = ng;
        parent[nb] = cur;
        const ny = (nb / W) | 0;
        const dx = Math.abs(nb - ny * W - gx);
        const dy = Math.abs(ny - gy);
        const h = diagonal ? (dx < dy ? OCTILE_F * dx + dy : OCTILE_F * dy + dx) : dx + dy;
        heap.push(nb, ng + h, ng, !fresh);
      }
    }
    info.expanded = expanded;
    if (stamp[goal] !== gen || state[goal] !== CLOSED) return -1;
    let n = 0;
    for (let c = goal; c !== -1; c = parent[c]) this.chain[n++] = c;
    info.found = true;
    info.cost = g[goal];
    info.cells = n;
    this.lastGoal = goal;
    return g[goal];
  }

  /**
   * Writes the last path's cells, start first, into out[offset ..], at most `max`.
   * Returns how many were written.
   */
  writeCells(out: Int32Array, offset: number, max: number): number {
    if (this.lastGoal < 0) return 0;
    const n = this.info.cells;
    const k = n < max ? n : max;
    for (let i = 0; i < k; i++) out[offset + i] = this.chain[n - 1 - i];
    return k;
  }

  /**
   * Writes the last path's turning points (start, every cell where the direction
   * changes, goal), start first, at most `max`. Consecutive waypoints are joined by
   * straight orthogonal or diagonal runs of free cells. Returns how many were written.
   */
  writeWaypoints(out: Int32Array, offset: number, max: number): number {
    if (this.lastGoal < 0 || max <= 0) return 0;
    const chain = this.chain;
    const n = this.info.cells;
    let k = 0;
    out[offset + k++] = chain[n - 1];
    for (let i = n - 2; i >= 0 && k < max; i--) {
      const stepNow = chain[i] - chain[i + 1];
      if (i === 0) {
        out[offset + k++] = chain[0];
      } else {
        const stepNext = chain[i - 1] - chain[i];
        if (stepNext !== stepNow) out[offset + k++] = chain[i];
      }
    }
    return k;
  }
}

/**
 * Dijkstra from one target over a window of the grid: distance of every window cell
 * to the target by the same movement model as AStar (-1 where unreachable inside the
 * window). A flow field follows from it: step to the neighbour with the smallest value.
 */
export class DistanceField {
  readonly grid: NavGrid;
  private readonly dist: Float64Array;
  private readonly stamp: Uint32Array;
  private readonly closed: Uint8Array;
  private readonly heap: IndexedMinHeap;
  private gen = 0;
  reached = 0;
  maxDistance = 0;

  constructor(grid: NavGrid) {
    const n = grid.width * grid.height;
    this.grid = grid;
    this.dist = new Float64Array(n);
    this.stamp = new Uint32Array(n);
    this.closed = new Uint8Array(n);
    this.heap = new IndexedMinHeap(n);
  }

  /**
   * Fills out[offset + (y - y0) * w + (x - x0)] for the window [x0, x0+w) x [y0, y0+h)
   * (clipped to the grid by the caller's choice of window). Returns cells reached.
   */
  compute(
    tx: number, ty: number, x0: number, y0: number, w: number, h: number, diagonal: boolean,
    out: Float32Array, offset: number,
  ): number {
    for (let i = 0; i < w * h; i++) out[offset + i] = -1;
    this.reached = 0;
    this.maxDistance = 0;
    const { width: W, cells } = this.grid;
    const x1 = x0 + w;
    const y1 = y0 + h;
    if (tx < x0 || ty < y0 || tx >= x1 || ty >= y1) return 0;
    const target = ty * W + tx;
    if (cells[target] !== 0) return 0;
    this.gen = (this.gen + 1) >>> 0;
    if (this.gen === 0) {
      this.stamp.fill(0);
      this.gen = 1;
    }
    const gen = this.gen;
    const dist = this.dist;
    const stamp = this.stamp;
    const closed = this.closed;
    const heap = this.heap;
    heap.clear();
    stamp[target] = gen;
    closed[target] = 0;
    dist[target] = 0;
    heap.push(target, 0, 0, false);
    let reached = 0;
    let maxD = 0;
    while (heap.size > 0) {
      const cur = heap.pop();
      closed[cur] = 1;
      const cy = (cur / W) | 0;
      const cx = cur - cy * W;
      const dc = dist[cur];
      out[offset + (cy - y0) * w + (cx - x0)] = dc;
      reached++;
      if (dc > maxD) maxD = dc;
      const fN = cy > y0 && cells[cur - W] === 0;
      const fS = cy < y1 - 1 && cells[cur + W] === 0;
      const fW = cx > x0 && cells[cur - 1] === 0;
      const fE = cx < x1 - 1 && cells[cur + 1] === 0;
      for (let d = 0; d < 8; d++) {
        let nb: number;
        let step: number;
        switch (d) {
          case 0: if (!fN) continue; nb = cur - W; step = 1; break;
          case 1: if (!fE) continue; nb = cur + 1; step = 1; break;
          case 2: if (!fS) continue; nb = cur + W; step = 1; break;
          case 3: if (!fW) continue; nb = cur - 1; step = 1; break;
          case 4: if (!diagonal || !fN || !fE || cells[cur - W + 1] !== 0) continue; nb = cur - W + 1; step = SQRT2; break;
          case 5: if (!diagonal || !fS || !fE || cells[cur + W + 1] !== 0) continue; nb = cur + W + 1; step = SQRT2; break;
          case 6: if (!diagonal || !fS || !fW || cells[cur + W - 1] !== 0) continue; nb = cur + W - 1; step = SQRT2; break;
          default: if (!diagonal || !fN || !fW || cells[cur - W - 1] !== 0) continue; nb = cur - W - 1; step = SQRT2; break;
        }
        const fresh = stamp[nb] !== gen;
        if (!fresh && closed[nb] === 1) continue;
        const nd = dc + step;
        if (!fresh && nd >= dist[nb]) continue;
        if (fresh) {
          stamp[nb] = gen;
          closed[nb] = 0;
        }
        dist[nb] = nd;
        heap.push(nb, nd, 0, !fresh);
      }
    }
    this.reached = reached;
    this.maxDistance = maxD;
    return reached;
  }
}
