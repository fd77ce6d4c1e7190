// The one interface every vector store has (shared/vectordb/): semantic routing keeps each config's
// target descriptions, as embedding vectors, in a namespace of a store and asks for the nearest ones.
//
// Distances, the same in every store (and what Kong's `vectordb.threshold` is compared with):
// - cosine: 1 - cosine similarity, in [0, 2] (pgvector's `<=>`; RediSearch's COSINE reports the same);
// - euclidean: the L2 distance, sqrt(sum((a_i - b_i)^2)) (pgvector's `<->`; RediSearch's L2 reports
//   the square of it, see redis-store.ts).
// Dimensions: every vector of a namespace, and every query vector, has the store's configured dimension;
// a mismatch is a VectorStoreError naming both numbers.

export type DistanceMetric = 'cosine' | 'euclidean';

export interface VectorEntry {
  readonly id: string;
  readonly vector: readonly number[];
}

export interface VectorMatch {
  readonly id: string;
  readonly distance: number;
}

export interface VectorStore {
  /** Replaces every entry of `namespace` with `entries`, atomically where the store allows (a config's vectors). */
  replace(namespace: string, entries: readonly VectorEntry[]): Promise<void>;
  /** The entries of `namespace` nearest to `vector`, nearest first, at most `limit`, only those with distance <= maxDistance when given. */
  nearest(namespace: string, vector: readonly number[], limit: number, maxDistance?: number): Promise<VectorMatch[]>;
  close(): Promise<void>;
}

/**
 * A store's failure that the operator must fix (unreachable server, missing extension or module): the
 * message says what is needed. It never holds a credential, and carries no `cause` (a driver's error
 * object may hold connection settings): what the cause said is in the message.
 */
export class VectorStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VectorStoreError';
  }
}
