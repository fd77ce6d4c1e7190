// Redis with vector search (Redis Stack, Redis 8, RediSearch 2.4+, Valkey with valkey-search), through the
// `redis` client (node-redis). A standalone server only: Kong's cluster, Sentinel and cloud-authentication
// settings are refused with a VectorStoreError ("not supported yet"), never ignored.
//
// Layout, per namespace (and metric and dimension, so that two configs that differ in them never share an
// index whose DIM or DISTANCE_METRIC is not theirs):
//   base     ai-gateway:vectors:<namespace>:<cosine|l2>:<dim>     (namespace bytes outside [A-Za-z0-9_.-] as %XX)
//   entries  <base>:e:<id>   HASH { vector: FLOAT32 little-endian bytes }
//   ids      <base>:ids      SET of the namespace's ids (what replace() deletes next time)
//   index    ai-gateway:vectors-idx:<namespace>:<cosine|l2>:<dim>  FT.CREATE ON HASH PREFIX 1 <base>:e:
//            SCHEMA vector VECTOR FLAT 6 TYPE FLOAT32 DIM <dim> DISTANCE_METRIC COSINE|L2
// replace() is one Lua script (atomic on the server): delete the old entries, write the new ones.
// nearest() is FT.SEARCH with a KNN query; the distances are converted to ours (see `ourDistance`).
//
// On connecting, FT._LIST tells whether the server has the search module at all; a server without it
// (a plain redis-server) gets a VectorStoreError saying what is missing and what would work. There is no
// fallback to another store.
//
// Timeouts: connect_timeout for the TCP (and TLS) connection; each command gets send_timeout + read_timeout,
// from queueing to reply, timed here: node-redis's own command timeout stops at the write (checked in
// @redis/client 6.3.1, commands-queue.js: the timer is removed once the command is written), so a server
// that takes a command and never answers would hang it forever. A command that times out drops the
// connection (its replies can no longer be trusted to come); the next call makes a new one. After a first
// successful connection a lost connection is re-established in the background (backoff up to 2 s);
// commands meanwhile wait in node-redis's queue until their timeout. A first connection that fails is not
// retried by the client: the next call makes a new one.
import { isIP } from 'node:net';
import { createClient, ErrorReply, TimeoutError } from 'redis';
import { resolveRedisConfig, type RedisVectorDbConfig, type ResolvedRedisConfig } from './config';
import { VectorStoreError, type DistanceMetric, type VectorEntry, type VectorMatch, type VectorStore } from './types';
import {
  byDistance, checkDimensions, checkEntries, checkLimit, checkMaxDistance, checkMetric, checkNamespace, checkVector,
  describeError, scrub,
} from './validate';

export const REDIS_KEY_PREFIX = 'ai-gateway:vectors:';
export const REDIS_INDEX_PREFIX = 'ai-gateway:vectors-idx:';

/** What this store needs of a node-redis client (RESP2 replies: arrays, strings, numbers). */
interface RedisConnection {
  readonly isReady: boolean;
  sendCommand(args: ReadonlyArray<string | Buffer>): Promise<unknown>;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
}

// KEYS[1] = the ids set, KEYS[2..n+1] = the new entries' keys; ARGV[1] = the entries' key prefix,
// ARGV[2..n+1] = their vectors, ARGV[n+2..2n+1] = their ids.
const REPLACE_SCRIPT = `
local n = #KEYS - 1
local old = redis.call('SMEMBERS', KEYS[1])
for i = 1, #old do redis.call('DEL', ARGV[1] .. old[i]) end
redis.call('DEL', KEYS[1])
for i = 1, n do
  redis.call('HSET', KEYS[i + 1], 'vector', ARGV[i + 1])
  redis.call('SADD', KEYS[1], ARGV[n + 1 + i])
end
return n
`;

/** A namespace as a key part: bytes outside [A-Za-z0-9_.-] as %XX (so no namespace's keys are a prefix of another's). */
export function encodeKeyPart(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(b);
    out += /[A-Za-z0-9_.-]/.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** FLOAT32 little-endian bytes, as a RediSearch FLOAT32 vector field stores them. */
export function float32Bytes(v: readonly number[]): Buffer {
  const buf = Buffer.allocUnsafe(v.length * 4);
  for (let i = 0; i < v.length; i++) buf.writeFloatLE(v[i], i * 4);
  return buf;
}

/**
 * RediSearch's reported distance as ours.
 * - COSINE: RediSearch reports 1 - cosine similarity already (redis.io "Vector search concepts",
 *   Distance metrics: COSINE d(u, v) = 1 - u.v / (|u| |v|); redis/docs content/develop/ai/search-and-query/vectors.md).
 * - L2: RediSearch reports the *squared* Euclidean distance, whatever the docs' formula shows (it has a
 *   square root): its VecSim library computes FP32_L2Sqr without a root (RedisAI/VectorSimilarity
 *   src/VecSim/spaces/L2/L2.cpp), and RediSearch issue #3416 ("The L2 distance metric currently returns
 *   the squared Euclidean distance, so the formula shouldn't have a square root"). Hence the sqrt.
 * Float32 rounding can give a hair below 0: clamped.
 */
export function ourDistance(metric: DistanceMetric, reported: number): number {
  const d = Math.max(0, reported);
  return metric === 'euclidean' ? Math.sqrt(d) : d;
}

const WHAT_WORKS = 'Vectors on Redis need vector search: Redis Stack, Redis 8 or later (search built in), Redis with the ' +
  'RediSearch module 2.4 or later, or Valkey with the valkey-search module. Or use the pgvector strategy, or no ' +
  'vectordb for in-process vectors';

function refuseUnsupported(c: RedisVectorDbConfig | null | undefined): void {
  if (!c) return;
  if (c.cluster_nodes && c.cluster_nodes.length > 0) {
    throw new VectorStoreError('redis vectordb: Redis Cluster (cluster_nodes) is not supported yet: configure one standalone server (host, port)');
  }
  if ((c.sentinel_master ?? '') !== '' || (c.sentinel_nodes && c.sentinel_nodes.length > 0)) {
    throw new VectorStoreError('redis vectordb: Redis Sentinel (sentinel_master, sentinel_nodes) is not supported yet: configure one standalone server (host, port)');
  }
  if (c.cloud_authentication && (c.cloud_authentication.auth_provider ?? null) !== null) {
    throw new VectorStoreError(`redis vectordb: cloud_authentication (${String(c.cloud_authentication.auth_provider)}) is not supported yet: use username and password`);
  }
}

export class RedisVectorStore implements VectorStore {
  readonly #config: ResolvedRedisConfig;
  readonly #metric: DistanceMetric;
  readonly #dimensions: number;
  readonly #where: string;
  readonly #commandTimeout: number;
  #client: Promise<RedisConnection> | null = null;
  /** The connected client #client resolved to (what a timeout drops). */
  #live: RedisConnection | null = null;
  readonly #indexes = new Map<string, Promise<void>>();
  #lastError: unknown = undefined;
  #closed = false;

  constructor(config: RedisVectorDbConfig | null | undefined, metric: DistanceMetric, dimensions: number) {
    checkMetric(metric);
    checkDimensions(dimensions);
    refuseUnsupported(config);
    const r = resolveRedisConfig(config);
    if (!Number.isInteger(r.port) || r.port < 1 || r.port > 65535) throw new VectorStoreError(`redis vectordb: port must be 1-65535, got ${r.port}`);
    if (!Number.isInteger(r.database) || r.database < 0) throw new VectorStoreError(`redis vectordb: database must be an integer >= 0, got ${r.database}`);
    for (const f of ['connect_timeout', 'read_timeout', 'send_timeout'] as const) {
      if (!Number.isFinite(r[f]) || r[f] <= 0) throw new VectorStoreError(`redis vectordb: ${f} must be a positive number of ms, got ${r[f]}`);
    }
    const c: ResolvedRedisConfig = {
      ...r, connect_timeout: Math.ceil(r.connect_timeout), read_timeout: Math.ceil(r.read_timeout), send_timeout: Math.ceil(r.send_timeout),
    };
    this.#config = c;
    this.#metric = metric;
    this.#dimensions = dimensions;
    this.#commandTimeout = c.send_timeout + c.read_timeout;
    this.#where = `Redis at ${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`;
  }

  async replace(namespace: string, entries: readonly VectorEntry[]): Promise<void> {
    checkNamespace(namespace);
    checkEntries(entries, this.#dimensions, this.#metric, namespace);
    const client = await this.#connection();
    // Always FT.CREATE here (rare: a config load), so that an index lost with the server's data (a restart
    // without persistence) is back before the entries are written, and indexes them as they come.
    this.#indexes.delete(namespace);
    await this.#ensureIndex(client, namespace);
    const base = this.#base(namespace);
    const entryPrefix = `${base}:e:`;
    const args: (string | Buffer)[] = ['EVAL', REPLACE_SCRIPT, String(entries.length + 1), `${base}:ids`];
    for (const e of entries) args.push(entryPrefix + e.id);
    args.push(entryPrefix);
    for (const e of entries) args.push(float32Bytes(e.vector));
    for (const e of entries) args.push(e.id);
    await this.#command(client, args, `replacing the vectors of namespace ${JSON.stringify(namespace)}`);
  }

  async nearest(namespace: string, vector: readonly number[], limit: number, maxDistance?: number): Promise<VectorMatch[]> {
    checkNamespace(namespace);
    checkVector(vector, this.#dimensions, this.#metric, 'the query vector');
    checkLimit(limit);
    checkMaxDistance(maxDistance);
    const client = await this.#connection();
    await this.#ensureIndex(client, namespace);
    if (limit === 0) return [];
    const doing = `searching namespace ${JSON.stringify(namespace)}`;
    // No SORTBY (valkey-search has none): the KNN clause returns the `limit` nearest, sorted here.
    const search = [
      'FT.SEARCH', this.#index(namespace), `*=>[KNN ${limit} @vector $BLOB AS dist]`,
      'PARAMS', '2', 'BLOB', float32Bytes(vector),
      'RETURN', '1', 'dist',
      'LIMIT', '0', String(limit),
      'DIALECT', '2',
    ];
    let reply: unknown;
    try {
      reply = await this.#send(client, search);
    } catch (err) {
      // The index went away (a server restarted without persistence, FT.DROPINDEX): made again, once.
      if (!(err instanceof ErrorReply && /unknown index name|index .*not found|no such index/i.test(err.message))) {
        throw new VectorStoreError(this.#failMessage(doing, err));
      }
      this.#indexes.delete(namespace);
      await this.#ensureIndex(client, namespace);
      reply = await this.#command(client, search, doing);
    }
    const entryPrefix = `${this.#base(namespace)}:e:`;
    const matches: VectorMatch[] = [];
    for (const [key, reported] of this.#parseSearch(reply, doing)) {
      if (!key.startsWith(entryPrefix)) continue;
      const distance = ourDistance(this.#metric, reported);
      if (maxDistance === undefined || distance <= maxDistance) matches.push({ id: key.slice(entryPrefix.length), distance });
    }
    return matches.sort(byDistance).slice(0, limit);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const pending = this.#client;
    this.#client = null;
    this.#live = null;
    if (!pending) return;
    const client = await pending.catch(() => null);
    if (!client) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.close(),
        new Promise<void>((_, reject) => { timer = setTimeout(() => reject(new Error('close timed out')), this.#commandTimeout); }),
      ]);
    } catch {
      try { client.destroy(); } catch { /* already closed */ }
    } finally {
      clearTimeout(timer);
    }
  }

  #base(namespace: string): string {
    return `${REDIS_KEY_PREFIX}${encodeKeyPart(namespace)}:${this.#metric === 'cosine' ? 'cosine' : 'l2'}:${this.#dimensions}`;
  }

  #index(namespace: string): string {
    return `${REDIS_INDEX_PREFIX}${encodeKeyPart(namespace)}:${this.#metric === 'cosine' ? 'cosine' : 'l2'}:${this.#dimensions}`;
  }

  #connection(): Promise<RedisConnection> {
    if (this.#closed) return Promise.reject(new VectorStoreError(`${this.#where}: the redis vector store is closed`));
    this.#client ??= this.#connect().catch((err: unknown) => {
      this.#client = null;
      throw err;
    });
    return this.#client;
  }

  async #connect(): Promise<RedisConnection> {
    const c = this.#config;
    let connected = false;
    // Before the first connection: give up at once (connect() rejects with the cause); after: reconnect.
    const reconnectStrategy = (retries: number): number | false => (connected ? Math.min(100 * 2 ** retries, 2000) : false);
    const common = { host: c.host, port: c.port, connectTimeout: c.connect_timeout, reconnectStrategy };
    const client: RedisConnection & { on(event: 'error', listener: (err: unknown) => void): unknown } = createClient({
      socket: c.ssl
        ? {
          ...common,
          tls: true as const,
          rejectUnauthorized: c.ssl_verify,
          ...(c.server_name !== null ? { servername: c.server_name } : isIP(c.host) === 0 ? { servername: c.host } : {}),
        }
        : common,
      // RESP2: no HELLO (older servers), and FT.SEARCH's classic array reply on every server.
      RESP: 2,
      ...(c.password !== null ? { password: c.password, ...(c.username !== null ? { username: c.username } : {}) } : {}),
      ...(c.database !== 0 ? { database: c.database } : {}),
      disableClientInfo: true,
      maintNotifications: 'disabled',
      commandOptions: { timeout: this.#commandTimeout },
    });
    // Errors reach the callers through their commands; without a listener they would be uncaught.
    client.on('error', (err: unknown) => { this.#lastError = err; });
    let timer: NodeJS.Timeout | undefined;
    try {
      const budget = c.connect_timeout + this.#commandTimeout; // TCP (+TLS), then AUTH / SELECT
      const connecting = client.connect();
      connecting.catch(() => undefined); // the timer won: rejected by destroy(), seen by no one
      await Promise.race([
        connecting,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new TimeoutError()), budget);
        }),
      ]);
      connected = true;
    } catch (err) {
      try { client.destroy(); } catch { /* never opened */ }
      throw new VectorStoreError(this.#connectMessage(err));
    } finally {
      clearTimeout(timer);
    }
    try {
      await this.#checkSearch(client);
    } catch (err) {
      try { client.destroy(); } catch { /* already closed */ }
      throw err;
    }
    if (this.#closed) {
      client.destroy();
      throw new VectorStoreError(`${this.#where}: the redis vector store is closed`);
    }
    this.#live = client;
    return client;
  }

  /** One command, with this store's timeout (see the top of the file); a timeout drops the connection. */
  async #send(client: RedisConnection, args: ReadonlyArray<string | Buffer>): Promise<unknown> {
    const reply = client.sendCommand(args);
    reply.catch(() => undefined); // still pending when the timer wins: rejected by destroy(), seen by no one
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        reply,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new TimeoutError()), this.#commandTimeout);
        }),
      ]);
    } catch (err) {
      if (err instanceof TimeoutError) this.#drop(client);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  #drop(client: RedisConnection): void {
    if (this.#live === client) {
      this.#live = null;
      this.#client = null;
    }
    try { client.destroy(); } catch { /* already closed */ }
  }

  async #checkSearch(client: RedisConnection): Promise<void> {
    try {
      await this.#send(client, ['FT._LIST']);
    } catch (err) {
      if (err instanceof ErrorReply && /unknown command/i.test(err.message)) {
        const answered = `it answered FT._LIST with "${err.message.trim()}"`;
        const loaded = await this.#loadedSearchModule(client);
        throw new VectorStoreError(this.#message(loaded
          ? `the server's search module cannot do vector search: ${answered}, and MODULE LIST shows module ` +
            `"${loaded.name}" version ${loaded.version} (RediSearch before 2.4, e.g. Debian's redis-redisearch package, ` +
            `which is RediSearch 1.2). ${WHAT_WORKS}`
          : `the server has no vector search: ${answered}, so no search module (RediSearch) is loaded (a plain ` +
            `redis-server, e.g. Debian's redis-server package, has none). ${WHAT_WORKS}`));
      }
      throw new VectorStoreError(this.#failMessage('checking for vector search (FT._LIST)', err));
    }
  }

  /** The search module MODULE LIST shows (name, version as x.y.z), if any; null also when MODULE LIST is refused. */
  async #loadedSearchModule(client: RedisConnection): Promise<{ name: string; version: string } | null> {
    let reply: unknown;
    try {
      reply = await this.#send(client, ['MODULE', 'LIST']);
    } catch {
      return null;
    }
    if (!Array.isArray(reply)) return null;
    for (const m of reply) {
      if (!Array.isArray(m)) continue;
      const fields = new Map<string, unknown>();
      for (let i = 0; i + 1 < m.length; i += 2) fields.set(String(m[i]), m[i + 1]);
      const name = String(fields.get('name') ?? '');
      if (!/^(ft|search)$/i.test(name)) continue;
      const ver = Number(fields.get('ver'));
      const version = Number.isInteger(ver) ? `${Math.floor(ver / 10000)}.${Math.floor(ver / 100) % 100}.${ver % 100}` : String(fields.get('ver'));
      return { name, version };
    }
    return null;
  }

  #ensureIndex(client: RedisConnection, namespace: string): Promise<void> {
    let ready = this.#indexes.get(namespace);
    if (!ready) {
      ready = this.#createIndex(client, namespace).catch((err: unknown) => {
        this.#indexes.delete(namespace);
        throw err;
      });
      this.#indexes.set(namespace, ready);
    }
    return ready;
  }

  async #createIndex(client: RedisConnection, namespace: string): Promise<void> {
    const args = [
      'FT.CREATE', this.#index(namespace), 'ON', 'HASH', 'PREFIX', '1', `${this.#base(namespace)}:e:`,
      'SCHEMA', 'vector', 'VECTOR', 'FLAT', '6', 'TYPE', 'FLOAT32', 'DIM', String(this.#dimensions),
      'DISTANCE_METRIC', this.#metric === 'cosine' ? 'COSINE' : 'L2',
    ];
    try {
      await this.#send(client, args);
    } catch (err) {
      if (err instanceof ErrorReply) {
        const m = err.message;
        if (/index already exists/i.test(m)) return;
        if (/could not parse field spec|invalid field type|unknown field type/i.test(m)) {
          throw new VectorStoreError(this.#message(
            `the server's search module cannot index vectors: FT.CREATE with a VECTOR field failed with "${m}". ` +
            'Vector fields need RediSearch 2.4 or later (Redis Stack, Redis 8) or valkey-search',
          ));
        }
        if (/db != 0|database 0|db 0/i.test(m)) {
          throw new VectorStoreError(this.#message(`FT.CREATE failed with "${m}": the search module indexes database 0 only; set database to 0`));
        }
      }
      throw new VectorStoreError(this.#failMessage(`creating the vector index of namespace ${JSON.stringify(namespace)}`, err));
    }
  }

  async #command(client: RedisConnection, args: ReadonlyArray<string | Buffer>, doing: string): Promise<unknown> {
    try {
      return await this.#send(client, args);
    } catch (err) {
      throw new VectorStoreError(this.#failMessage(doing, err));
    }
  }

  /** FT.SEARCH's RESP2 reply: [total, key, [field, value, ...], key, [...], ...] → [key, reported distance]. */
  #parseSearch(reply: unknown, doing: string): [string, number][] {
    const bad = (why: string): VectorStoreError =>
      new VectorStoreError(this.#message(`${doing}: unexpected FT.SEARCH reply (${why})`));
    if (!Array.isArray(reply) || typeof reply[0] !== 'number') throw bad('not an array starting with a count');
    const out: [string, number][] = [];
    for (let i = 1; i < reply.length; i += 2) {
      const key: unknown = reply[i];
      const fields: unknown = reply[i + 1];
      if (typeof key !== 'string' || !Array.isArray(fields)) throw bad('a result without its key or fields');
      let reported: number | undefined;
      for (let f = 0; f + 1 < fields.length; f += 2) {
        if (String(fields[f]) === 'dist') reported = Number(String(fields[f + 1]));
      }
      if (reported === undefined || Number.isNaN(reported)) throw bad(`no distance for ${JSON.stringify(key)}`);
      out.push([key, reported]);
    }
    return out;
  }

  #connectMessage(err: unknown): string {
    const c = this.#config;
    if (err instanceof TimeoutError) {
      return this.#message(`cannot connect: no connection (and AUTH / SELECT answered) within ${c.connect_timeout + this.#commandTimeout} ms`);
    }
    const cause = describeError(err);
    let hint = '';
    if (/ECONNREFUSED/.test(cause)) hint = ' (is the server running and listening there?)';
    else if (/timeout/i.test(cause)) hint = ` (no connection within connect_timeout, ${c.connect_timeout} ms)`;
    else if (/WRONGPASS|NOAUTH|invalid password|invalid username|\bAUTH\b/i.test(cause)) hint = ' (check username and password)';
    else if (/ENOTFOUND|EAI_AGAIN/.test(cause)) hint = ' (the host name does not resolve)';
    return this.#message(`cannot connect: ${cause}${hint}`);
  }

  #failMessage(doing: string, err: unknown): string {
    if (err instanceof VectorStoreError) return err.message;
    if (err instanceof TimeoutError) {
      const last = this.#lastError === undefined ? '' : ` (last connection error: ${describeError(this.#lastError)})`;
      return this.#message(`${doing}: no answer within ${this.#commandTimeout} ms (send_timeout + read_timeout)${last}`);
    }
    if (err instanceof ErrorReply) return this.#message(`${doing} failed: the server answered "${err.message.trim()}"`);
    return this.#message(`${doing} failed: ${describeError(err)}`);
  }

  #message(text: string): string {
    return scrub(`${this.#where}: ${text}`, [this.#config.password]);
  }
}
