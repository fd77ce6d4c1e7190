// The vector stores of semantic routing (shared/vectordb/): one contract (distances on hand-computed
// vectors, order, threshold, replace, namespaces, dimensions) run against the in-process store, against
// pgvector on a real PostgreSQL (PGlite over the wire protocol, in a child process), and against the redis
// store talking to an emulation of RediSearch's commands; then each server store's failures: every one a
// VectorStoreError with a clear message, quickly, and never with a password in it.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Client } from 'pg';
import { createVectorStore } from '../shared/vectordb/create-store';
import { MemoryVectorStore } from '../shared/vectordb/memory-store';
import { PGVECTOR_TABLE, PgvectorStore } from '../shared/vectordb/pgvector-store';
import { RedisVectorStore, encodeKeyPart, float32Bytes, ourDistance } from '../shared/vectordb/redis-store';
import { VectorStoreError, type DistanceMetric, type VectorMatch, type VectorStore } from '../shared/vectordb/types';
import { debianRedis, debianRedisWithRedisearch12, debianUnknownCommand, emulatedSearch, startFakeRedis, type FakeRedis } from './support/fake-redis';
import { startPgliteServer, type PgliteServer } from './support/pglite-server';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => { unhandled.push(reason); });
after(() => assert.deepEqual(unhandled, [], 'no unhandled rejection in the whole file'));

const SQRT1_2 = Math.SQRT1_2;

/** Float32 storage (pgvector, Redis) rounds: distances agree to about 1e-6. */
function assertMatches(actual: VectorMatch[], expected: [string, number][], tolerance = 1e-6): void {
  assert.deepEqual(actual.map((m) => m.id), expected.map(([id]) => id), `ids in order, got ${JSON.stringify(actual)}`);
  actual.forEach((m, i) => {
    const want = expected[i][1];
    assert.ok(Math.abs(m.distance - want) <= tolerance, `distance of ${m.id}: ${m.distance}, expected ${want}`);
  });
}

/** Rejects with a VectorStoreError matching every pattern, within maxMs; returns the message. */
async function rejectsStoreError(p: Promise<unknown>, patterns: readonly RegExp[], maxMs = 3000): Promise<string> {
  const started = performance.now();
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  const ms = performance.now() - started;
  assert.ok(caught instanceof VectorStoreError, `expected a VectorStoreError, got ${String(caught)}`);
  for (const re of patterns) assert.match(caught.message, re);
  assert.ok(ms <= maxMs, `failed after ${Math.round(ms)} ms, expected within ${maxMs} ms: ${caught.message}`);
  return caught.message;
}

type MakeStore = (metric: DistanceMetric, dimensions: number) => VectorStore;

let nsCounter = 0;
/** A namespace no other test uses (the PostgreSQL database is shared by the whole file). */
function freshNamespace(label: string): string {
  return `t${process.pid}-${++nsCounter}-${label}`;
}

/** The behaviour every store has. `make` must give stores that see one another's namespaces. */
function storeContract(make: MakeStore): void {
  const stores: VectorStore[] = [];
  const store = (metric: DistanceMetric, dimensions: number): VectorStore => {
    const s = make(metric, dimensions);
    stores.push(s);
    return s;
  };
  afterEach(async () => { await Promise.all(stores.splice(0).map((s) => s.close())); });

  test('cosine distances, nearest first (1 - cosine similarity)', async () => {
    const s = store('cosine', 2);
    const ns = freshNamespace('cos');
    await s.replace(ns, [
      { id: 'b', vector: [0, 1] },
      { id: 'd', vector: [-1, 0] },
      { id: 'a', vector: [1, 0] },
      { id: 'c', vector: [2, 2] }, // 45 degrees, and the length does not matter
    ]);
    assertMatches(await s.nearest(ns, [3, 0], 10), [['a', 0], ['c', 1 - SQRT1_2], ['b', 1], ['d', 2]]);
    assertMatches(await s.nearest(ns, [0, 0.5], 2), [['b', 0], ['c', 1 - SQRT1_2]]);
  });

  test('euclidean distances (L2, not squared), nearest first, ties by id', async () => {
    const s = store('euclidean', 2);
    const ns = freshNamespace('l2');
    await s.replace(ns, [
      { id: 't', vector: [-2, -2] }, // 3-4-5 from the query
      { id: 'r', vector: [4, 6] }, // 3-4-5 as well: a tie, ordered by id
      { id: 's', vector: [1, 0] },
      { id: 'o', vector: [1, 2] },
      { id: 'z', vector: [0, 0] }, // the zero vector is fine for euclidean
    ]);
    assertMatches(await s.nearest(ns, [1, 2], 10), [['o', 0], ['s', 2], ['z', Math.sqrt(5)], ['r', 5], ['t', 5]]);
  });

  test('maxDistance keeps only the matches within it (inclusive); limit caps them', async () => {
    const s = store('cosine', 2);
    const ns = freshNamespace('threshold');
    await s.replace(ns, [
      { id: 'a', vector: [1, 0] },
      { id: 'b', vector: [0, 1] },
      { id: 'c', vector: [1, 1] },
    ]);
    assertMatches(await s.nearest(ns, [1, 0], 10, 0.5), [['a', 0], ['c', 1 - SQRT1_2]]);
    assertMatches(await s.nearest(ns, [1, 0], 10, 0), [['a', 0]]);
    assertMatches(await s.nearest(ns, [1, 0], 10, 1), [['a', 0], ['c', 1 - SQRT1_2], ['b', 1]]);
    assertMatches(await s.nearest(ns, [1, 0], 1), [['a', 0]]);
    assert.deepEqual(await s.nearest(ns, [1, 0], 0), []);
    assert.deepEqual(await s.nearest(ns, [-1, 0.001], 10, 0.5), []);
  });

  test('replace() replaces the whole namespace', async () => {
    const s = store('euclidean', 3);
    const ns = freshNamespace('replace');
    await s.replace(ns, [{ id: 'x', vector: [1, 0, 0] }, { id: 'y', vector: [0, 1, 0] }]);
    assertMatches(await s.nearest(ns, [0, 0, 0], 10), [['x', 1], ['y', 1]]);
    await s.replace(ns, [{ id: 'y', vector: [0, 0, 2] }, { id: 'w', vector: [0, 0, 3] }]);
    assertMatches(await s.nearest(ns, [0, 0, 0], 10), [['y', 2], ['w', 3]]);
    await s.replace(ns, []);
    assert.deepEqual(await s.nearest(ns, [0, 0, 0], 10), []);
  });

  test('namespaces are isolated; an unknown one is empty', async () => {
    const s = store('cosine', 2);
    const one = freshNamespace('one');
    const two = freshNamespace('two');
    await s.replace(one, [{ id: 'a', vector: [1, 0] }]);
    await s.replace(two, [{ id: 'b', vector: [0, 1] }, { id: 'a', vector: [0, 1] }]);
    assertMatches(await s.nearest(one, [1, 0], 10), [['a', 0]]);
    assertMatches(await s.nearest(two, [1, 0], 10), [['a', 1], ['b', 1]]);
    await s.replace(one, []);
    assertMatches(await s.nearest(two, [0, 1], 10), [['a', 0], ['b', 0]]);
    assert.deepEqual(await s.nearest(freshNamespace('never-written'), [1, 0], 10), []);
  });

  test('a dimension mismatch is refused, naming both numbers', async () => {
    const s = store('cosine', 2);
    const ns = freshNamespace('dims');
    await rejectsStoreError(s.replace(ns, [{ id: 'a', vector: [1, 0, 0] }]), [/3 dimensions/, /configured for 2/, /"a"/]);
    await s.replace(ns, [{ id: 'a', vector: [1, 0] }]);
    await rejectsStoreError(s.nearest(ns, [1], 5), [/1 dimensions/, /configured for 2/]);
    assertMatches(await s.nearest(ns, [1, 0], 5), [['a', 0]]); // the refused replace changed nothing
  });

  test('bad input is a VectorStoreError: duplicate ids, non-numbers, a zero vector under cosine, bad limits', async () => {
    const s = store('cosine', 2);
    const ns = freshNamespace('input');
    await rejectsStoreError(s.replace(ns, [{ id: 'a', vector: [1, 0] }, { id: 'a', vector: [0, 1] }]), [/two entries with id "a"/]);
    await rejectsStoreError(s.replace(ns, [{ id: 'a', vector: [1, Number.NaN] }]), [/not a finite number at index 1/]);
    await rejectsStoreError(s.replace(ns, [{ id: '', vector: [1, 0] }]), [/no id/]);
    await rejectsStoreError(s.replace(ns, [{ id: 'z', vector: [0, 0] }]), [/zero vector/]);
    await rejectsStoreError(s.nearest(ns, [0, 0], 1), [/zero vector/]);
    await rejectsStoreError(s.nearest(ns, [1, 0], -1), [/limit/]);
    await rejectsStoreError(s.nearest(ns, [1, 0], 1.5), [/limit/]);
    await rejectsStoreError(s.nearest(ns, [1, 0], 1, -0.1), [/maxDistance/]);
    await rejectsStoreError(s.nearest('', [1, 0], 1), [/namespace/]);
  });

  test('ids and namespaces with unusual characters round-trip', async () => {
    const s = store('euclidean', 2);
    const ns = `${freshNamespace('odd')}:é {x}*?%`;
    const ids = ['a:b', 'ü ñ', "quote'\"", 'x%41', '*'];
    await s.replace(ns, ids.map((id, i) => ({ id, vector: [i, 0] })));
    assertMatches(await s.nearest(ns, [0, 0], 10), ids.map((id, i): [string, number] => [id, i]));
    assert.deepEqual(await s.nearest(`${freshNamespace('odd')}:é {x}*?`, [0, 0], 10), []);
  });

  test('a closed store refuses calls', async () => {
    const s = make('cosine', 2);
    await s.close();
    await rejectsStoreError(s.nearest(freshNamespace('closed'), [1, 0], 1), [/closed/]);
  });
}

describe('memory store', () => {
  storeContract((metric, dims) => new MemoryVectorStore(metric, dims));

  test('copies the vectors in: changing the caller\'s array later changes nothing', async () => {
    const s = new MemoryVectorStore('euclidean', 2);
    const v = [3, 4];
    await s.replace('n', [{ id: 'a', vector: v }]);
    v[0] = 0;
    assertMatches(await s.nearest('n', [0, 0], 1), [['a', 5]], 0);
  });

  test('refuses a bad configuration', () => {
    assert.throws(() => new MemoryVectorStore('cosine', 0), VectorStoreError);
    assert.throws(() => new MemoryVectorStore('manhattan' as DistanceMetric, 2), /unknown distance metric/);
  });
});

describe('createVectorStore', () => {
  test('no vectordb record: the in-process store; pgvector and redis: theirs', async () => {
    const mem = createVectorStore(null, { metric: 'cosine', dimensions: 2 });
    assert.ok(mem instanceof MemoryVectorStore);
    const pg = createVectorStore({ strategy: 'pgvector', dimensions: 3, distance_metric: 'euclidean', pgvector: { port: 1 } }, { metric: 'cosine', dimensions: 2 });
    assert.ok(pg instanceof PgvectorStore);
    const redis = createVectorStore({ strategy: 'redis', dimensions: 3, distance_metric: 'cosine', redis: null }, { metric: 'cosine', dimensions: 2 });
    assert.ok(redis instanceof RedisVectorStore);
    await Promise.all([mem.close(), pg.close(), redis.close()]);
    assert.throws(
      () => createVectorStore({ strategy: 'milvus' as 'redis', dimensions: 3, distance_metric: 'cosine' }, { metric: 'cosine', dimensions: 2 }),
      /unknown vectordb strategy "milvus"/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// pgvector

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP server that accepts connections and never says anything. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/**
 * A "PostgreSQL" that answers every startup with a FATAL error whose text holds whatever the test wants
 * (here: the password), to show that the store's messages never carry the password whatever a server says.
 */
async function echoingPgServer(text: string): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => {
      const fields = Buffer.concat([
        Buffer.from('SFATAL\0'), Buffer.from('C28P01\0'), Buffer.from(`Mpassword authentication failed: ${text}\0`), Buffer.from('\0'),
      ]);
      const head = Buffer.alloc(5);
      head.write('E', 0, 'latin1');
      head.writeInt32BE(fields.length + 4, 1);
      socket.end(Buffer.concat([head, fields]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('pgvector store on PostgreSQL (PGlite + pgvector over the wire protocol)', () => {
  let pg: PgliteServer;
  const PASSWORD = 'Sup3r-S3cret-pw!';
  const stores: VectorStore[] = [];
  const make = (metric: DistanceMetric, dims: number, extra: Record<string, unknown> = {}): PgvectorStore => {
    const s = new PgvectorStore({ host: pg.host, port: pg.port, database: 'postgres', user: 'postgres', password: PASSWORD, timeout: 10_000, ...extra }, metric, dims);
    stores.push(s);
    return s;
  };

  before(async () => {
    pg = await startPgliteServer();
    process.stdout.write(`PGlite server ready in ${pg.startupMs} ms (pid ${pg.pid}, ${pg.host}:${pg.port})\n`);
  }, { timeout: 180_000 });
  // Closed after each test: PGlite's server drops connections above its maxConnections.
  afterEach(async () => { await Promise.all(stores.splice(0).map((s) => s.close())); });
  after(async () => { await pg?.stop(); });

  describe('the store contract', () => {
    storeContract((metric, dims) => make(metric, dims));
  });

  test('first use creates the extension and the table', async () => {
    const s = make('cosine', 2);
    const ns = freshNamespace('setup');
    await s.replace(ns, [{ id: 'a', vector: [1, 0] }]);
    const c = new Client({ host: pg.host, port: pg.port, user: 'postgres', database: 'postgres' });
    await c.connect();
    try {
      const ext = await c.query<{ extversion: string }>("SELECT extversion FROM pg_extension WHERE extname = 'vector'");
      assert.equal(ext.rowCount, 1);
      const rows = await c.query<{ id: string; e: string }>(`SELECT id, embedding::text AS e FROM ${PGVECTOR_TABLE} WHERE namespace = $1`, [ns]);
      assert.deepEqual(rows.rows, [{ id: 'a', e: '[1,0]' }]);
    } finally {
      await c.end();
    }
  });

  test('concurrent nearest() calls, and a replace() among them, all answer correctly', async () => {
    const s = make('euclidean', 2);
    const ns = freshNamespace('concurrent');
    await s.replace(ns, Array.from({ length: 20 }, (_, i) => ({ id: `p${String(i).padStart(2, '0')}`, vector: [i, 0] })));
    const calls = Array.from({ length: 60 }, (_, i) => s.nearest(ns, [i % 20, 0], 1));
    const other = freshNamespace('concurrent-other');
    calls.push(s.replace(other, [{ id: 'q', vector: [0, 1] }]).then(() => []));
    const results = await Promise.all(calls);
    for (let i = 0; i < 60; i++) assertMatches(results[i], [[`p${String(i % 20).padStart(2, '0')}`, 0]]);
    assertMatches(await s.nearest(other, [0, 0], 5), [['q', 1]]);
  });

  test('concurrent replace() of one namespace (several workers loading one config) leaves one whole set', async () => {
    const a = make('euclidean', 2);
    const b = make('euclidean', 2);
    const ns = freshNamespace('race');
    const set = (tag: string): { id: string; vector: number[] }[] => Array.from({ length: 5 }, (_, i) => ({ id: `${tag}${i}`, vector: [i, 1] }));
    await Promise.all([a.replace(ns, set('a')), b.replace(ns, set('b')), a.replace(ns, set('c')), b.replace(ns, set('d'))]);
    const ids = (await a.nearest(ns, [0, 0], 100)).map((m) => m.id);
    assert.equal(ids.length, 5);
    assert.equal(new Set(ids.map((id) => id[0])).size, 1, `one replace's entries, got ${ids.join(',')}`);
  });

  test('a second store instance sees the first one\'s namespace', async () => {
    const ns = freshNamespace('shared');
    await make('cosine', 2).replace(ns, [{ id: 'a', vector: [1, 0] }, { id: 'b', vector: [0, 1] }]);
    assertMatches(await make('cosine', 2).nearest(ns, [0, 1], 5), [['b', 0], ['a', 1]]);
  });

  test('namespaces of different dimensions share the table; a store reading another dimension\'s namespace gets a clear error', async () => {
    const ns2 = freshNamespace('dim2');
    const ns3 = freshNamespace('dim3');
    await make('euclidean', 2).replace(ns2, [{ id: 'a', vector: [1, 1] }]);
    await make('euclidean', 3).replace(ns3, [{ id: 'a', vector: [1, 1, 1] }]);
    assertMatches(await make('euclidean', 2).nearest(ns2, [0, 0], 5), [['a', Math.SQRT2]]);
    const msg = await rejectsStoreError(make('euclidean', 2).nearest(ns3, [0, 0], 5), [/another dimension/, /3 and 2|2 and 3/, new RegExp(`${pg.host}:${pg.port}`)]);
    assert.ok(!msg.includes(PASSWORD), msg);
  });

  test('an unreachable server: a VectorStoreError naming host:port, at once (connection refused)', async () => {
    const port = await closedPort();
    const s = new PgvectorStore({ host: '127.0.0.1', port, password: PASSWORD, timeout: 2000 }, 'cosine', 2);
    const msg = await rejectsStoreError(s.nearest('n', [1, 0], 1), [new RegExp(`PostgreSQL at 127\\.0\\.0\\.1:${port}`), /ECONNREFUSED/, /cannot connect/], 1500);
    assert.ok(!msg.includes(PASSWORD), msg);
    // Not remembered: the next call tries again (and fails the same way).
    await rejectsStoreError(s.replace('n', []), [new RegExp(`127\\.0\\.0\\.1:${port}`)], 1500);
    await s.close();
  });

  test('a server that never answers: a VectorStoreError naming host:port after the configured timeout', async () => {
    const silent = await silentServer();
    try {
      const s = new PgvectorStore({ host: '127.0.0.1', port: silent.port, password: PASSWORD, timeout: 300 }, 'cosine', 2);
      const msg = await rejectsStoreError(s.nearest('n', [1, 0], 1), [new RegExp(`127\\.0\\.0\\.1:${silent.port}`), /timeout/], 2000);
      assert.ok(!msg.includes(PASSWORD), msg);
      await s.close();
    } finally {
      await silent.close();
    }
  });

  test('the password never appears in an error message, even when the server repeats it', async () => {
    const echo = await echoingPgServer(PASSWORD);
    try {
      const s = new PgvectorStore({ host: '127.0.0.1', port: echo.port, password: PASSWORD, timeout: 2000 }, 'cosine', 2);
      const msg = await rejectsStoreError(s.nearest('n', [1, 0], 1), [/password authentication failed/, /\[redacted\]/, /28P01/], 2000);
      assert.ok(!msg.includes(PASSWORD), msg);
      await s.close();
    } finally {
      await echo.close();
    }
  });

  test('ssl on a server without TLS fails clearly (no silent downgrade to plain text)', async () => {
    const s = make('cosine', 2, { ssl: true });
    await rejectsStoreError(s.nearest(freshNamespace('tls'), [1, 0], 1), [/does not support SSL/, /set ssl and ssl_required to false/]);
  });

  test('a missing client certificate file is named', async () => {
    const s = make('cosine', 2, { ssl: true, ssl_cert: '/nonexistent/client.crt', ssl_cert_key: '/nonexistent/client.key' });
    await rejectsStoreError(s.nearest(freshNamespace('cert'), [1, 0], 1), [/cannot read ssl_cert "\/nonexistent\/client\.crt"/]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// redis

describe('redis store', () => {
  const PASSWORD = 'R3dis-S3cret-pw!';
  const fakes: FakeRedis[] = [];
  const fake = async (handler: Parameters<typeof startFakeRedis>[0]): Promise<FakeRedis> => {
    const f = await startFakeRedis(handler);
    fakes.push(f);
    return f;
  };
  after(async () => { await Promise.all(fakes.map((f) => f.close())); });

  test('a redis-server without vector search (Debian\'s): a VectorStoreError saying what is missing and what works', async () => {
    const f = await fake(debianRedis);
    const s = new RedisVectorStore({ host: f.host, port: f.port, password: PASSWORD }, 'cosine', 3);
    const expected = "ERR unknown command 'FT._LIST', with args beginning with: ";
    assert.equal(debianUnknownCommand([Buffer.from('FT._LIST')]), expected); // the text recorded from Debian's redis-server 7.0.15
    const msg = await rejectsStoreError(s.replace('routes', [{ id: 'a', vector: [1, 0, 0] }]), [
      new RegExp(`Redis at 127\\.0\\.0\\.1:${f.port}`),
      /has no vector search/,
      /FT\._LIST/,
      /Redis Stack/,
      /RediSearch module 2\.4 or later/,
      /valkey-search/,
    ], 2000);
    assert.ok(msg.includes(expected.trim()), msg);
    assert.ok(!msg.includes(PASSWORD), msg);
    await rejectsStoreError(s.nearest('routes', [1, 0, 0], 1), [/has no vector search/], 2000);
    await s.close();
    // It asked FT._LIST and nothing else of the search module (no FT.CREATE on a server without it).
    assert.ok(f.received.some((c) => c[0] === 'FT._LIST'));
    assert.ok(!f.received.some((c) => c[0] === 'FT.CREATE' || c[0] === 'EVAL'));
    // RESP2 with a password: AUTH, with the password, was sent (and only to the server).
    assert.ok(f.received.some((c) => c[0] === 'AUTH' && c.includes(PASSWORD)));
  });

  test('RediSearch 1.x (Debian\'s redis-redisearch): the module is named and why it does not do', async () => {
    const f = await fake(debianRedisWithRedisearch12);
    const s = new RedisVectorStore({ host: f.host, port: f.port }, 'cosine', 3);
    await rejectsStoreError(s.nearest('routes', [1, 0, 0], 1), [
      /cannot do vector search/, /module "ft" version 1\.2\.0/, /RediSearch before 2\.4/, /Redis Stack/, /valkey-search/,
    ], 2000);
    await s.close();
  });

  test('a server that accepts and never answers: a VectorStoreError after send_timeout + read_timeout', async () => {
    const f = await fake(() => undefined);
    const s = new RedisVectorStore({ host: f.host, port: f.port, connect_timeout: 300, send_timeout: 200, read_timeout: 200 }, 'cosine', 3);
    await rejectsStoreError(s.nearest('routes', [1, 0, 0], 1), [new RegExp(`127\\.0\\.0\\.1:${f.port}`), /no answer within 400 ms/], 2000);
    await s.close();
  });

  test('an unreachable server: a VectorStoreError naming host:port, quickly, and no reconnect loop left behind', async () => {
    const port = await closedPort();
    const s = new RedisVectorStore({ host: '127.0.0.1', port, password: PASSWORD }, 'euclidean', 3);
    const msg = await rejectsStoreError(s.nearest('routes', [1, 0, 0], 1), [new RegExp(`Redis at 127\\.0\\.0\\.1:${port}`), /cannot connect/, /ECONNREFUSED/], 1500);
    assert.ok(!msg.includes(PASSWORD), msg);
    await s.close();
  });

  test('wrong credentials: the server\'s refusal, without the password', async () => {
    const f = await fake((args) => (args[0]?.toString() === 'AUTH'
      ? { error: `WRONGPASS invalid username-password pair or user is disabled. (${args[args.length - 1]?.toString()})` }
      : { simple: 'OK' }));
    const s = new RedisVectorStore({ host: f.host, port: f.port, username: 'kong', password: PASSWORD }, 'cosine', 3);
    const msg = await rejectsStoreError(s.nearest('routes', [1, 0, 0], 1), [/WRONGPASS/, /check username and password/], 2000);
    assert.ok(!msg.includes(PASSWORD), msg);
    await s.close();
  });

  test('cluster, sentinel and cloud authentication are refused: not supported yet', () => {
    assert.throws(() => new RedisVectorStore({ cluster_nodes: [{ ip: '10.0.0.1', port: 6379 }] }, 'cosine', 3), /Redis Cluster .* not supported yet/);
    assert.throws(() => new RedisVectorStore({ sentinel_master: 'mymaster', sentinel_nodes: [{ host: 'h', port: 26379 }] }, 'cosine', 3), /Sentinel .* not supported yet/);
    assert.throws(() => new RedisVectorStore({ cloud_authentication: { auth_provider: 'aws' } }, 'cosine', 3), /cloud_authentication \(aws\) is not supported yet/);
    // Kong's empty defaults for them are fine.
    const s = new RedisVectorStore({ cluster_nodes: null, sentinel_nodes: [], sentinel_master: null, cloud_authentication: { auth_provider: null } }, 'cosine', 3);
    void s.close();
  });

  test('FLOAT32 little-endian vectors; RediSearch\'s distances as ours (L2 reported squared)', () => {
    assert.deepEqual([...float32Bytes([1, -2.5])], [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0]);
    assert.equal(ourDistance('euclidean', 25), 5);
    assert.equal(ourDistance('cosine', 0.25), 0.25);
    assert.equal(ourDistance('cosine', -1e-7), 0);
    assert.equal(encodeKeyPart('a:b é%'), 'a%3Ab%20%C3%A9%25');
  });

  describe('the store contract, against an emulation of RediSearch\'s commands (not a real server)', () => {
    let emulated: FakeRedis | undefined;
    const emulation = emulatedSearch();
    const pending: Promise<FakeRedis> = startFakeRedis(emulation.handler).then((f) => { emulated = f; fakes.push(f); return f; });
    before(async () => { await pending; });
    storeContract((metric, dims) => {
      if (!emulated) throw new Error('emulated redis not started');
      return new RedisVectorStore({ host: emulated.host, port: emulated.port }, metric, dims);
    });

    test('an index that went away (a restart without persistence) is made again', async () => {
      const s = new RedisVectorStore({ host: emulated!.host, port: emulated!.port }, 'euclidean', 2);
      const ns = freshNamespace('lost-index');
      await s.replace(ns, [{ id: 'a', vector: [3, 4] }]);
      assertMatches(await s.nearest(ns, [0, 0], 1), [['a', 5]]);
      const name = [...emulation.indexes.keys()].find((k) => k.includes(encodeKeyPart(ns)));
      assert.ok(name);
      emulation.indexes.delete(name);
      assertMatches(await s.nearest(ns, [0, 0], 1), [['a', 5]]);
      assert.ok(emulation.indexes.has(name));
      await s.close();
    });

    test('the commands sent: one index per namespace, metric and dimension; FT.SEARCH with KNN and DIALECT 2', () => {
      const got = emulated!.received;
      const create = got.find((c) => c[0] === 'FT.CREATE' && c.includes('L2'));
      assert.ok(create, 'an L2 index was created');
      assert.deepEqual(create.slice(2, 6), ['ON', 'HASH', 'PREFIX', '1']);
      assert.match(create[1], /^ai-gateway:vectors-idx:t\d+-\d+-[a-z0-9-]+:l2:\d$/);
      assert.deepEqual(create.slice(7), ['SCHEMA', 'vector', 'VECTOR', 'FLAT', '6', 'TYPE', 'FLOAT32', 'DIM', create[create.indexOf('DIM') + 1], 'DISTANCE_METRIC', 'L2']);
      const search = got.find((c) => c[0] === 'FT.SEARCH');
      assert.ok(search);
      assert.match(search[2], /^\*=>\[KNN \d+ @vector \$BLOB AS dist\]$/);
      assert.deepEqual(search.slice(-2), ['DIALECT', '2']);
    });
  });
});
