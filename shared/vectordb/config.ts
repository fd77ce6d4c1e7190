// Kong's `vectordb` config record (ai-proxy-advanced, ai-semantic-cache), as the plugins receive it:
// fields Kong has not set arrive as null, so every field is optional and nullable here; each store applies
// Kong's defaults itself (resolvePgvectorConfig, resolveRedisConfig).
import type { DistanceMetric } from './types';

export type VectorDbStrategy = 'redis' | 'pgvector';

export interface VectorDbConfig {
  readonly strategy: VectorDbStrategy;
  /** The dimension of every vector (the embedding model's). */
  readonly dimensions: number;
  readonly distance_metric: DistanceMetric;
  /** The largest distance that still matches (used by the caller, passed as nearest()'s maxDistance). */
  readonly threshold?: number | null;
  readonly redis?: RedisVectorDbConfig | null;
  readonly pgvector?: PgvectorConfig | null;
}

export type PgSslVersion = 'tlsv1_2' | 'tlsv1_3' | 'any';

/** Kong's `vectordb.pgvector`. */
export interface PgvectorConfig {
  readonly host?: string | null;
  readonly port?: number | null;
  readonly database?: string | null;
  readonly user?: string | null;
  readonly password?: string | null;
  readonly ssl?: boolean | null;
  readonly ssl_required?: boolean | null;
  readonly ssl_verify?: boolean | null;
  readonly ssl_version?: PgSslVersion | null;
  /** Path of a client certificate (PEM), for servers that ask for one. */
  readonly ssl_cert?: string | null;
  /** Path of the client certificate's key (PEM). */
  readonly ssl_cert_key?: string | null;
  /** ms: connection timeout and statement timeout. */
  readonly timeout?: number | null;
}

export interface ResolvedPgvectorConfig {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string | null;
  readonly ssl: boolean;
  readonly ssl_required: boolean;
  readonly ssl_verify: boolean;
  readonly ssl_version: PgSslVersion;
  readonly ssl_cert: string | null;
  readonly ssl_cert_key: string | null;
  readonly timeout: number;
}

export function resolvePgvectorConfig(c: PgvectorConfig | null | undefined): ResolvedPgvectorConfig {
  return {
    host: c?.host ?? '127.0.0.1',
    port: c?.port ?? 5432,
    database: c?.database ?? 'kong-pgvector',
    user: c?.user ?? 'postgres',
    password: c?.password ?? null,
    ssl: c?.ssl ?? false,
    ssl_required: c?.ssl_required ?? false,
    ssl_verify: c?.ssl_verify ?? false,
    ssl_version: c?.ssl_version ?? 'tlsv1_2',
    ssl_cert: c?.ssl_cert ?? null,
    ssl_cert_key: c?.ssl_cert_key ?? null,
    timeout: c?.timeout ?? 5000,
  };
}

/** A node of Kong's `cluster_nodes`. */
export interface RedisClusterNode {
  readonly ip?: string | null;
  readonly port?: number | null;
}

/** A node of Kong's `sentinel_nodes`. */
export interface RedisSentinelNode {
  readonly host?: string | null;
  readonly port?: number | null;
}

/** Kong's `cloud_authentication` (AWS ElastiCache / MemoryDB, GCP Memorystore, Azure managed Redis). */
export interface RedisCloudAuthentication {
  readonly auth_provider?: 'aws' | 'gcp' | 'azure' | null;
  readonly [field: string]: unknown;
}

/**
 * Kong's `vectordb.redis` (its shared Redis record). A standalone server is supported: host, port,
 * database, username, password, ssl, ssl_verify, server_name and the three timeouts. The keepalive and
 * proxy fields are accepted and have no effect (one persistent connection per store). Cluster, Sentinel
 * and cloud authentication are refused (VectorStoreError, "not supported yet").
 */
export interface RedisVectorDbConfig {
  readonly host?: string | null;
  readonly port?: number | null;
  readonly database?: number | null;
  readonly username?: string | null;
  readonly password?: string | null;
  readonly ssl?: boolean | null;
  readonly ssl_verify?: boolean | null;
  readonly server_name?: string | null;
  /** ms */
  readonly connect_timeout?: number | null;
  /** ms */
  readonly read_timeout?: number | null;
  /** ms */
  readonly send_timeout?: number | null;
  /** Kong's deprecated single timeout (ms): the default of the three above. */
  readonly timeout?: number | null;
  readonly keepalive_pool_size?: number | null;
  readonly keepalive_backlog?: number | null;
  readonly connection_is_proxied?: boolean | null;
  readonly cluster_nodes?: readonly RedisClusterNode[] | null;
  readonly cluster_max_redirections?: number | null;
  readonly sentinel_master?: string | null;
  readonly sentinel_role?: 'master' | 'slave' | 'any' | null;
  readonly sentinel_nodes?: readonly RedisSentinelNode[] | null;
  readonly sentinel_username?: string | null;
  readonly sentinel_password?: string | null;
  readonly cloud_authentication?: RedisCloudAuthentication | null;
}

export interface ResolvedRedisConfig {
  readonly host: string;
  readonly port: number;
  readonly database: number;
  readonly username: string | null;
  readonly password: string | null;
  readonly ssl: boolean;
  readonly ssl_verify: boolean;
  readonly server_name: string | null;
  readonly connect_timeout: number;
  readonly read_timeout: number;
  readonly send_timeout: number;
}

export function resolveRedisConfig(c: RedisVectorDbConfig | null | undefined): ResolvedRedisConfig {
  const fallback = c?.timeout ?? 2000;
  return {
    host: c?.host ?? '127.0.0.1',
    port: c?.port ?? 6379,
    database: c?.database ?? 0,
    username: c?.username ?? null,
    password: c?.password ?? null,
    ssl: c?.ssl ?? false,
    ssl_verify: c?.ssl_verify ?? false,
    server_name: c?.server_name ?? null,
    connect_timeout: c?.connect_timeout ?? fallback,
    read_timeout: c?.read_timeout ?? fallback,
    send_timeout: c?.send_timeout ?? fallback,
  };
}
