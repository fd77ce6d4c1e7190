// ai-proxy-advanced through the real plugin server: failover across targets as failover_criteria allow
// (500, 429 with Retry-After, a timeout, a refused connection), streams that fail over before their
// first byte, cross-provider failover, the circuit breaker, hedging, every target down, and what the
// log line and the metrics say about it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { resolve } from 'node:path';
import { FakeOpenAI } from '../tools/local-gateway/fake-openai';
import { ScriptedProvider, chunk, sleep, type Script } from './fakes/scripted-provider';
import { PROVIDER_FIXTURES, sseDataValues } from './support/provider-case';
import { lineFor, waitFor } from './support/relay-log';
import { postJson, startTestGateway, type TestGateway } from './support/test-gateway';

const KEY = 'sk-advanced-test-0123456789';

/** An OpenAI answer naming the model that was asked (so the client's answer says which target served). */
const answers: Script = (r, res) => {
  const model = String(r.body.model);
  if (r.body.stream === true) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`data: ${JSON.stringify({ ...chunk(`from ${model}`), model })}\n\n`);
    res.write(`data: ${JSON.stringify({ ...chunk(null), model })}\n\n`);
    res.end('data: [DONE]\n\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({
    id: 'chatcmpl-x', object: 'chat.completion', created: 1700000000, model,
    choices: [{ index: 0, message: { role: 'assistant', content: `from ${model}` }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
  }));
};

const providers: ScriptedProvider[] = [];
async function provider(script: Script = answers): Promise<ScriptedProvider> {
  const p = new ScriptedProvider();
  p.script = script;
  await p.listen();
  providers.push(p);
  return p;
}
after(async () => { await Promise.all(providers.map((p) => p.close())); });

let refusedUrl = '';
before(async () => {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  refusedUrl = `http://127.0.0.1:${(s.address() as { port: number }).port}`;
  await new Promise<void>((r) => s.close(() => r()));
});

function openaiTarget(name: string, url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    route_type: 'llm/v1/chat', weight: 100,
    auth: { header_name: 'Authorization', header_value: `Bearer ${KEY}` },
    model: { provider: 'openai', name, options: { upstream_url: `${url}/v1/chat/completions` } },
    logging: { log_statistics: true },
    ...extra,
  };
}

function gateway(targets: unknown[], balancer: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<TestGateway> {
  return startTestGateway({
    config: {
      _format_version: '3.0',
      services: [{ name: 's', url: 'http://127.0.0.1:9', routes: [{ name: 'r', paths: ['/b'], plugins: [
        { name: 'ai-proxy-advanced', config: { targets, balancer, ...extra } },
      ] }] }],
    },
  });
}

const chat = (extra: Record<string, unknown> = {}) => ({ messages: [{ role: 'user', content: 'hello' }], ...extra });

/** `n` requests, `concurrency` at a time: each answer's status and the model that served. */
async function load(t: TestGateway, n: number, concurrency: number, body: unknown = chat()): Promise<Array<{ status: number; model: string; text: string }>> {
  const out: Array<{ status: number; model: string; text: string }> = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      next++;
      const r = await postJson(`${t.url}/b`, body);
      out.push({ status: r.status, model: String((r.json as { model?: unknown } | undefined)?.model ?? ''), text: r.text });
    }
  }));
  return out;
}

for (const [fault, criteria, script] of [
  ['a 500', ['error', 'timeout', 'http_500', 'non_idempotent'], ((_r, res) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'upstream broke', type: 'server_error', code: null } }));
  }) as Script],
  ['a 429 with Retry-After', ['error', 'timeout', 'http_429', 'non_idempotent'], ((_r, res) => {
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '2' });
    res.end(JSON.stringify({ error: { message: 'slow down', type: 'rate_limit_error', code: 'rate_limit_exceeded' } }));
  }) as Script],
  ['a timeout', ['error', 'timeout', 'non_idempotent'], (() => { /* never answers */ }) as Script],
  ['a refused connection', ['error', 'timeout'], undefined],
] as const) {
  test(`one of three targets failing with ${fault}: 1,000 requests, no error reaches a client`, { timeout: 120_000 }, async () => {
    const a = await provider();
    const b = await provider();
    const bad = script ? await provider(script) : undefined;
    const t = await gateway([openaiTarget('a', a.url), openaiTarget('bad', bad?.url ?? refusedUrl), openaiTarget('b', b.url)],
      { retries: 1, failover_criteria: criteria, read_timeout: 400 });
    try {
      const results = await load(t, 1000, 20);
      const errors = results.filter((r) => r.status !== 200);
      assert.equal(errors.length, 0, `client-visible errors: ${JSON.stringify(errors.slice(0, 3))}`);
      const served = new Map<string, number>();
      for (const r of results) served.set(r.model, (served.get(r.model) ?? 0) + 1);
      assert.equal(served.get('bad'), undefined, 'the failing target never served');
      assert.ok((served.get('a') ?? 0) > 300 && (served.get('b') ?? 0) > 300, JSON.stringify([...served]));
      if (fault === 'a 429 with Retry-After') {
        // Retry-After leaves the target out until then: far fewer than a third of the requests reach it.
        assert.ok(bad!.received.length < 200, `the rate-limited target got ${bad!.received.length} requests`);
      }
    } finally {
      await t.close();
    }
  });
}

test('without non_idempotent, a POST that reached the provider is not sent again; a refused connection is', async () => {
  const a = await provider();
  const bad = await provider((_r, res) => { res.writeHead(500, { 'content-type': 'application/json' }); res.end('{"error":{"message":"no"}}'); });
  const t = await gateway([openaiTarget('bad', bad.url), openaiTarget('a', a.url)], { algorithm: 'priority', failover_criteria: ['error', 'timeout', 'http_500'] });
  try {
    const r = await postJson(`${t.url}/b`, chat());
    assert.equal(r.status, 500, 'the provider had the request: without non_idempotent it is not retried');
    assert.equal((r.json as { error: { message: string } }).error.message, 'no');
  } finally {
    await t.close();
  }
  const t2 = await gateway([openaiTarget('refused', refusedUrl), openaiTarget('a', a.url)], { algorithm: 'priority' });
  try {
    const r = await postJson(`${t2.url}/b`, chat());
    assert.equal(r.status, 200, 'nothing was sent: the default criteria (error, timeout) move it on');
    assert.equal((r.json as { model: string }).model, 'a');
    const line = await lineFor(t2, r.headers.get('x-kong-request-id')!);
    const tried = (line.ai as { proxy: { tried_targets: Array<Record<string, unknown>> } }).proxy.tried_targets;
    assert.deepEqual(tried.map((x) => [x.target, x.provider, x.model, x.status]), [[0, 'openai', 'refused', 502], [1, 'openai', 'a', 200]]);
    assert.match(String(tried[0]!.error), /could not be reached/);
    assert.equal(line.target, 1);
    assert.equal(line.attempts, 2);
  } finally {
    await t2.close();
  }
});

test('a 4xx that is not listed goes back to the client as it is, without failover', async () => {
  const a = await provider();
  const bad = await provider((_r, res) => { res.writeHead(401, { 'content-type': 'application/json' }); res.end('{"error":{"message":"bad key","type":"invalid_request_error","code":"invalid_api_key"}}'); });
  const t = await gateway([openaiTarget('bad', bad.url), openaiTarget('a', a.url)], { algorithm: 'priority', failover_criteria: ['error', 'timeout', 'http_500', 'http_429', 'non_idempotent'] });
  try {
    const r = await postJson(`${t.url}/b`, chat());
    assert.equal(r.status, 401);
    assert.equal((r.json as { error: { code: string } }).error.code, 'invalid_api_key');
    assert.equal(a.received.length, 0);
  } finally {
    await t.close();
  }
});

test('a stream fails over before its first byte; after it, it ends with an error event', async () => {
  const a = await provider();
  // Answers 200 and then breaks before any chunk; or sends an error event first.
  const cut = await provider(async (_r, res) => { res.writeHead(200, { 'content-type': 'text/event-stream' }); await sleep(20); res.socket?.destroy(); });
  const t = await gateway([openaiTarget('cut', cut.url), openaiTarget('a', a.url)], { algorithm: 'priority', failover_criteria: ['error', 'timeout', 'invalid_header', 'non_idempotent'] });
  try {
    const r = await postJson(`${t.url}/b`, chat({ stream: true }));
    assert.equal(r.status, 200);
    const events = sseDataValues(r.text);
    assert.equal((events[0] as { choices: Array<{ delta: { content: string } }> }).choices[0]!.delta.content, 'from a');
    assert.equal(events.at(-1), '[DONE]');
    assert.doesNotMatch(r.text, /"error"/);
  } finally {
    await t.close();
  }
  const half = await provider(async (_r, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`data: ${JSON.stringify(chunk('partial'))}\n\n`);
    await sleep(30);
    res.socket?.destroy();
  });
  const t2 = await gateway([openaiTarget('half', half.url), openaiTarget('a', a.url)], { algorithm: 'priority', failover_criteria: ['error', 'timeout', 'invalid_header', 'non_idempotent'] });
  try {
    const n = a.received.length;
    const r = await postJson(`${t2.url}/b`, chat({ stream: true }));
    const events = sseDataValues(r.text);
    assert.equal((events[0] as { choices: Array<{ delta: { content: string } }> }).choices[0]!.delta.content, 'partial');
    assert.ok((events.at(-2) as { error?: unknown }).error, 'an error event: the client already had the first chunk');
    assert.equal(events.at(-1), '[DONE]');
    assert.equal(a.received.length, n, 'no failover after the first byte');
  } finally {
    await t2.close();
  }
});

test('cross-provider failover: the OpenAI-format target fails, the Anthropic target serves, translated', async () => {
  const bad = await provider((_r, res) => { res.writeHead(503, { 'content-type': 'application/json' }); res.end('{"error":{"message":"overloaded"}}'); });
  const anthropicResponse = readFileSync(resolve(PROVIDER_FIXTURES, 'anthropic/chat-basic/response.json'));
  const anthropicStream = readFileSync(resolve(PROVIDER_FIXTURES, 'anthropic/chat-stream/stream.txt'));
  const anthropic = await provider((r, res) => {
    res.writeHead(200, { 'content-type': r.body.stream === true ? 'text/event-stream' : 'application/json' });
    res.end(r.body.stream === true ? anthropicStream : anthropicResponse);
  });
  const t = await gateway([
    openaiTarget('gpt-4o', bad.url, { weight: 100 }),
    { route_type: 'llm/v1/chat', weight: 50, auth: { header_name: 'x-api-key', header_value: 'sk-ant-test-0123456789' },
      model: { provider: 'anthropic', name: 'claude-sonnet-4-5', options: { anthropic_version: '2023-06-01', max_tokens: 512, upstream_url: `${anthropic.url}/v1/messages` } },
      logging: { log_statistics: true } },
  ], { algorithm: 'priority', failover_criteria: ['error', 'timeout', 'http_503', 'non_idempotent'] });
  try {
    const r = await postJson(`${t.url}/b`, chat());
    assert.equal(r.status, 200, r.text);
    const j = r.json as { object: string; choices: Array<{ message: { content: string } }> };
    assert.equal(j.object, 'chat.completion');
    assert.ok(j.choices[0]!.message.content.length > 0);
    assert.equal(r.headers.get('x-kong-llm-model'), 'anthropic/claude-sonnet-4-5');
    const sent = anthropic.received.at(-1)!;
    assert.equal(sent.url, '/v1/messages');
    assert.equal(sent.headers['x-api-key'], 'sk-ant-test-0123456789');
    assert.equal(sent.body.max_tokens, 512, 'translated for Anthropic, with its own target options');
    assert.equal(sent.headers.authorization, undefined, "the OpenAI target's key never reaches Anthropic");
    const s = await postJson(`${t.url}/b`, chat({ stream: true }));
    assert.equal(s.status, 200);
    assert.equal(sseDataValues(s.text).at(-1), '[DONE]');
    const line = await lineFor(t, r.headers.get('x-kong-request-id')!);
    const proxy = (line.ai as { proxy: { meta: Record<string, unknown>; tried_targets: Array<Record<string, unknown>> } }).proxy;
    assert.equal(proxy.meta.provider_name, 'anthropic', "usage and meta are the served attempt's");
    assert.deepEqual(proxy.tried_targets.map((x) => [x.provider, x.status]), [['openai', 503], ['anthropic', 200]]);
  } finally {
    await t.close();
  }
});

test('circuit breaker: a failing target is left out after max_fails, then probed once after fail_timeout', async () => {
  const a = await provider();
  let broken = true;
  const flaky = await provider((r, res) => {
    if (broken) { res.writeHead(500, { 'content-type': 'application/json' }); res.end('{"error":{"message":"down"}}'); return; }
    return answers(r, res);
  });
  const t = await gateway([openaiTarget('flaky', flaky.url), openaiTarget('a', a.url)],
    { algorithm: 'priority', max_fails: 3, fail_timeout: 600, failover_criteria: ['error', 'timeout', 'http_500', 'non_idempotent'] });
  try {
    for (let i = 0; i < 10; i++) assert.equal((await postJson(`${t.url}/b`, chat())).status, 200);
    assert.equal(flaky.received.length, 3, 'three failures open the circuit; no traffic while it is open');
    const metrics = await (await fetch(await metricsUrl(t))).text();
    assert.match(metrics, /kong_ai_target_circuit_state\{plugin_id="[^"]+",target="0",ai_provider="openai",ai_model="flaky",state="open"\} 1/);
    assert.match(metrics, /kong_ai_target_failures_total\{plugin_id="[^"]+",target="0",ai_provider="openai",ai_model="flaky"\} 3/);
    await sleep(700);
    broken = false;
    const r = await postJson(`${t.url}/b`, chat());
    assert.equal((r.json as { model: string }).model, 'flaky', 'the half-open probe goes to the recovered target');
    assert.equal((await postJson(`${t.url}/b`, chat())).status, 200);
    assert.equal(flaky.received.length, 5, 'closed again: it takes the traffic back');
  } finally {
    await t.close();
  }
});

async function metricsUrl(t: TestGateway): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const line = t.gw.serverOutput().find((l) => l.server === 'ai-proxy-advanced' && l.line.includes('AI relay listening on'));
    if (line) return `${/http:\/\/127\.0\.0\.1:\d+/.exec(line.line)![0]}/metrics`;
    await sleep(20);
  }
  throw new Error('no relay address in the output');
}

test('every target down: 500 naming the cause once their circuits are open, the last failure before', async () => {
  const bad = await provider((_r, res) => { res.writeHead(502, { 'content-type': 'application/json' }); res.end('{"error":{"message":"bad gateway upstream"}}'); });
  const t = await gateway([openaiTarget('x', bad.url), openaiTarget('y', bad.url)],
    { max_fails: 1, fail_timeout: 60_000, failover_criteria: ['error', 'timeout', 'http_502', 'non_idempotent'] });
  try {
    const first = await postJson(`${t.url}/b`, chat());
    assert.equal(first.status, 502, 'the last failure goes back as it was');
    assert.equal((first.json as { error: { message: string } }).error.message, 'bad gateway upstream');
    const down = await postJson(`${t.url}/b`, chat());
    assert.equal(down.status, 500);
    const e = (down.json as { error: { message: string; code: string; type: string } }).error;
    assert.equal(e.code, 'no_target_available');
    assert.equal(e.type, 'server_error');
    assert.equal(bad.received.length, 2, 'no request reaches a target whose circuit is open');
  } finally {
    await t.close();
  }
});

test('hedging (ours): a target that has not answered within hedge_delay is raced by another; the first good answer wins', async () => {
  let slowClosed = false;
  const slow = await provider(async (r, res) => {
    res.on('close', () => { slowClosed = true; });
    await sleep(3000);
    if (!res.destroyed) answers(r, res);
  });
  const fast = await provider();
  const t = await gateway([openaiTarget('slow', slow.url), openaiTarget('fast', fast.url)], { algorithm: 'priority', hedge_delay: 100 });
  try {
    const r = await postJson(`${t.url}/b`, chat());
    assert.equal(r.status, 200);
    assert.equal((r.json as { model: string }).model, 'fast');
    for (let i = 0; i < 100 && !slowClosed; i++) await sleep(10);
    assert.ok(slowClosed, 'the slow attempt was abandoned, its connection closed');
    const line = await lineFor(t, r.headers.get('x-kong-request-id')!);
    const tried = (line.ai as { proxy: { tried_targets: Array<Record<string, unknown>> } }).proxy.tried_targets;
    assert.deepEqual(tried.map((x) => [x.model, x.status, x.error ?? null]).sort(), [['fast', 200, null], ['slow', 0, 'hedge lost']]);
  } finally {
    await t.close();
  }
});

test('consistent-hashing: one header value, one target; another value may go elsewhere; no header falls back to round-robin', async () => {
  const a = await provider();
  const b = await provider();
  const c = await provider();
  const t = await gateway([openaiTarget('a', a.url), openaiTarget('b', b.url), openaiTarget('c', c.url)],
    { algorithm: 'consistent-hashing', hash_on_header: 'X-User' });
  try {
    const servedFor = async (user: string | undefined) => {
      const r = await postJson(`${t.url}/b`, chat(), user ? { 'x-user': user } : {});
      return (r.json as { model: string }).model;
    };
    for (const user of ['alice', 'bob', 'carol']) {
      const first = await servedFor(user);
      for (let i = 0; i < 5; i++) assert.equal(await servedFor(user), first, user);
    }
    const spread = new Set<string>();
    for (let i = 0; i < 30; i++) spread.add(await servedFor(`user-${i}`));
    assert.equal(spread.size, 3, 'different users spread over the targets');
    const anonymous = new Set<string>();
    for (let i = 0; i < 6; i++) anonymous.add(await servedFor(undefined));
    assert.equal(anonymous.size, 3, 'without the header: round-robin');
  } finally {
    await t.close();
  }
});

test('semantic routing in process: descriptions embedded once, the nearest wins; with a threshold, the rest go to CATCHALL', async () => {
  const fake = new FakeOpenAI();
  await fake.listen();
  try {
    const target = (name: string, description: string) => ({
      ...openaiTarget(name, fake.url), description, model: { provider: 'openai', name, options: { upstream_url: `${fake.url}/v1/chat/completions` } },
    });
    const targets = [
      target('billing', 'Billing questions about invoices, charges, payments and refunds'),
      target('code', 'Programming questions about source code, compilers, bugs and stack traces'),
      target('general', 'CATCHALL'),
    ];
    const embeddings = { model: { provider: 'openai', name: 'text-embedding-3-small', options: { upstream_url: `${fake.url}/v1/embeddings` } } };
    const ask = (content: string) => ({ messages: [{ role: 'system', content: 'You are helpful.' }, { role: 'user', content }] });
    // No vectordb record (ours): the vectors stay in the plugin server, the nearest description wins.
    const t = await gateway(targets, { algorithm: 'semantic' }, { embeddings });
    try {
      const model = async (content: string) => (await postJson(`${t.url}/b`, ask(content))).headers.get('x-kong-llm-model');
      assert.equal(await model('Why was I charged twice on my last invoice?'), 'openai/billing');
      assert.equal(await model('There is a bug in my source code'), 'openai/code');
      assert.equal(await model('How do I get a refund for my payment?'), 'openai/billing');
      const descriptionCalls = fake.requests.filter((r) => r.url === '/v1/embeddings' && (JSON.parse(r.body) as { input: unknown[] }).input.length === 2);
      assert.equal(descriptionCalls.length, 1, 'the descriptions are embedded once per config');
    } finally {
      await t.close();
    }
    // In process with a threshold (vectordb strategy memory, ours): no description near enough → CATCHALL.
    const t2 = await gateway(targets, { algorithm: 'semantic' }, {
      embeddings, vectordb: { strategy: 'memory', dimensions: 256, distance_metric: 'cosine', threshold: 0.8 },
    });
    try {
      const model = async (content: string) => (await postJson(`${t2.url}/b`, ask(content))).headers.get('x-kong-llm-model');
      assert.equal(await model('My code throws a stack trace when the compiler runs'), 'openai/code');
      assert.equal(await model('What is the weather like in Paris?'), 'openai/general');
    } finally {
      await t2.close();
    }
  } finally {
    await fake.close();
  }
});

test('semantic routing: identical descriptions are a fallback group; a failing embeddings model sends prompts to CATCHALL', async () => {
  const fake = new FakeOpenAI();
  await fake.listen();
  const down = await provider((_r, res) => { res.writeHead(503, { 'content-type': 'application/json' }); res.end('{"error":{"message":"down"}}'); });
  try {
    const code = 'Programming questions about source code, compilers, bugs and stack traces';
    const t = await gateway([
      { ...openaiTarget('code-primary', down.url), weight: 75, description: code },
      { ...openaiTarget('code-fallback', fake.url), weight: 25, description: code },
      { ...openaiTarget('billing', fake.url), description: 'Billing questions about invoices, charges, payments and refunds' },
    ], { algorithm: 'semantic', failover_criteria: ['error', 'timeout', 'http_503', 'non_idempotent'] }, {
      embeddings: { model: { provider: 'openai', name: 'e', options: { upstream_url: `${fake.url}/v1/embeddings` } } },
    });
    try {
      const r = await postJson(`${t.url}/b`, chat({ messages: [{ role: 'user', content: 'There is a bug in my source code' }] }));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('x-kong-llm-model'), 'openai/code-fallback', 'the primary failed: its group serves, not another topic');
    } finally {
      await t.close();
    }
    const t2 = await gateway([
      { ...openaiTarget('billing', fake.url), description: 'Billing questions' },
      { ...openaiTarget('general', fake.url), description: 'CATCHALL' },
    ], { algorithm: 'semantic' }, { embeddings: { model: { provider: 'openai', name: 'e', options: { upstream_url: `${down.url}/v1/embeddings` } } } });
    try {
      const r = await postJson(`${t2.url}/b`, chat());
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('x-kong-llm-model'), 'openai/general');
      await waitFor(() => t2.gw.serverOutput().find((l) => /semantic routing failed, the request goes to the CATCHALL target/.test(l.line)), 'the warning');
    } finally {
      await t2.close();
    }
  } finally {
    await fake.close();
  }
});
