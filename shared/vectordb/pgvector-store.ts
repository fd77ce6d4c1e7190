// PostgreSQL with the pgvector extension, through `pg` (a small Pool) and `pgvector` (the vector text form).
//
// One table holds every namespace: ai_gateway_vectors (namespace text, id text, embedding vector,
// primary key (namespace, id)). The column is an untyped `vector`, so namespaces may have different
// dimensions; each store checks its own. Exact search (a sequential scan of the namespace's rows: a
// config has a few; an untyped column cannot carry an HNSW index anyway).
//
// On first use: the extension (CREATE EXTENSION IF NOT EXISTS vector, skipped when it is already there, so a
// user without the right to create it works on a prepared database), then the table. A failure is not
// remembered: the next call tries again (the server may come up later).
//
// Timeouts: `timeout` (ms) is the connection timeout (connecting, and waiting for a free pooled
// connection), the server's statement_timeout and pg's client-side query_timeout (a server that stops
// answering cannot hang a call).
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Pool, type PoolClient } from 'pg';
import { toSql } from 'pgvector';
import { resolvePgvectorConfig, type PgvectorConfig, type ResolvedPgvectorConfig } from './config';
import { VectorStoreError, type DistanceMetric, type VectorEntry, type VectorMatch, type VectorStore } from './types';
import {
  byDistance, checkDimensions, checkEntries, checkLimit, checkMaxDistance, checkMetric, checkNamespace, checkVector,
  describeError, scrub,
} from './validate';

export const PGVECTOR_TABLE = 'ai_gateway_vectors';
/** Connections per store: a replace() and a nearest() at once; more buys nothing for a few rows. */
export const PGVECTOR_POOL_SIZE = 2;
/** First key of replace()'s advisory lock (the second is the namespace's hash): ours, apart from other users'. */
const LOCK_CLASS = 0x41475656; // 'AGVV'

// SQLSTATEs of a concurrent CREATE EXTENSION / CREATE TABLE IF NOT EXISTS losing a race: the object is there.
const RACE_CODES = new Set(['23505', '42710', '42P07']);

function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Kong's ssl fields onto pg's `ssl` option (node:tls options):
 * - ssl and ssl_required both false: plain TCP (`ssl: false`).
 * - ssl or ssl_required true: TLS, required. pg has no "prefer" mode (libpq's sslmode=prefer, which Kong's
 *   `ssl` without `ssl_required` would be): a server without TLS fails with pg's "The server does not
 *   support SSL connections", never a silent downgrade to plain text.
 * - ssl_verify: `rejectUnauthorized` (the server's certificate against Node's CA store, plus
 *   NODE_EXTRA_CA_CERTS, where Kong uses lua_ssl_trusted_certificate); the name checked is `host`.
 * - ssl_version: the minimum TLS version, 'tlsv1_2' (Node's default) / 'tlsv1_3'; 'any' lowers it to TLSv1.
 * - ssl_cert / ssl_cert_key: a client certificate and its key (PEM files, read on first use).
 */
export async function pgSslOptions(c: ResolvedPgvectorConfig): Promise<false | ConnectionOptions> {
  if (!c.ssl && !c.ssl_required) return false;
  const tls: ConnectionOptions = {
    rejectUnauthorized: c.ssl_verify,
    minVersion: c.ssl_version === 'tlsv1_3' ? 'TLSv1.3' : c.ssl_version === 'any' ? 'TLSv1' : 'TLSv1.2',
  };
  if (isIP(c.host) === 0) tls.servername = c.host;
  if ((c.ssl_cert === null) !== (c.ssl_cert_key === null)) {
    throw new VectorStoreError('pgvector: ssl_cert and ssl_cert_key go together (a client certificate needs its key)');
  }
  if (c.ssl_cert !== null && c.ssl_cert_key !== null) {
    tls.cert = await readPem(c.ssl_cert, 'ssl_cert');
    tls.key = await readPem(c.ssl_cert_key, 'ssl_cert_key');
  }
  return tls;
}

async function readPem(path: string, field: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new VectorStoreError(`pgvector: cannot read ${field} ${JSON.stringify(path)}: ${describeError(err)}`);
  }
}

export class PgvectorStore implements VectorStore {
  readonly #config: ResolvedPgvectorConfig;
  readonly #metric: DistanceMetric;
  readonly #dimensions: number;
  readonly #where: string;
  #pool: Pool | null = null;
  #ready: Promise<Pool> | null = null;
  #closed = false;

  constructor(config: PgvectorConfig | null | undefined, metric: DistanceMetric, dimensions: number) {
    checkMetric(metric);
    checkDimensions(dimensions);
    const c = resolvePgvectorConfig(config);
    if (!Number.isInteger(c.port) || c.port < 1 || c.port > 65535) throw new VectorStoreError(`pgvector: port must be 1-65535, got ${c.port}`);
    if (!Number.isFinite(c.timeout) || c.timeout <= 0) throw new VectorStoreError(`pgvector: timeout must be a positive number of ms, got ${c.timeout}`);
    this.#config = { ...c, timeout: Math.ceil(c.timeout) };
    this.#metric = metric;
    this.#dimensions = dimensions;
    this.#where = `PostgreSQL at ${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`;
  }

  async replace(namespace: string, entries: readonly VectorEntry[]): Promise<void> {
    checkNamespace(namespace);
    checkEntries(entries, this.#dimensions, this.#metric, namespace);
    const pool = await this.#init();
    await this.#withClient(pool, `replacing the vectors of namespace ${JSON.stringify(namespace)}`, async (client) => {
      await client.query('BEGIN');
      try {
        // Two replaces of one namespace at once (several Kong workers loading one config) take turns:
        // without it, the second's DELETE would miss the first's new rows and its INSERT collide with them.
        await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, namespace]);
        await client.query(`DELETE FROM ${PGVECTOR_TABLE} WHERE namespace = $1`, [namespace]);
        if (entries.length > 0) {
          await client.query(
            `INSERT INTO ${PGVECTOR_TABLE} (namespace, id, embedding)
             SELECT $1, u.id, u.embedding::vector FROM unnest($2::text[], $3::text[]) AS u(id, embedding)`,
            [namespace, entries.map((e) => e.id), entries.map((e) => toSql([...e.vector]))],
          );
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  async nearest(namespace: string, vector: readonly number[], limit: number, maxDistance?: number): Promise<VectorMatch[]> {
    checkNamespace(namespace);
    checkVector(vector, this.#dimensions, this.#metric, 'the query vector');
    checkLimit(limit);
    checkMaxDistance(maxDistance);
    const pool = await this.#init();
    if (limit === 0) return [];
    const op = this.#metric === 'cosine' ? '<=>' : '<->';
    const params: (string | number)[] = [toSql([...vector]), namespace, limit];
    let filter = '';
    if (maxDistance !== undefined) {
      params.push(maxDistance);
      filter = ` AND (embedding ${op} $1::vector) <= $4`;
    }
    const rows = await this.#withClient(pool, `searching namespace ${JSON.stringify(namespace)}`, async (client) => {
      const r = await client.query<{ id: string; distance: number }>(
        `SELECT id, (embedding ${op} $1::vector)::float8 AS distance FROM ${PGVECTOR_TABLE}
         WHERE namespace = $2${filter} ORDER BY distance, id LIMIT $3`,
        params,
      );
      return r.rows;
    });
    // float8 arrives as a JS number; the sort again only so that ties order as in every store (by id, in
    // JS's code-unit order, where the database sorts by its collation).
    return rows.map((r) => ({ id: r.id, distance: Math.max(0, r.distance) })).sort(byDistance);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const ready = this.#ready;
    if (ready) await ready.catch(() => undefined);
    const pool = this.#pool;
    this.#pool = null;
    if (pool) await pool.end().catch(() => undefined);
  }

  #init(): Promise<Pool> {
    if (this.#closed) return Promise.reject(new VectorStoreError(`${this.#where}: the pgvector store is closed`));
    this.#ready ??= this.#setup().catch((err: unknown) => {
      this.#ready = null;
      throw err;
    });
    return this.#ready;
  }

  async #setup(): Promise<Pool> {
    const c = this.#config;
    const ssl = await pgSslOptions(c);
    if (this.#closed) throw new VectorStoreError(`${this.#where}: the pgvector store is closed`);
    if (!this.#pool) {
      const pool = new Pool({
        host: c.host,
        port: c.port,
        database: c.database,
        user: c.user,
        ...(c.password !== null ? { password: c.password } : {}),
        ssl,
        max: PGVECTOR_POOL_SIZE,
        connectionTimeoutMillis: c.timeout,
        statement_timeout: c.timeout,
        query_timeout: c.timeout,
        idleTimeoutMillis: 30_000,
        keepAlive: true,
        allowExitOnIdle: true,
        application_name: 'kong-ai-gateway',
      });
      // An idle pooled connection that breaks (server restart) is dropped by the pool; without a
      // listener its 'error' would be an uncaught exception.
      pool.on('error', () => undefined);
      this.#pool = pool;
    }
    const pool = this.#pool;
    await this.#withClient(pool, 'setting up the vector table', async (client) => {
      const has = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'vector'");
      if (has.rowCount === 0) {
        try {
          await client.query('CREATE EXTENSION IF NOT EXISTS vector');
        } catch (err) {
          if (!RACE_CODES.has(sqlState(err) ?? '')) {
            throw new VectorStoreError(this.#message(
              `the server needs the pgvector extension (https://github.com/pgvector/pgvector) in database ${JSON.stringify(c.database)}: ` +
              `CREATE EXTENSION vector failed: ${this.#cause(err)}. Install pgvector on the server and run ` +
              'CREATE EXTENSION vector as a user allowed to (or let this user create it)',
            ));
          }
        }
      }
      try {
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${PGVECTOR_TABLE} (namespace text NOT NULL, id text NOT NULL, ` +
          'embedding vector NOT NULL, PRIMARY KEY (namespace, id))',
        );
      } catch (err) {
        if (!RACE_CODES.has(sqlState(err) ?? '')) throw err;
      }
    });
    return pool;
  }

  /** Runs `fn` on a pooled connection; every failure comes out as a VectorStoreError naming the server. */
  async #withClient<T>(pool: Pool, doing: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw new VectorStoreError(this.#connectMessage(err));
    }
    // A checked-out connection that breaks emits 'error' (and fails its query): never uncaught.
    const onError = (): void => undefined;
    client.on('error', onError);
    let failed: unknown;
    try {
      return await fn(client);
    } catch (err) {
      failed = err;
      if (err instanceof VectorStoreError) throw err;
      throw new VectorStoreError(this.#queryMessage(doing, err));
    } finally {
      client.off('error', onError);
      // After a failure the connection is closed rather than reused (its state is unknown).
      client.release(failed !== undefined);
    }
  }

  #connectMessage(err: unknown): string {
    const c = this.#config;
    const cause = this.#cause(err);
    let hint = '';
    if (/ECONNREFUSED/.test(cause)) hint = ' (is the server running and listening there?)';
    else if (/timeout/i.test(cause)) hint = ` (no connection within the configured timeout of ${c.timeout} ms)`;
    else if (/does not support SSL/i.test(cause)) hint = ' (the server has no TLS: set ssl and ssl_required to false, or enable TLS on it)';
    else if (/ENOTFOUND|EAI_AGAIN/.test(cause)) hint = ' (the host name does not resolve)';
    return this.#message(`cannot connect (database ${JSON.stringify(c.database)}, user ${JSON.stringify(c.user)}): ${cause}${hint}`);
  }

  #queryMessage(doing: string, err: unknown): string {
    const cause = this.#cause(err);
    if (/different vector dimensions/.test(cause)) {
      return this.#message(
        `${doing} failed: the namespace holds vectors of another dimension than this store's ${this.#dimensions} (${cause}); ` +
        'replace() it with vectors of the configured dimension',
      );
    }
    if (/query read timeout|statement timeout/i.test(cause)) {
      return this.#message(`${doing} failed: no answer within the configured timeout of ${this.#config.timeout} ms (${cause})`);
    }
    return this.#message(`${doing} failed: ${cause}`);
  }

  #cause(err: unknown): string {
    const code = sqlState(err);
    const text = describeError(err);
    return /^[0-9A-Z]{5}$/.test(code ?? '') ? `${text} (SQLSTATE ${code})` : text;
  }

  #message(text: string): string {
    return scrub(`${this.#where}: ${text}`, [this.#config.password]);
  }
}
