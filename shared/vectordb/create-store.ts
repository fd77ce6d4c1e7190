// Which store a config gets. No vectordb record: the in-process store (our extension: Kong always needs
// one; a handful of target descriptions does not). 'pgvector' and 'redis': that server, and only that one
// (a store that cannot work fails with a VectorStoreError; there is no fallback to another store).
import type { VectorDbConfig } from './config';
import { MemoryVectorStore } from './memory-store';
import { PgvectorStore } from './pgvector-store';
import { RedisVectorStore } from './redis-store';
import { VectorStoreError, type DistanceMetric, type VectorStore } from './types';

/** The metric and dimension of the in-process store, used when there is no vectordb record. */
export interface InProcessVectors {
  readonly metric: DistanceMetric;
  readonly dimensions: number;
}

export function createVectorStore(vectordb: VectorDbConfig | null, inProcess: InProcessVectors): VectorStore {
  if (vectordb === null) return new MemoryVectorStore(inProcess.metric, inProcess.dimensions);
  switch (vectordb.strategy) {
    case 'pgvector':
      return new PgvectorStore(vectordb.pgvector, vectordb.distance_metric, vectordb.dimensions);
    case 'redis':
      return new RedisVectorStore(vectordb.redis, vectordb.distance_metric, vectordb.dimensions);
    default:
      throw new VectorStoreError(`unknown vectordb strategy ${JSON.stringify((vectordb as { strategy: unknown }).strategy)}: use "pgvector" or "redis"`);
  }
}
