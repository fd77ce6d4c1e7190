// The vector stores of semantic routing: see types.ts for the interface and the distances.
export { VectorStoreError, type DistanceMetric, type VectorEntry, type VectorMatch, type VectorStore } from './types';
export type {
  PgSslVersion, PgvectorConfig, RedisCloudAuthentication, RedisClusterNode, RedisSentinelNode, RedisVectorDbConfig,
  VectorDbConfig, VectorDbStrategy,
} from './config';
export { createVectorStore, type InProcessVectors } from './create-store';
export { MemoryVectorStore, cosineDistance, euclideanDistance } from './memory-store';
export { PgvectorStore, PGVECTOR_TABLE } from './pgvector-store';
export { RedisVectorStore } from './redis-store';
