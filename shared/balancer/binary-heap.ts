// An indexed binary min-heap over the items 0..size-1, each with a numeric key and a secondary tie key:
// the balancer algorithms keep one score per target in it, change one target's score in O(log n) and
// read the best target in O(1). Order is (key, tie, index), so equal scores resolve deterministically.

export class IndexedMinHeap {
  private readonly keys: Float64Array;
  private readonly ties: Float64Array;
  /** heap[p]: the item at heap position p. */
  private readonly heap: Int32Array;
  /** pos[i]: the heap position of item i. */
  private readonly pos: Int32Array;
  /** Scratch for lowestExcluding's search (heap positions), allocated once. */
  private readonly frontier: Int32Array;
  private frontierSize = 0;

  constructor(readonly size: number, initialKey = 0) {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`heap size must be a non-negative integer, got ${size}`);
    checkKey(initialKey);
    this.keys = new Float64Array(size).fill(initialKey);
    this.ties = new Float64Array(size);
    // Equal keys: index order is already a valid heap.
    this.heap = Int32Array.from({ length: size }, (_, i) => i);
    this.pos = Int32Array.from({ length: size }, (_, i) => i);
    this.frontier = new Int32Array(size);
  }

  key(i: number): number {
    return this.keys[this.checkItem(i)]!;
  }

  tie(i: number): number {
    return this.ties[this.checkItem(i)]!;
  }

  /** Sets item i's key (and tie key, 0 unless given); O(log n). */
  set(i: number, key: number, tie = 0): void {
    this.checkItem(i);
    checkKey(key);
    checkKey(tie);
    this.keys[i] = key;
    this.ties[i] = tie;
    const p = this.pos[i]!;
    this.siftDown(this.siftUp(p));
  }

  /** The item with the lowest (key, tie, index); undefined only for an empty heap. */
  min(): number | undefined {
    return this.size === 0 ? undefined : this.heap[0];
  }

  /** (key, tie, index) of a strictly before b. */
  before(a: number, b: number): boolean {
    const ka = this.keys[a]!;
    const kb = this.keys[b]!;
    if (ka !== kb) return ka < kb;
    const ta = this.ties[a]!;
    const tb = this.ties[b]!;
    if (ta !== tb) return ta < tb;
    return a < b;
  }

  /**
   * The lowest item whose id (ids[item], or the item itself) is not in `exclude`. Best-first search of the
   * heap tree: it only visits excluded items that rank before the answer (and their children), so the
   * cost is O((1 + |exclude|) log n), O(1) when the best item is allowed. Read-only.
   */
  lowestExcluding(exclude: ReadonlySet<number>, ids?: ArrayLike<number>): number | undefined {
    if (this.size === 0) return undefined;
    const root = this.heap[0]!;
    if (exclude.size === 0 || !exclude.has(ids === undefined ? root : ids[root]!)) return root;
    this.frontierSize = 0;
    this.pushFrontier(0);
    while (this.frontierSize > 0) {
      const p = this.popFrontier();
      const item = this.heap[p]!;
      if (!exclude.has(ids === undefined ? item : ids[item]!)) return item;
      if (2 * p + 1 < this.size) this.pushFrontier(2 * p + 1);
      if (2 * p + 2 < this.size) this.pushFrontier(2 * p + 2);
    }
    return undefined;
  }

  // The frontier is itself a binary min-heap, of heap positions ordered by the items at them.
  private pushFrontier(p: number): void {
    const f = this.frontier;
    let c = this.frontierSize++;
    while (c > 0) {
      const parent = (c - 1) >> 1;
      if (!this.before(this.heap[p]!, this.heap[f[parent]!]!)) break;
      f[c] = f[parent]!;
      c = parent;
    }
    f[c] = p;
  }

  private popFrontier(): number {
    const f = this.frontier;
    const top = f[0]!;
    const n = --this.frontierSize;
    if (n === 0) return top;
    const last = f[n]!;
    let c = 0;
    for (;;) {
      let child = 2 * c + 1;
      if (child >= n) break;
      if (child + 1 < n && this.before(this.heap[f[child + 1]!]!, this.heap[f[child]!]!)) child++;
      if (!this.before(this.heap[f[child]!]!, this.heap[last]!)) break;
      f[c] = f[child]!;
      c = child;
    }
    f[c] = last;
    return top;
  }

  private siftUp(p: number): number {
    const item = this.heap[p]!;
    while (p > 0) {
      const parent = (p - 1) >> 1;
      const other = this.heap[parent]!;
      if (!this.before(item, other)) break;
      this.place(other, p);
      p = parent;
    }
    this.place(item, p);
    return p;
  }

  private siftDown(p: number): void {
    const item = this.heap[p]!;
    for (;;) {
      let child = 2 * p + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && this.before(this.heap[child + 1]!, this.heap[child]!)) child++;
      const other = this.heap[child]!;
      if (!this.before(other, item)) break;
      this.place(other, p);
      p = child;
    }
    this.place(item, p);
  }

  private place(item: number, p: number): void {
    this.heap[p] = item;
    this.pos[item] = p;
  }

  private checkItem(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) throw new RangeError(`no heap item ${i} (size ${this.size})`);
    return i;
  }
}

function checkKey(k: number): void {
  // NaN would break the order silently; infinities are fine (never-observed targets use -Infinity).
  if (Number.isNaN(k)) throw new RangeError('heap key must not be NaN');
}
