// The in-process store: a config's handful of target descriptions needs no database. Exact search, linear
// over the namespace's entries (a config has a few; each nearest() is O(entries x dimensions)). Vectors are
// copied in (a caller changing its array later changes nothing here) and kept in float64.
import { VectorStoreError, type DistanceMetric, type VectorEntry, type VectorMatch, type VectorStore } from './types';
import {
  byDistance, checkDimensions, checkEntries, checkLimit, checkMaxDistance, checkMetric, checkNamespace, checkVector,
} from './validate';

interface Stored {
  readonly id: string;
  readonly vector: Float64Array;
  readonly norm: number;
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** 1 - cosine similarity, clamped to [0, 2] (rounding can step just outside). */
export function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>, normA = norm(a), normB = norm(b)): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  return Math.min(2, Math.max(0, 1 - dot / (normA * normB)));
}

export function euclideanDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return Math.sqrt(s);
}

export class MemoryVectorStore implements VectorStore {
  readonly #metric: DistanceMetric;
  readonly #dimensions: number;
  readonly #namespaces = new Map<string, readonly Stored[]>();
  #closed = false;

  constructor(metric: DistanceMetric, dimensions: number) {
    checkMetric(metric);
    checkDimensions(dimensions);
    this.#metric = metric;
    this.#dimensions = dimensions;
  }

  async replace(namespace: string, entries: readonly VectorEntry[]): Promise<void> {
    this.#open();
    checkNamespace(namespace);
    checkEntries(entries, this.#dimensions, this.#metric, namespace);
    // Built whole, then swapped in: a nearest() never sees half of a replace.
    const stored = entries.map((e) => {
      const vector = Float64Array.from(e.vector);
      return { id: e.id, vector, norm: norm(vector) };
    });
    if (stored.length === 0) this.#namespaces.delete(namespace);
    else this.#namespaces.set(namespace, stored);
  }

  async nearest(namespace: string, vector: readonly number[], limit: number, maxDistance?: number): Promise<VectorMatch[]> {
    this.#open();
    checkNamespace(namespace);
    checkVector(vector, this.#dimensions, this.#metric, 'the query vector');
    checkLimit(limit);
    checkMaxDistance(maxDistance);
    const entries = this.#namespaces.get(namespace);
    if (!entries || limit === 0) return [];
    const q = Float64Array.from(vector);
    const qNorm = norm(q);
    const matches: VectorMatch[] = [];
    for (const e of entries) {
      const distance = this.#metric === 'cosine' ? cosineDistance(q, e.vector, qNorm, e.norm) : euclideanDistance(q, e.vector);
      if (maxDistance === undefined || distance <= maxDistance) matches.push({ id: e.id, distance });
    }
    return matches.sort(byDistance).slice(0, limit);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#namespaces.clear();
  }

  #open(): void {
    if (this.#closed) throw new VectorStoreError('the in-process vector store is closed');
  }
}
