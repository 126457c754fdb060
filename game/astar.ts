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
 * Binary min-heap of cell indices with decrease-key. Keys live beside the cells in
 * heap order (not by cell), so sifting reads contiguous memory. Ties on the key go
 * to the larger secondary (deeper g), which finishes straight runs first.
 * Capacity is the cell count; a cell is in the heap at most once.
 */
export class IndexedMinHeap {
  private readonly cell: Int32Array;
  private readonly key: Float64Array;
  private readonly tie: Float64Array;
  /** Heap position of each cell, valid while the cell is queued. */
  private readonly pos: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.cell = new Int32Array(capacity);
    this.key = new Float64Array(capacity);
    this.tie = new Float64Array(capacity);
    this.pos = new Int32Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  /** Inserts `c`, or lowers its key if it is already queued (`queued` says which). */
  push(c: number, k: number, t: number, queued: boolean): void {
    const cell = this.cell, key = this.key, tie = this.tie, pos = this.pos;
    let i = queued ? pos[c] : this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const kp = key[p];
      if (kp < k || (kp === k && tie[p] >= t)) break;
      cell[i] = cell[p];
      key[i] = kp;
      tie[i] = tie[p];
      pos[cell[i]] = i;
      i = p;
    }
    cell[i] = c;
    key[i] = k;
    tie[i] = t;
    pos[c] = i;
  }

  pop(): number {
    const cell = this.cell, key = this.key, tie = this.tie, pos = this.pos;
    const top = cell[0];
    const n = --this.size;
    if (n > 0) {
      const c = cell[n], k = key[n], t = tie[n];
      let i = 0;
      for (;;) {
        let m = 2 * i + 1;
        if (m >= n) break;
        const r = m + 1;
        if (r < n && (key[r] < key[m] || (key[r] === key[m] && tie[r] > tie[m]))) m = r;
        const km = key[m];
        if (k < km || (k === km && t >= tie[m])) break;
        cell[i] = cell[m];
        key[i] = km;
        tie[i] = tie[m];
        pos[cell[i]] = i;
        i = m;
      }
      cell[i] = c;
      key[i] = k;
      tie[i] = t;
      pos[c] = i;
    }
    return top;
  }
}


/**
 * Offers cell `nb` at (nx, ny) a path through `cur` of cost `ng`. Module level with
 * every input as an argument so V8 inlines it into the search loop with the arrays
 * already in registers. `hw` is the octile weight (SQRT2 - 1), or 1 for Manhattan.
 */
function relax(
  mark: Uint32Array, g: Float64Array, parent: Int32Array, heap: IndexedMinHeap, open: number,
  cur: number, nb: number, ng: number, nx: number, ny: number, gx: number, gy: number, hw: number,
): void {
  const m = mark[nb];
  const fresh = m !== open && m !== open + 1;
  if (!fresh && (m !== open || ng >= g[nb])) return;
  mark[nb] = open;
  g[nb] = ng;
  parent[nb] = cur;
  const dx = nx > gx ? nx - gx : gx - nx;
  const dy = ny > gy ? ny - gy : gy - ny;
  const h = dx < dy ? hw * dx + dy : hw * dy + dx;
  heap.push(nb, ng + h, ng, !fresh);
}

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
  /**
   * Search marks: 2*gen while a cell is open in search `gen`, 2*gen+1 once closed;
   * anything else means untouched this search, so nothing is cleared between searches.
   */
  private readonly mark: Uint32Array;
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
    this.mark = new Uint32Array(n);
    this.heap = new IndexedMinHeap(n);
    this.chain = new Int32Array(n);
  }

  private nextGen(): number {
    this.gen = (this.gen + 1) >>> 0;
    if (this.gen >= 0x7fffffff) {
      // Wrapped after two billion searches: old marks could collide, so reset them once.
      this.mark.fill(0);
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
    const open = 2 * gen;
    const closed = open + 1;
    const g = this.g;
    const parent = this.parent;
    const mark = this.mark;
    const heap = this.heap;
    heap.clear();
    mark[start] = open;
    g[start] = 0;
    parent[start] = -1;
    heap.push(start, 0, 0, false);
    let expanded = 0;
    const hw = diagonal ? OCTILE_F : 1;
    while (heap.size > 0) {
      const cur = heap.pop();
      mark[cur] = closed;
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
      if (fN) relax(mark, g, parent, heap, open, cur, cur - W, gc + 1, cx, cy - 1, gx, gy, hw);
      if (fE) relax(mark, g, parent, heap, open, cur, cur + 1, gc + 1, cx + 1, cy, gx, gy, hw);
      if (fS) relax(mark, g, parent, heap, open, cur, cur + W, gc + 1, cx, cy + 1, gx, gy, hw);
      if (fW) relax(mark, g, parent, heap, open, cur, cur - 1, gc + 1, cx - 1, cy, gx, gy, hw);
      if (diagonal) {
        const gd = gc + SQRT2;
        if (fN && fE && cells[cur - W + 1] === 0) relax(mark, g, parent, heap, open, cur, cur - W + 1, gd, cx + 1, cy - 1, gx, gy, hw);
        if (fS && fE && cells[cur + W + 1] === 0) relax(mark, g, parent, heap, open, cur, cur + W + 1, gd, cx + 1, cy + 1, gx, gy, hw);
        if (fS && fW && cells[cur + W - 1] === 0) relax(mark, g, parent, heap, open, cur, cur + W - 1, gd, cx - 1, cy + 1, gx, gy, hw);
        if (fN && fW && cells[cur - W - 1] === 0) relax(mark, g, parent, heap, open, cur, cur - W - 1, gd, cx - 1, cy - 1, gx, gy, hw);
      }
    }
    info.expanded = expanded;
    if (mark[goal] !== closed) return -1;
    let n = 0;
    for (let c = goal; c !== -1; c = parent[c]) this.chain[n++] = c;
    info.found = true;
    info.cost = g[goal];
    info.cells = n;
    this.lastGoal = goal;
    return g[goal];
  }

  /**
   * The same shortest paths as search(..., diagonal = true), found with jump-point
   * pruning (Harabor and Grastien's JPS, in the variant for moves that never cut a
   * corner): the open list holds only jump points, and the straight runs between them
   * are scanned in the grid without touching the heap. Costs, cells and waypoints are
   * read exactly as after search().
   */
  searchJump(sx: number, sy: number, gx: number, gy: number, maxExpanded = 0x7fffffff): number {
    const info = this.info;
    info.found = false;
    info.cost = -1;
    info.cells = 0;
    info.expanded = 0;
    this.lastGoal = -1;
    const W = this.grid.width;
    const H = this.grid.height;
    const cells = this.grid.cells;
    if (sx < 0 || sy < 0 || gx < 0 || gy < 0 || sx >= W || gx >= W || sy >= H || gy >= H) return -1;
    const start = sy * W + sx;
    const goal = gy * W + gx;
    if (cells[start] !== 0 || cells[goal] !== 0) return -1;
    const gen = this.nextGen();
    const open = 2 * gen;
    const closed = open + 1;
    const g = this.g;
    const parent = this.parent;
    const mark = this.mark;
    const heap = this.heap;
    heap.clear();
    mark[start] = open;
    g[start] = 0;
    parent[start] = -1;
    heap.push(start, 0, 0, false);
    this.jGoal = goal;
    let expanded = 0;
    while (heap.size > 0) {
      const cur = heap.pop();
      mark[cur] = closed;
      expanded++;
      if (cur === goal) break;
      if (expanded > maxExpanded) {
        info.expanded = expanded;
        return -1;
      }
      const cy = (cur / W) | 0;
      const cx = cur - cy * W;
      const p = parent[cur];
      if (p < 0) {
        // Start: every legal move.
        const fN = this.free(cx, cy - 1), fS = this.free(cx, cy + 1), fW = this.free(cx - 1, cy), fE = this.free(cx + 1, cy);
        if (fN) this.successor(cur, cx, cy, 0, -1, open, gx, gy);
        if (fE) this.successor(cur, cx, cy, 1, 0, open, gx, gy);
        if (fS) this.successor(cur, cx, cy, 0, 1, open, gx, gy);
        if (fW) this.successor(cur, cx, cy, -1, 0, open, gx, gy);
        if (fN && fE) this.successor(cur, cx, cy, 1, -1, open, gx, gy);
        if (fS && fE) this.successor(cur, cx, cy, 1, 1, open, gx, gy);
        if (fS && fW) this.successor(cur, cx, cy, -1, 1, open, gx, gy);
        if (fN && fW) this.successor(cur, cx, cy, -1, -1, open, gx, gy);
        continue;
      }
      const py = (p / W) | 0;
      const px = p - py * W;
      const dx = cx > px ? 1 : cx < px ? -1 : 0;
      const dy = cy > py ? 1 : cy < py ? -1 : 0;
      if (dx !== 0 && dy !== 0) {
        const fy = this.free(cx, cy + dy), fx = this.free(cx + dx, cy);
        if (fy) this.successor(cur, cx, cy, 0, dy, open, gx, gy);
        if (fx) this.successor(cur, cx, cy, dx, 0, open, gx, gy);
        if (fy && fx) this.successor(cur, cx, cy, dx, dy, open, gx, gy);
      } else if (dx !== 0) {
        const next = this.free(cx + dx, cy), up = this.free(cx, cy - 1), down = this.free(cx, cy + 1);
        if (next) {
          this.successor(cur, cx, cy, dx, 0, open, gx, gy);
          if (down) this.successor(cur, cx, cy, dx, 1, open, gx, gy);
          if (up) this.successor(cur, cx, cy, dx, -1, open, gx, gy);
        }
        if (down) this.successor(cur, cx, cy, 0, 1, open, gx, gy);
        if (up) this.successor(cur, cx, cy, 0, -1, open, gx, gy);
      } else {
        const next = this.free(cx, cy + dy), right = this.free(cx + 1, cy), left = this.free(cx - 1, cy);
        if (next) {
          this.successor(cur, cx, cy, 0, dy, open, gx, gy);
          if (right) this.successor(cur, cx, cy, 1, dy, open, gx, gy);
          if (left) this.successor(cur, cx, cy, -1, dy, open, gx, gy);
        }
        if (right) this.successor(cur, cx, cy, 1, 0, open, gx, gy);
        if (left) this.successor(cur, cx, cy, -1, 0, open, gx, gy);
      }
    }
    info.expanded = expanded;
    if (mark[goal] !== closed) return -1;
    // Expand the jump-point chain into cells, goal first, as search() leaves it.
    let n = 0;
    for (let c = goal; ; ) {
      const p = parent[c];
      if (p < 0) {
        this.chain[n++] = c;
        break;
      }
      const cy = (c / W) | 0, cx = c - cy * W;
      const py = (p / W) | 0, px = p - py * W;
      const step = (py > cy ? W : py < cy ? -W : 0) + (px > cx ? 1 : px < cx ? -1 : 0);
      for (let k = c; k !== p; k += step) this.chain[n++] = k;
      c = p;
    }
    info.found = true;
    info.cost = g[goal];
    info.cells = n;
    this.lastGoal = goal;
    return g[goal];
  }

  private jGoal = -1;

  private free(x: number, y: number): boolean {
    const grid = this.grid;
    return x >= 0 && y >= 0 && x < grid.width && y < grid.height && grid.cells[y * grid.width + x] === 0;
  }

  /** Jumps from (x, y) one step in (dx, dy) and onwards; offers the jump point found to the open list. */
  private successor(cur: number, x: number, y: number, dx: number, dy: number, open: number, gx: number, gy: number): void {
    const j = this.jump(x + dx, y + dy, dx, dy);
    if (j < 0) return;
    const mark = this.mark;
    const m = mark[j];
    if (m === open + 1) return;
    const W = this.grid.width;
    const jy = (j / W) | 0;
    const jx = j - jy * W;
    const ax = jx > x ? jx - x : x - jx;
    const ay = jy > y ? jy - y : y - jy;
    const ng = this.g[cur] + (ax < ay ? OCTILE_F * ax + ay : OCTILE_F * ay + ax);
    const fresh = m !== open;
    if (!fresh && ng >= this.g[j]) return;
    mark[j] = open;
    this.g[j] = ng;
    this.parent[j] = cur;
    const hx = jx > gx ? jx - gx : gx - jx;
    const hy = jy > gy ? jy - gy : gy - jy;
    this.heap.push(j, ng + (hx < hy ? OCTILE_F * hx + hy : OCTILE_F * hy + hx), ng, !fresh);
  }

  /**
   * The first jump point from (x, y) moving in (dx, dy), or -1. A cell is a jump point
   * if it is the goal, if a wall ends beside a straight run (a forced neighbour), or,
   * on a diagonal run, if a straight run from it finds one.
   */
  private jump(x: number, y: number, dx: number, dy: number): number {
    if (dy === 0) return this.jumpH(x, y, dx);
    if (dx === 0) return this.jumpV(x, y, dy);
    const W = this.grid.width, H = this.grid.height, cells = this.grid.cells, goal = this.jGoal;
    for (;;) {
      if (x < 0 || y < 0 || x >= W || y >= H) return -1;
      const id = y * W + x;
      if (cells[id] !== 0) return -1;
      if (id === goal) return id;
      if (this.jumpH(x + dx, y, dx) >= 0 || this.jumpV(x, y + dy, dy) >= 0) return id;
      // The next diagonal step needs both cells beside it free (no corner cutting).
      const nx = x + dx, ny = y + dy;
      if (nx < 0 || nx >= W || ny < 0 || ny >= H || cells[id + dx] !== 0 || cells[id + dy * W] !== 0) return -1;
      x = nx;
      y = ny;
    }
  }

  /** Straight run along x: the first jump point or -1. */
  private jumpH(x: number, y: number, dx: number): number {
    const W = this.grid.width, H = this.grid.height, cells = this.grid.cells, goal = this.jGoal;
    const hasUp = y > 0, hasDown = y < H - 1;
    for (;;) {
      if (x < 0 || x >= W) return -1;
      const id = y * W + x;
      if (cells[id] !== 0) return -1;
      if (id === goal) return id;
      const bx = x - dx;
      // A wall that ends behind us beside the run opens a path only through this cell.
      if (bx >= 0 && bx < W) {
        if (hasUp && cells[id - W] === 0 && cells[id - W - dx] !== 0) return id;
        if (hasDown && cells[id + W] === 0 && cells[id + W - dx] !== 0) return id;
      }
      x += dx;
    }
  }

  /** Straight run along y: the first jump point or -1. */
  private jumpV(x: number, y: number, dy: number): number {
    const W = this.grid.width, H = this.grid.height, cells = this.grid.cells, goal = this.jGoal;
    const hasLeft = x > 0, hasRight = x < W - 1;
    const step = dy * W;
    for (;;) {
      if (y < 0 || y >= H) return -1;
      const id = y * W + x;
      if (cells[id] !== 0) return -1;
      if (id === goal) return id;
      const by = y - dy;
      if (by >= 0 && by < H) {
        if (hasLeft && cells[id - 1] === 0 && cells[id - 1 - step] !== 0) return id;
        if (hasRight && cells[id + 1] === 0 && cells[id + 1 - step] !== 0) return id;
      }
      y += dy;
    }
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
 * One instance per thread, like AStar.
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
