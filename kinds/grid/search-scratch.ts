/**
 * Per-thread search memory for astar.ts: every per-cell value a grid search needs,
 * sized once for a grid and reused by every search on that thread (A*, jump-point
 * search and the distance field share one).
 *
 * Bytes per cell, all counted (bytes() sums the typed arrays):
 *
 *   g      f64  8     path cost from the search's source, valid where the mark is current
 *   mark   u16  2     bits 15..5 generation, 4..3 state, 2..0 direction (see below)
 *   open list  0.67  capacity = cells / 24 - 4 entries of 16 bytes (cell i32, key f64, tie f32)
 *                     -----
 *                     10.67; AStar's neighbour bytes (1) and wall bitsets (about 0.25) bring
 *                     a thread to 11.92
 *
 * A mark whose generation is not the current one means "untouched by this search", so
 * nothing is cleared between searches; the whole mark array is zeroed once every
 * 2,047 searches, when the 11-bit generation wraps. The direction bits hold the move
 * that reached the cell (its parent is one or more steps back along it), and after a
 * path is found, the move that leaves each path cell toward the goal.
 *
 * The open list is a binary min-heap with lazy deletion: a better offer for a queued
 * cell is pushed again and the old entry (larger key) is skipped when it surfaces,
 * because the cell is closed by then. Its capacity is a 24th of the cells: above what
 * jump-point search queues on the game's levels and the Moving AI maps (only jump
 * points), and enough for plain A* there (its frontier, and entries a better offer
 * superseded) once the superseded ones are dropped. When it does fill, `compact()`
 * drops dead entries and, if that is not enough, moves the larger half of the keys out
 * of the heap: those cells stay open with their g in place but marked *deferred*, and
 * `minDeferred` keeps a lower bound of their keys. A search never pops a key above
 * `minDeferred`; it calls `refill()` first, which scans the marks for deferred cells
 * and queues them again. So the pop order is exactly A*'s, and memory stays bounded on
 * any map.
 *
 * Threads: one scratch per thread; every method on that thread. A search's results
 * (marks, g) are valid until the next search on the same scratch starts.
 */

import { EngineError } from '../../engine/errors.js';

export const STATE_OPEN = 1;
export const STATE_DEFERRED = 2;
export const STATE_CLOSED = 3;
/** Generation and state bits of a mark. */
export const GEN_STATE_MASK = 0xfff8;
export const DIR_MASK = 7;
const GEN_SHIFT = 5;
const STATE_SHIFT = 3;
const MAX_GEN = 0x7ff;

/** Direction d moves by (DIR_X[d], DIR_Y[d]): N, E, S, W, NE, SE, SW, NW. */
export const DIR_X = [0, 1, 0, -1, 1, 1, -1, -1] as const;
export const DIR_Y = [-1, 0, 1, 0, -1, 1, 1, -1] as const;
/** Direction of (dx, dy), indexed by (dy + 1) * 3 + dx + 1; -1 for (0, 0). */
export const DIR_OF = [7, 0, 4, 3, -1, 1, 6, 2, 5] as const;

/** Smallest open-list capacity, so that tiny grids still compact in halves. */
const MIN_CAPACITY = 16;

/** Default open-list capacity for a grid of `cells` cells: two thirds of a byte per cell. */
export function defaultOpenCapacity(cells: number): number {
  return Math.max(MIN_CAPACITY, Math.floor(cells / 24) - 4);
}

/**
 * Per-cell search memory for one grid size (g, marks, the open list), shared by the
 * AStar and DistanceField of one thread. Every method on that thread only.
 */
export class SearchScratch {
  readonly cellCount: number;
  /** Path cost per cell; read only where the mark's generation is current. */
  readonly g: Float64Array;
  readonly mark: Uint16Array;
  /** Open-list entries, heap-ordered by (key ascending, tie descending). */
  readonly heapCell: Int32Array;
  readonly heapKey: Float64Array;
  readonly heapTie: Float32Array;
  readonly capacity: number;
  size = 0;
  /** A lower bound of the key of every deferred cell; Infinity when there is none. */
  minDeferred = Infinity;
  /** Current generation, 1..2047. */
  gen = 0;
  openTag = 0;
  deferredTag = 0;
  closedTag = 0;
  /**
   * The best successor offered during the current expansion, held back from the heap
   * (-1: none), with its key and tie. With a consistent heuristic nothing is queued
   * below the node being expanded, so when nothing queued or deferred is below the held
   * one either, it is the next node A* would pop: takeHeld() hands it over without the
   * push and pop (Sun et al.'s fast expansion, one successor per expansion).
   */
  held = -1;
  heldKey = 0;
  heldTie = 0;
  /**
   * The last entry was appended by takeHeld without its sift-up (see there). Only pop()
   * may see the heap so; push() settles it first.
   */
  private unsifted = false;
  /** How many times the open list filled up (compactions) and how many refill scans ran, over the scratch's life. */
  compactions = 0;
  refills = 0;
  // Heuristic of the current search, to recompute a cell's key exactly as it was pushed.
  private hWidth = 1;
  private hGx = 0;
  private hGy = 0;
  private hWeight = 0;
  private hOn = false;

  /**
   * `openCapacity` defaults to defaultOpenCapacity(cellCount); tests pass a tiny one to
   * drive the compaction and refill paths.
   */
  constructor(cellCount: number, openCapacity = defaultOpenCapacity(cellCount)) {
    if (!Number.isInteger(cellCount) || cellCount < 1) throw new EngineError('INVALID_OPTION', `SearchScratch cellCount must be a positive integer, got ${cellCount}`);
    if (!Number.isInteger(openCapacity) || openCapacity < 4) throw new EngineError('INVALID_OPTION', `SearchScratch openCapacity must be an integer >= 4, got ${openCapacity}`);
    this.cellCount = cellCount;
    this.g = new Float64Array(cellCount);
    this.mark = new Uint16Array(cellCount);
    this.capacity = openCapacity;
    this.heapCell = new Int32Array(openCapacity);
    this.heapKey = new Float64Array(openCapacity);
    this.heapTie = new Float32Array(openCapacity);
  }

  /** Bytes of every typed array this scratch holds. */
  bytes(): number {
    return this.g.byteLength + this.mark.byteLength + this.heapCell.byteLength + this.heapKey.byteLength + this.heapTie.byteLength;
  }

  /**
   * Starts a search: a new generation, an empty open list. Keys are g + h, where h is
   * the octile (weight SQRT2 - 1) or Manhattan (weight 1) distance to (gx, gy) on a
   * grid `width` wide, or 0 when `heuristic` is false (Dijkstra).
   */
  begin(width: number, gx: number, gy: number, weight: number, heuristic: boolean): void {
    let gen = this.gen + 1;
    if (gen > MAX_GEN) {
      // The generation wrapped: old marks could now look current, so clear them once.
      this.mark.fill(0);
      gen = 1;
    }
    this.gen = gen;
    this.openTag = (gen << GEN_SHIFT) | (STATE_OPEN << STATE_SHIFT);
    this.deferredTag = (gen << GEN_SHIFT) | (STATE_DEFERRED << STATE_SHIFT);
    this.closedTag = (gen << GEN_SHIFT) | (STATE_CLOSED << STATE_SHIFT);
    this.size = 0;
    this.minDeferred = Infinity;
    this.held = -1;
    this.unsifted = false;
    this.hWidth = width;
    this.hGx = gx;
    this.hGy = gy;
    this.hWeight = weight;
    this.hOn = heuristic;
  }

  /** The key cell `c` was pushed with: g + h by the same arithmetic as every search's push. */
  keyOf(c: number): number {
    if (!this.hOn) return this.g[c];
    const W = this.hWidth;
    const cy = (c / W) | 0;
    const cx = c - cy * W;
    const dx = cx > this.hGx ? cx - this.hGx : this.hGx - cx;
    const dy = cy > this.hGy ? cy - this.hGy : this.hGy - cy;
    const hw = this.hWeight;
    return this.g[c] + (dx < dy ? hw * dx + dy : hw * dy + dx);
  }

  /** Queues cell `c` with key `k`; `t` breaks ties (larger first). Compacts first when full. */
  push(c: number, k: number, t: number): void {
    if (this.unsifted) this.settle();
    if (this.size === this.capacity) this.compact();
    const cell = this.heapCell, key = this.heapKey, tie = this.heapTie;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const kp = key[p];
      if (kp < k || (kp === k && tie[p] >= t)) break;
      cell[i] = cell[p];
      key[i] = kp;
      tie[i] = tie[p];
      i = p;
    }
    cell[i] = c;
    key[i] = k;
    tie[i] = t;
  }

  /**
   * Offers cell `c` (just given a better g) with key `k` and tie `t`: held back if it is
   * the best of this expansion so far, else queued.
   */
  offer(c: number, k: number, t: number): void {
    const h = this.held;
    if (h === c) {
      this.heldKey = k; // a better offer for the held cell itself
      this.heldTie = t;
    } else if (h < 0) {
      this.held = c;
      this.heldKey = k;
      this.heldTie = t;
    } else if (k < this.heldKey || (k === this.heldKey && t > this.heldTie)) {
      this.push(h, this.heldKey, this.heldTie);
      this.held = c;
      this.heldKey = k;
      this.heldTie = t;
    } else {
      this.push(c, k, t);
    }
  }

  /**
   * The held successor if it comes before everything queued and deferred (then it is
   * the next pop), else -1 after queueing it (and when nothing is held).
   */
  takeHeld(): number {
    const h = this.held;
    if (h < 0) return -1;
    this.held = -1;
    const k = this.heldKey;
    const n = this.size;
    if (n > 0) {
      const top = this.heapKey[0];
      if (top < k || (top === k && this.heapTie[0] > this.heldTie)) {
        if (n === this.capacity || this.unsifted) {
          this.push(h, k, this.heldTie);
          return -1;
        }
        // The caller pops next, and pop moves the last entry to the root and sifts it
        // down. Appended there unsifted, the held cell takes the root's place in that one
        // sift, instead of a sift-up from the bottom and then a leaf's sift-down from the
        // root (the best successor of the node just expanded tends to belong high in the
        // heap, a leaf low). The root is still the smallest key: it is below the held one.
        this.heapCell[n] = h;
        this.heapKey[n] = k;
        this.heapTie[n] = this.heldTie;
        this.size = n + 1;
        this.unsifted = true;
        return -1;
      }
    }
    if (this.minDeferred < k) {
      this.push(h, k, this.heldTie);
      return -1;
    }
    return h;
  }

  /** Removes and returns the cell with the smallest key. The heap must not be empty. */
  pop(): number {
    const cell = this.heapCell, key = this.heapKey, tie = this.heapTie;
    const top = cell[0];
    this.unsifted = false;
    const n = --this.size;
    if (n > 0) this.siftDown(0, cell[n], key[n], tie[n], n);
    return top;
  }

  /** Sifts the entry takeHeld appended up to its place. */
  private settle(): void {
    this.unsifted = false;
    const n = --this.size;
    this.push(this.heapCell[n], this.heapKey[n], this.heapTie[n]);
  }

  private siftDown(from: number, c: number, k: number, t: number, n: number): void {
    const cell = this.heapCell, key = this.heapKey, tie = this.heapTie;
    let i = from;
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
      i = m;
    }
    cell[i] = c;
    key[i] = k;
    tie[i] = t;
  }

  private heapify(): void {
    const n = this.size;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i, this.heapCell[i], this.heapKey[i], this.heapTie[i], n);
  }

  /**
   * Makes room in a full open list: drops entries of cells that are closed or were
   * pushed again with a better key, and if the list is still over three quarters full,
   * defers every entry but the smallest half (their cells keep g and stay open).
   */
  compact(): void {
    this.compactions++;
    const cell = this.heapCell, key = this.heapKey, tie = this.heapTie, mark = this.mark;
    const openTag = this.openTag;
    let w = 0;
    for (let i = 0; i < this.size; i++) {
      const c = cell[i];
      // A live entry: the cell is open and this is its latest (smallest) key.
      if ((mark[c] & GEN_STATE_MASK) !== openTag || key[i] !== this.keyOf(c)) continue;
      cell[w] = c;
      key[w] = key[i];
      tie[w] = tie[i];
      w++;
    }
    const cap = this.capacity;
    if (w > cap - (cap >> 2)) {
      const keep = cap >> 1;
      this.selectSmallest(w, keep);
      const deferredTag = this.deferredTag;
      let min = this.minDeferred;
      for (let i = keep; i < w; i++) {
        const c = cell[i];
        mark[c] = deferredTag | (mark[c] & DIR_MASK);
        if (key[i] < min) min = key[i];
      }
      this.minDeferred = min;
      w = keep;
    }
    this.size = w;
    this.heapify();
  }

  /**
   * Queues every deferred cell again (compacting as it goes, so the smallest keys end
   * up queued). Returns whether anything is queued. Costs a scan of every mark, which
   * only a search whose frontier outgrew the open list ever pays.
   */
  refill(): boolean {
    if (this.minDeferred === Infinity) return this.size > 0;
    this.refills++;
    this.minDeferred = Infinity;
    const mark = this.mark, g = this.g;
    const deferredTag = this.deferredTag, openTag = this.openTag;
    const n = this.cellCount;
    for (let c = 0; c < n; c++) {
      const m = mark[c];
      if ((m & GEN_STATE_MASK) !== deferredTag) continue;
      mark[c] = openTag | (m & DIR_MASK);
      this.push(c, this.keyOf(c), g[c]);
    }
    return this.size > 0;
  }

  /** Reorders entries [0, n) so the `k` smallest keys come first (quickselect). */
  private selectSmallest(n: number, k: number): void {
    const cell = this.heapCell, key = this.heapKey, tie = this.heapTie;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      // Median of three as the pivot keeps sorted runs from going quadratic.
      const mid = (lo + hi) >> 1;
      const a = key[lo], b = key[mid], c = key[hi];
      const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
      let i = lo;
      let j = hi;
      while (i <= j) {
        while (key[i] < pivot) i++;
        while (key[j] > pivot) j--;
        if (i <= j) {
          const tc = cell[i]; cell[i] = cell[j]; cell[j] = tc;
          const tk = key[i]; key[i] = key[j]; key[j] = tk;
          const tt = tie[i]; tie[i] = tie[j]; tie[j] = tt;
          i++;
          j--;
        }
      }
      if (k <= j) hi = j;
      else if (k >= i) lo = i;
      else return;
    }
  }
}
