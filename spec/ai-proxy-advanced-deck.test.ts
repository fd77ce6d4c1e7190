// A deck file in Kong's own ai-proxy-advanced format (spec/fixtures/decks/kong-ai-proxy-advanced.yaml,
// Kong 3.13 fields) validates and runs unchanged: priority with failover across providers, the circuit
// breaker, consistent hashing, lowest latency, lowest usage by cost, least connections, and semantic
// routing whose vectors live in a real PostgreSQL with pgvector (PGlite over the Postgres protocol).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { parse } from 'yaml';
import { DeckProviders } from './fakes/deck-providers';
import { FakeOpenAI } from '../tools/local-gateway/fake-openai';
import { startPgliteServer, type PgliteServer } from './support/pglite-server';
import { PROVIDER_FIXTURES } from './support/provider-case';
import { postJson, startTestGateway, type TestGateway } from './support/test-gateway';

const DECK = resolve(__dirname, '../../spec/fixtures/decks/kong-ai-proxy-advanced.yaml');
const PROVIDERS_PORT = 18093;
const PGVECTOR_PORT = 18094;

let openai: FakeOpenAI;
let fake: DeckProviders;
let pg: PgliteServer;
let t: TestGateway;

before(async () => {
  pg = await startPgliteServer({ port: PGVECTOR_PORT });
  openai = new FakeOpenAI();
  await openai.listen();
  // The deck's providers at one address: /down/... is overloaded (503), /v1/messages answers as Anthropic,
  // everything else goes to the OpenAI fake (chat completions and embeddings).
  fake = new DeckProviders(openai, (path) => {
    if (path.startsWith('/down/')) {
      return { status: 503, body: JSON.stringify({ error: { message: 'The server is overloaded', type: 'server_error', code: null } }) };
    }
    return path === '/v1/messages' ? { body: readFileSync(resolve(PROVIDER_FIXTURES, 'anthropic/chat-basic/response.json')) } : undefined;
  });
  await fake.listen(PROVIDERS_PORT);
  t = await startTestGateway({ config: parse(readFileSync(DECK, 'utf8')) as unknown });
});

after(async () => {
  await t?.close();
  await fake?.close();
  await openai?.close();
  await pg?.stop();
});

const ask = (content: string) => ({ messages: [{ role: 'user', content }] });

async function served(path: string, body: unknown = ask('hello'), headers: Record<string, string> = {}): Promise<string> {
  const r = await postJson(`${t.url}${path}`, body, headers);
  assert.equal(r.status, 200, `${path}: ${r.text}`);
  return String(r.headers.get('x-kong-llm-model'));
}

test('every route of the deck starts its instance and answers', async () => {
  for (const path of ['/priority/chat', '/breaker/chat', '/hashed/chat', '/latency/chat', '/usage/chat', '/connections/chat', '/semantic/chat']) {
    await served(path);
  }
  assert.ok(!t.gw.kongLog.some((l) => /schema violation|ConfigError|starting instance/.test(l.message)), t.gw.kongLog.map((l) => l.message).join('\n'));
});

test('priority: both OpenAI targets overloaded (503), the Anthropic fallback serves, translated', async () => {
  assert.equal(await served('/priority/chat'), 'anthropic/claude-3-haiku-20240307');
  const anthropic = fake.seen.filter((s) => s.url === '/v1/messages').at(-1)!;
  assert.equal(anthropic.headers['x-api-key'], 'sk-ant-deck-0000000000');
  assert.equal(anthropic.body.max_tokens, 512);
});

test('consistent hashing on X-Hashing-Header keeps a user on one model', async () => {
  const first = await served('/hashed/chat', ask('hi'), { 'x-hashing-header': 'user-42' });
  for (let i = 0; i < 5; i++) assert.equal(await served('/hashed/chat', ask('hi'), { 'x-hashing-header': 'user-42' }), first);
});

test('lowest usage by cost prefers the cheaper model', async () => {
  const models: string[] = [];
  for (let i = 0; i < 20; i++) models.push(await served('/usage/chat'));
  const cheap = models.filter((m) => m === 'openai/gpt-4o-mini').length;
  assert.ok(cheap >= 15, `the cheaper target served ${cheap} of 20`);
});

test('semantic routing with pgvector: a billing question and a code question go to their targets; the rest to CATCHALL', async () => {
  assert.equal(await served('/semantic/chat', ask('Why was I charged twice on my last invoice?')), 'openai/billing-model');
  assert.equal(await served('/semantic/chat', ask('My code throws a stack trace when the compiler runs')), 'openai/code-model');
  assert.equal(await served('/semantic/chat', ask('What is the weather like in Paris?')), 'openai/general-model');
  // The descriptions' vectors are in the database, under this plugin's namespace.
  const db = new Client({ host: pg.host, port: pg.port, user: 'postgres', database: 'kong-pgvector' });
  await db.connect();
  try {
    const rows = (await db.query('SELECT namespace, count(*)::int AS n FROM ai_gateway_vectors GROUP BY namespace')).rows as Array<{ n: number }>;
    assert.deepEqual(rows.map((r) => r.n), [2], 'two descriptions (CATCHALL is not embedded)');
  } finally {
    await db.end();
  }
  const embeddings = fake.seen.filter((s) => s.url === '/v1/embeddings');
  assert.ok(embeddings.every((e) => e.body.dimensions === 256 && e.body.model === 'text-embedding-3-small'));
  assert.equal(embeddings.filter((e) => Array.isArray(e.body.input) && (e.body.input as unknown[]).length === 2).length, 1, 'descriptions embedded once');
});
