// ai-proxy through the loopback relay, end to end through Kong's side (real plugin server): streams that
// stream, real and estimated usage in the relay's log line and Kong's AI metrics, failures (unreachable,
// timeouts, a stream that breaks, provider errors kept), no credential anywhere, one-time tokens, Kong's
// templating, allow_override, gzip, preserve, and the PDK round trips each request costs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { brotliCompressSync, deflateSync, gunzipSync, gzipSync } from 'node:zlib';
import { request as httpRequest } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { ScriptedProvider, chunk, sleep } from './fakes/scripted-provider';
import { startTestGateway, postJson, openaiProxyPlugin, type TestGateway } from './support/test-gateway';
import { sseDataValues } from './support/provider-case';
import { lineFor, relayLines, waitFor } from './support/relay-log';
import { parseDeclarativeConfig } from '../tools/harness/declarative-config';
import { GZIP_MIN_BYTES, GZIP_SYNC_MAX_BYTES } from '../shared/relay/respond';
import { freePort } from './support/local-gateway';

const KEY = 'sk-config-secret-0123456789abcdef';
const CLIENT_KEY = 'sk-client-secret-fedcba9876543210';

let provider: ScriptedProvider;
before(async () => {
  provider = new ScriptedProvider();
  await provider.listen();
});
after(() => provider.close());

const chat = (extra: Record<string, unknown> = {}) => ({ messages: [{ role: 'user', content: 'hello there' }], ...extra });

function aiProxy(config: Record<string, unknown> = {}, options: Record<string, unknown> = {}): Record<string, unknown> {
  const { model, ...rest } = config as { model?: Record<string, unknown> };
  return openaiProxyPlugin(provider.url, KEY, { ...rest, model: { name: 'scripted-1', ...model } }, options);
}

interface GatewayOpts {
  paths?: string[];
  service?: Record<string, unknown>;
  env?: Record<string, string>;
  kongLog?: Array<Record<string, unknown>>;
}

function deck(plugins: unknown[], o: GatewayOpts = {}): unknown {
  return {
    _format_version: '3.0',
    services: [{ name: 'ai', url: 'http://127.0.0.1:9', ...o.service, routes: [{ name: 'r', paths: o.paths ?? ['/t'], plugins }] }],
  };
}

function gateway(plugins: unknown[], o: GatewayOpts = {}): Promise<TestGateway> {
  return startTestGateway({
    config: deck(plugins, o),
    layout: o.env ? { env: o.env } : undefined,
    onRequestLog: o.kongLog ? (e) => o.kongLog!.push(e) : undefined,
  });
}



async function relayPort(t: TestGateway): Promise<number> {
  const line = await waitFor(() => t.gw.serverOutput().find((l) => l.line.includes('AI relay listening on')), 'the relay');
  return Number(/127\.0\.0\.1:(\d+)/.exec(line.line)![1]);
}

/** Reads an SSE response event by event, with the time each arrived. */
async function readEvents(res: Response): Promise<{ events: Array<{ at: number; data: unknown }>; text: string }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: Array<{ at: number; data: unknown }> = [];
  let buf = '';
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const s = decoder.decode(value, { stream: true });
    text += s;
    buf += s;
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = ev.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      events.push({ at: Date.now(), data: data === '[DONE]' ? data : JSON.parse(data) });
    }
  }
  return { events, text };
}

function streamRequest(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

test('a stream streams: the client has the first chunk before the provider has sent its last', async () => {
  provider.script = provider.stream(['One ', 'two ', 'three ', 'four ', 'five.'], 200);
  const t = await gateway([aiProxy()], { service: { read_timeout: 5000 } });
  try {
    // Warm: instances started in both workers, connections pooled.
    provider.script = provider.answer('warm');
    for (let i = 0; i < 2; i++) await postJson(`${t.url}/t`, chat());
    provider.script = provider.stream(['One ', 'two ', 'three ', 'four ', 'five.'], 200);
    const res = await streamRequest(`${t.url}/t`, chat({ stream: true }));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    // The route keeps Kong's default response_buffering (on): chunks arrive one by one only because the
    // relay says X-Accel-Buffering: no, which nginx acts on and does not pass on.
    assert.equal(res.headers.get('x-accel-buffering'), null);
    const { events } = await readEvents(res);
    const content = events.filter((e) => typeof e.data === 'object' && (e.data as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content);
    assert.equal(content.length, 5);
    const providerLast = provider.sentAt.at(-1)!;
    // Arrival order against send order, not speed: buffered, the first chunk could only arrive after the last was sent.
    assert.ok(content[0]!.at < providerLast, `first chunk at ${content[0]!.at}, provider's last sent at ${providerLast}`);
    for (let i = 1; i < content.length; i++) assert.ok(content[i]!.at >= provider.sentAt[i]!, 'never before it was sent');
    assert.equal(events.at(-1)!.data, '[DONE]');
    const line = await lineFor(t, res.headers.get('x-kong-request-id')!);
    const lat = line.latencies as { llm: number; first_chunk: number; total: number };
    const lag = content.map((e, i) => e.at - provider.sentAt[i]!);
    process.stderr.write(`# relay: first chunk written ${lat.first_chunk} ms after access began (provider headers at ${lat.llm} ms), ` +
      `stream done at ${lat.total} ms; client received each chunk ${lag.join('/')} ms after the provider sent it; ` +
      `first chunk ${providerLast - content[0]!.at} ms before the provider sent its last\n`);
  } finally {
    await t.close();
  }
});

test('streamed usage is real: asked of the provider, kept from a client that did not ask, in the log line and the metrics', async () => {
  const usage = { prompt_tokens: 25, completion_tokens: 12, total_tokens: 37 };
  let asked: unknown;
  provider.script = async (r, res) => {
    asked = (r.body.stream_options as { include_usage?: unknown } | undefined)?.include_usage;
    await provider.stream(['Hi', ' there'], 0, usage)(r, res);
  };
  const kongLog: Array<Record<string, unknown>> = [];
  const metricsPort = await freePort();
  const t = await gateway([aiProxy({}, { input_cost: 10, output_cost: 10 })],
    { env: { AI_GATEWAY_METRICS_LISTEN: `127.0.0.1:${metricsPort}` }, kongLog });
  try {
    const res = await streamRequest(`${t.url}/t`, chat({ stream: true }));
    const { text } = await readEvents(res);
    assert.equal(asked, true, 'the relay asks the provider for usage');
    const values = sseDataValues(text);
    assert.ok(!values.some((v) => typeof v === 'object' && v !== null && (v as { choices: unknown[] }).choices.length === 0),
      'no usage chunk for a client that did not ask');
    assert.ok(!text.includes('"usage"'), 'nor usage fields');
    const line = await lineFor(t, res.headers.get('x-kong-request-id')!);
    const ai = (line.ai as { proxy: { meta: Record<string, unknown>; usage: Record<string, number> } }).proxy;
    assert.deepEqual({ p: ai.usage.prompt_tokens, c: ai.usage.completion_tokens, t: ai.usage.total_tokens }, { p: 25, c: 12, t: 37 });
    assert.equal(ai.usage.cost, 0.00037, "Kong's test figure: 25/12 tokens at 10/10 per million");
    assert.equal(ai.usage.time_per_token, ai.meta.llm_latency as number / 12);
    assert.equal(line.usage_estimated, false);
    assert.equal(ai.meta.provider_name, 'openai');
    assert.equal(ai.meta.request_model, 'scripted-1');
    assert.equal(ai.meta.response_model, 'scripted-1');
    assert.equal(ai.meta.request_mode, 'stream');
    assert.equal(typeof ai.meta.plugin_id, 'string');
    assert.equal(line.route_id, (kongLog[0]!.route as { id: string }).id);
    // Kong's own log serializer got what access knows.
    const kongAi = (kongLog[0]!.ai as { proxy: { meta: Record<string, unknown> } }).proxy.meta;
    assert.deepEqual(kongAi, { plugin_id: ai.meta.plugin_id, provider_name: 'openai', request_model: 'scripted-1' });

    const again = await streamRequest(`${t.url}/t`, chat({ stream: true, stream_options: { include_usage: true } }));
    const last = sseDataValues((await readEvents(again)).text).at(-2) as { choices: unknown[]; usage: unknown };
    assert.deepEqual(last.choices, []);
    assert.deepEqual(last.usage, usage, 'a client that asks gets the usage chunk');

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const labels = 'ai_provider="openai",ai_model="scripted-1",cache_status="",vector_db="",embeddings_provider="",embeddings_model=""';
    assert.ok(metrics.includes(`kong_ai_llm_requests_total{${labels},workspace="default"} 2`), metrics);
    assert.ok(metrics.includes(`kong_ai_llm_tokens_total{${labels},token_type="prompt_tokens",workspace="default"} 50`), metrics);
    assert.ok(metrics.includes(`kong_ai_llm_tokens_total{${labels},token_type="completion_tokens",workspace="default"} 24`), metrics);
    assert.ok(metrics.includes(`kong_ai_llm_tokens_total{${labels},token_type="total_tokens",workspace="default"} 74`), metrics);
    assert.ok(metrics.includes(`kong_ai_llm_cost_total{${labels},workspace="default"} 0.00074`), metrics);
    assert.match(metrics, /kong_ai_llm_provider_latency_ms_bucket\{[^}]*,le="\+Inf"\} 2/);
    assert.ok(!metrics.includes('kong_ai_llm_tokens_estimated_total{'), 'nothing estimated');
    // The relay's own port serves the same.
    const relayMetrics = await (await fetch(`http://127.0.0.1:${await relayPort(t)}/metrics`)).text();
    assert.ok(relayMetrics.includes(`kong_ai_llm_requests_total{${labels},workspace="default"} 2`));
  } finally {
    await t.close();
  }
});

test('a provider that reports no counts: the counts are estimated and marked, never a silent 0', async () => {
  provider.script = provider.stream(['A fairly long answer ', 'that has no usage at all.'], 0);
  const metricsPort = await freePort();
  const t = await gateway([aiProxy()], { env: { AI_GATEWAY_METRICS_LISTEN: `127.0.0.1:${metricsPort}` } });
  try {
    const res = await streamRequest(`${t.url}/t`, chat({ stream: true }));
    await res.text();
    const line = await lineFor(t, res.headers.get('x-kong-request-id')!);
    const usage = (line.ai as { proxy: { usage: Record<string, number> } }).proxy.usage;
    assert.equal(line.usage_estimated, true);
    assert.equal(usage.completion_tokens, Math.ceil('A fairly long answer that has no usage at all.'.length / 4));
    assert.equal(usage.prompt_tokens, Math.ceil('hello there'.length / 4));
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /kong_ai_llm_tokens_estimated_total\{[^}]*token_type="completion_tokens"[^}]*\} 12/);
  } finally {
    await t.close();
  }
});

test("response_streaming always and deny as Kong; the model header, off, and back with Kong-Debug", async () => {
  provider.script = async (r, res) => {
    if (r.body.stream === true) return provider.stream(['forced'], 0)(r, res);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'scripted-1', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] }));
  };
  const t = await startTestGateway({
    config: {
      _format_version: '3.0',
      services: [{
        name: 'ai', url: 'http://127.0.0.1:9', routes: [
          { name: 'always', paths: ['/always'], plugins: [aiProxy({ response_streaming: 'always' })] },
          { name: 'deny', paths: ['/deny'], plugins: [aiProxy({ response_streaming: 'deny' })] },
          { name: 'quiet', paths: ['/quiet'], plugins: [aiProxy({ model_name_header: false })] },
        ],
      }],
    },
  });
  try {
    const always = await postJson(`${t.url}/always`, chat());
    assert.equal(always.status, 200);
    assert.equal(always.headers.get('content-type'), 'text/event-stream');
    assert.equal(provider.received.at(-1)!.body.stream, true, 'always forces stream:true upstream');
    assert.equal(always.headers.get('x-kong-llm-model'), 'openai/scripted-1');
    const deny = await postJson(`${t.url}/deny`, chat({ stream: true }));
    assert.equal(deny.status, 400);
    assert.deepEqual((deny.json as { error: { message: string } }).error.message, 'response streaming is not enabled for this LLM');
    assert.equal((await postJson(`${t.url}/deny`, chat())).status, 200);
    const quiet = await postJson(`${t.url}/quiet`, chat());
    assert.equal(quiet.status, 200);
    assert.equal(quiet.headers.get('x-kong-llm-model'), null);
    const debug = await postJson(`${t.url}/quiet`, chat(), { 'Kong-Debug': '1' });
    assert.equal(debug.headers.get('x-kong-llm-model'), 'openai/scripted-1');
  } finally {
    await t.close();
  }
});

test('failures: unreachable 502, past the timeout 504, provider statuses kept, a broken stream ends with an error event', async () => {
  const closed = createNetServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
  const deadPort = (closed.address() as { port: number }).port;
  await new Promise<void>((r) => closed.close(() => r()));
  // A server that accepts and never answers.
  const silent: NetServer = createNetServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const silentPort = (silent.address() as { port: number }).port;
  const t = await startTestGateway({
    config: {
      _format_version: '3.0',
      services: [{
        name: 'ai', url: 'http://127.0.0.1:9', read_timeout: 800, routes: [
          { name: 'dead', paths: ['/dead'], plugins: [aiProxy({}, { upstream_url: `http://127.0.0.1:${deadPort}/v1/chat/completions` })] },
          { name: 'silent', paths: ['/silent'], plugins: [aiProxy({}, { upstream_url: `http://127.0.0.1:${silentPort}/v1/chat/completions` })] },
          { name: 'ok', paths: ['/ok'], plugins: [aiProxy()] },
        ],
      }],
    },
  });
  try {
    const dead = await postJson(`${t.url}/dead`, chat());
    assert.equal(dead.status, 502);
    const de = (dead.json as { error: { message: string; type: string; code: string } }).error;
    assert.equal(de.type, 'server_error');
    assert.match(de.message, /could not be reached/);
    // The client learns which provider failed, not where it lives on the operator's network.
    assert.match(de.message, /\(openai\)/);
    assert.ok(!de.message.includes('127.0.0.1') && !de.message.includes(String(deadPort)), de.message);
    const deadLine = await lineFor(t, dead.headers.get('x-kong-request-id')!);
    assert.equal(deadLine.error_detail, `127.0.0.1:${deadPort}: ECONNREFUSED`, 'the log says where');
    assert.equal((await postJson(`${t.url}/dead`, chat({ stream: true }))).status, 502, 'a stream request too, as JSON');

    let started = Date.now();
    const slow = await postJson(`${t.url}/silent`, chat());
    assert.equal(slow.status, 504);
    assert.equal((slow.json as { error: { type: string } }).error.type, 'timeout_error', "the relay's OpenAI-style 504, not Kong's own");
    assert.ok(!slow.text.includes(String(silentPort)), slow.text);
    assert.ok(Date.now() - started < 5000, 'bounded by the Service read_timeout');

    // A stream that stalls after its first chunk: the client has the chunk, then an error event, then [DONE].
    provider.script = async (_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(chunk('partial'))}\n\n`);
      await sleep(3000);
      res.end();
    };
    started = Date.now();
    const stalled = sseDataValues(await (await streamRequest(`${t.url}/ok`, chat({ stream: true }))).text());
    assert.ok(Date.now() - started < 2500, 'the stall is cut at the read timeout');
    assert.equal((stalled[0] as { choices: Array<{ delta: { content: string } }> }).choices[0]!.delta.content, 'partial');
    assert.match((stalled.at(-2) as { error: { message: string } }).error.message, /timed out/);
    assert.ok(!JSON.stringify(stalled).includes('127.0.0.1'), 'no address in the error event either');
    assert.equal(stalled.at(-1), '[DONE]');

    // A connection reset half way.
    provider.script = async (_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(chunk('half'))}\n\n`);
      await sleep(50);
      res.socket?.destroy();
    };
    const reset = sseDataValues(await (await streamRequest(`${t.url}/ok`, chat({ stream: true }))).text());
    assert.equal((reset[0] as { choices: Array<{ delta: { content: string } }> }).choices[0]!.delta.content, 'half');
    assert.ok((reset.at(-2) as { error?: { message: string } }).error?.message, JSON.stringify(reset));
    assert.equal(reset.at(-1), '[DONE]');

    // Provider errors keep their status (429 rate limit; 529 Anthropic's "overloaded"), stream or not.
    for (const status of [429, 529, 503]) {
      provider.script = (_r, res) => {
        res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '7' });
        res.end(JSON.stringify({ error: { message: `upstream says ${status}`, type: 'x', code: null } }));
      };
      for (const stream of [false, true]) {
        const r = await postJson(`${t.url}/ok`, chat({ stream }));
        assert.equal(r.status, status);
        assert.equal((r.json as { error: { message: string } }).error.message, `upstream says ${status}`);
        assert.equal(r.headers.get('retry-after'), '7');
      }
    }
    const lines = relayLines(t);
    assert.ok(lines.some((l) => l.status === 502 && /could not be reached/.test(String(l.error))));
    assert.ok(lines.some((l) => l.status === 504));
  } finally {
    await t.close();
    silent.close();
  }
});

test('no credential in any response or log line: echoed keys, payload logging, Kong errors', async () => {
  provider.script = (r, res) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${String(r.headers.authorization)} and ${String(r.body.api_key)}`, type: 'invalid_request_error', code: 'invalid_api_key' } }));
  };
  const kongLog: Array<Record<string, unknown>> = [];
  const t = await gateway([aiProxy({
    auth: { param_name: 'api_key', param_value: KEY, param_location: 'body', header_name: 'Authorization', header_value: `Bearer ${KEY}` },
    logging: { log_statistics: true, log_payloads: true },
  })], { kongLog });
  try {
    const r = await postJson(`${t.url}/t`, chat(), { Authorization: `Bearer ${CLIENT_KEY}`, 'x-api-key': CLIENT_KEY });
    assert.equal(r.status, 401);
    assert.equal((r.json as { error: { code: string } }).error.code, 'invalid_api_key');
    assert.equal(provider.received.at(-1)!.headers.authorization, `Bearer ${KEY}`);
    assert.equal(provider.received.at(-1)!.headers['x-api-key'], undefined, "the client's own key never reaches the provider");
    assert.equal(provider.received.at(-1)!.body.api_key, KEY);
    const line = await lineFor(t, r.headers.get('x-kong-request-id')!);
    assert.ok((line.ai as { proxy: { payload?: unknown } }).proxy.payload, 'payloads are logged');
    const places: Record<string, string> = {
      response: r.text + JSON.stringify([...r.headers]),
      'plugin server output': t.gw.serverOutput().map((l) => l.line).join('\n'),
      "Kong's error log": t.gw.kongLog.map((l) => l.message).join('\n'),
      // Kong's own serializer logs request headers (it redacts only Authorization): the client's x-api-key
      // is there in Kong too, so only the configured key is looked for.
      "Kong's log serializer": JSON.stringify(kongLog).split(CLIENT_KEY).join(''),
    };
    for (const [where, text] of Object.entries(places)) {
      for (const secret of [KEY, CLIENT_KEY]) assert.ok(!text.includes(secret), `${secret.slice(0, 12)}... appears in the ${where}`);
    }
  } finally {
    await t.close();
  }
});

test('relay tokens are one-time: a replayed, unknown or absent token gets 404, and nothing reaches the provider', async () => {
  provider.script = provider.answer('x');
  const kongLog: Array<Record<string, unknown>> = [];
  const t = await gateway([aiProxy()], { kongLog });
  try {
    assert.equal((await postJson(`${t.url}/t`, chat())).status, 200);
    const used = String(kongLog[0]!.upstream_uri);
    assert.match(used, /^\/ai-relay\/[A-Za-z0-9_-]{22}$/);
    const port = await relayPort(t);
    const n = provider.received.length;
    const direct = (path: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => { body += d.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end(JSON.stringify(chat()));
    });
    for (const path of [used, '/ai-relay/AAAAAAAAAAAAAAAAAAAAAA', '/ai-relay/', '/anything']) {
      const r = await direct(path);
      assert.equal(r.status, 404, path);
      assert.equal((JSON.parse(r.body) as { error: { type: string } }).error.type, 'not_found_error');
    }
    assert.equal(provider.received.length, n);
  } finally {
    await t.close();
  }
});

test("Kong's templating: model and options from headers, query and uri captures; Kong's messages", async () => {
  provider.script = (r, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: String(r.body.model), choices: [{ index: 0, message: { role: 'assistant', content: r.url }, finish_reason: 'stop' }] }));
  };
  const t = await startTestGateway({
    config: {
      _format_version: '3.0',
      services: [{
        name: 'ai', url: 'http://127.0.0.1:9', routes: [
          {
            name: 'captures', paths: ['~/tmpl/(?<model>[a-z0-9-]+)$'],
            plugins: [aiProxy({ model: { name: '$(uri_captures.model)' } }, { upstream_url: `${provider.url}/$(headers.x-tenant)/v1/chat/completions` })],
          },
          { name: 'query', paths: ['/q'], plugins: [aiProxy({ model: { name: 'm-$(query_params.size)' } })] },
          { name: 'bad', paths: ['/bad'], plugins: [aiProxy({ model: { name: '$(model)' } })] },
          { name: 'source', paths: ['/source'], plugins: [aiProxy({ model: { name: '$(cookies.m)' } })] },
        ],
      }],
    },
  });
  try {
    const r = await postJson(`${t.url}/tmpl/gpt-x`, chat(), { 'X-Tenant': 'acme' });
    assert.equal(r.status, 200, r.text);
    assert.equal((r.json as { model: string }).model, 'gpt-x');
    assert.equal(r.headers.get('x-kong-llm-model'), 'openai/gpt-x');
    assert.equal(provider.received.at(-1)!.url, '/acme/v1/chat/completions', 'surrounding text kept');
    const own = await postJson(`${t.url}/tmpl/gpt-x`, chat({ model: 'other' }), { 'X-Tenant': 'acme' });
    assert.equal((own.json as { error: { message: string } }).error.message, 'cannot use own model - must be: gpt-x');
    const missing = await postJson(`${t.url}/tmpl/gpt-x`, chat());
    assert.equal(missing.status, 400);
    assert.equal((missing.json as { error: { message: string } }).error.message, 'headers key x-tenant was not provided');
    assert.equal(((await postJson(`${t.url}/q?size=large`, chat())).json as { model: string }).model, 'm-large');
    assert.equal(((await postJson(`${t.url}/q`, chat())).json as { error: { message: string } }).error.message, 'query_params key size was not provided');
    assert.equal(((await postJson(`${t.url}/bad`, chat())).json as { error: { message: string } }).error.message, "cannot parse expression for field '$(model)'");
    assert.equal(((await postJson(`${t.url}/source`, chat())).json as { error: { message: string } }).error.message, "source 'cookies' is not supported");
  } finally {
    await t.close();
  }
});

test("allow_override: the client's key in the configured header wins only when allowed; other credential headers never pass", async () => {
  provider.script = provider.answer('x');
  const t = await startTestGateway({
    config: {
      _format_version: '3.0',
      services: [{
        name: 'ai', url: 'http://127.0.0.1:9', routes: [
          { name: 'allow', paths: ['/allow'], plugins: [aiProxy({ auth: { header_name: 'Authorization', header_value: `Bearer ${KEY}`, allow_override: true } })] },
          { name: 'deny', paths: ['/deny'], plugins: [aiProxy()] },
        ],
      }],
    },
  });
  try {
    const headers = { Authorization: `Bearer ${CLIENT_KEY}`, 'api-key': CLIENT_KEY, 'x-goog-api-key': CLIENT_KEY, Cookie: 'session=1', 'OpenAI-Beta': 'assistants=v2' };
    await postJson(`${t.url}/allow`, chat(), headers);
    let got = provider.received.at(-1)!.headers;
    assert.equal(got.authorization, `Bearer ${CLIENT_KEY}`);
    assert.equal(got['api-key'], undefined);
    assert.equal(got['x-goog-api-key'], undefined);
    assert.equal(got.cookie, undefined);
    assert.equal(got['openai-beta'], 'assistants=v2', 'other client headers go along');
    await postJson(`${t.url}/allow`, chat());
    assert.equal(provider.received.at(-1)!.headers.authorization, `Bearer ${KEY}`, 'without its own, the configured key');
    await postJson(`${t.url}/deny`, chat(), headers);
    got = provider.received.at(-1)!.headers;
    assert.equal(got.authorization, `Bearer ${KEY}`);
  } finally {
    await t.close();
  }
});

test('gzip for clients that accept it, for answers worth it; config options override the request; unknown fields kept', async () => {
  provider.script = (r, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'a=b' });
    // Padded past GZIP_MIN_BYTES: a short answer is not worth compressing and goes plain.
    // A long one is gzipped on the thread pool rather than on the event loop.
    const pad = r.headers['x-short'] ? '' : ' '.repeat(r.headers['x-long'] ? 4 * GZIP_SYNC_MAX_BYTES : GZIP_MIN_BYTES);
    res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'scripted-1', choices: [{ index: 0, message: { role: 'assistant', content: JSON.stringify(r.body) + pad }, finish_reason: 'stop' }] }));
  };
  const t = await gateway([aiProxy({}, { max_tokens: 1024, top_p: 0.5 })]);
  try {
    const port = Number(new URL(t.url).port);
    const post = (extra: Record<string, string> = {}) => new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/t', method: 'POST', headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip', ...extra } }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(parts) }));
      });
      req.on('error', reject);
      req.end(JSON.stringify(chat({ max_tokens: 256, temperature: 0.1, top_p: 0.2, seed: 7 })));
    });
    const short = await post({ 'x-short': '1' });
    assert.equal(short.headers['content-encoding'], undefined, 'a short answer goes plain');
    assert.ok(JSON.parse(short.body.toString()));
    const raw = await post();
    assert.equal(raw.headers['content-encoding'], 'gzip');
    assert.equal(raw.headers.vary, 'Accept-Encoding');
    assert.equal(raw.headers['set-cookie'], undefined);
    const out = JSON.parse(gunzipSync(raw.body).toString()) as { choices: Array<{ message: { content: string } }> };
    const sent = JSON.parse(out.choices[0]!.message.content) as Record<string, unknown>;
    assert.deepEqual([sent.max_tokens, sent.temperature, sent.top_p, sent.seed, sent.stream], [1024, 0.1, 0.5, 7, false],
      "Kong's precedence: the config's max_tokens and top_p, the request's temperature, unknown fields kept, stream explicit");
    const long = await post({ 'x-long': '1' });
    assert.equal(long.headers['content-encoding'], 'gzip');
    assert.equal(Number(long.headers['content-length']), long.body.length);
    const longOut = JSON.parse(gunzipSync(long.body).toString()) as { choices: Array<{ message: { content: string } }> };
    assert.ok(longOut.choices[0]!.message.content.endsWith(' '.repeat(4 * GZIP_SYNC_MAX_BYTES)));
  } finally {
    await t.close();
  }
});

test('compressed provider answers: asked for gzip, inflated whatever their size or encoding; one that inflates past the limit is a 502', async () => {
  const answer = (content: string) => JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'scripted-1', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] });
  // Random text does not compress: well past the size inflated on the event loop.
  const big = randomBytes(150 * 1024).toString('base64');
  const bodies: Record<string, () => [string, Buffer]> = {
    small: () => ['gzip', gzipSync(answer('small one'))],
    deflate: () => ['deflate', deflateSync(answer('deflated'))],
    br: () => ['br', brotliCompressSync(answer('brotli'))],
    big: () => ['gzip', gzipSync(answer(big))],
    // 2 MB of spaces in a 2 KB gzip: over what is inflated on the event loop, under the limit.
    spaces: () => ['gzip', gzipSync(answer(' '.repeat(2 * 1024 * 1024)))],
    // 100 MB of zeros in about 100 KB: more than any answer may be.
    bomb: () => ['gzip', gzipSync(Buffer.alloc(100 * 1024 * 1024))],
  };
  provider.script = (r, res) => {
    const [encoding, bytes] = bodies[String(r.headers['x-case'])]!();
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': encoding, 'content-length': bytes.length });
    res.end(bytes);
  };
  const t = await gateway([aiProxy()]);
  try {
    const content = async (c: string) => {
      const r = await postJson(`${t.url}/t`, chat(), { 'x-case': c });
      assert.equal(r.status, 200, `${c}: ${r.text.slice(0, 200)}`);
      return (r.json as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;
    };
    assert.equal(await content('small'), 'small one');
    assert.match(String(provider.received.at(-1)!.headers['accept-encoding']), /gzip/);
    assert.equal(await content('deflate'), 'deflated');
    assert.equal(await content('br'), 'brotli');
    assert.equal(await content('big'), big);
    assert.equal((await content('spaces')).length, 2 * 1024 * 1024);
    const bomb = await postJson(`${t.url}/t`, chat(), { 'x-case': 'bomb' });
    assert.equal(bomb.status, 502);
    assert.match((bomb.json as { error: { message: string } }).error.message, /response is over \d+ bytes/);
    assert.equal(await content('small'), 'small one', 'still answering');
  } finally {
    await t.close();
  }
});

test('preserve: the client path and body go to the provider as they are, the answer comes back untouched', async () => {
  provider.script = (r, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: [{ id: 'm1' }], path: r.url, got: r.body }));
  };
  const t = await gateway([aiProxy({ route_type: 'preserve', model: { name: null } }, { upstream_url: `${provider.url}/fixed/path` })], { paths: ['/v1/files'] });
  try {
    const r = await postJson(`${t.url}/v1/files?purpose=x`, { purpose: 'batch', anything: [1, 2] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { object: 'list', data: [{ id: 'm1' }], path: '/fixed/path', got: { purpose: 'batch', anything: [1, 2] } });
  } finally {
    await t.close();
  }
});

test('PDK round trips per request: set_target and set_path, set_scheme only for a non-http Service, one more each for the log serializer and uri-capture templates; none for the target at the relay\'s fixed address', async () => {
  provider.script = provider.answer('x');
  const relayPort = await freePort();
  const cases: Array<[string, unknown, GatewayOpts, number]> = [
    ['no statistics', aiProxy({ logging: { log_statistics: false } }), {}, 2],
    ['statistics', aiProxy(), {}, 3],
    ['an https Service', aiProxy(), { service: { url: 'https://127.0.0.1:9' } }, 4],
    ['uri captures', aiProxy({ model: { name: '$(uri_captures.m)' } }), { paths: ['~/t/(?<m>[a-z-]+)$'] }, 4],
    // The operator points the Service at the relay's fixed address: set_target drops out.
    ['fixed relay address', aiProxy(), { service: { url: `http://127.0.0.1:${relayPort}` }, env: { AI_GATEWAY_RELAY_LISTEN: `127.0.0.1:${relayPort}` } }, 2],
  ];
  for (const [name, plugin, opts, expected] of cases) {
    const t = await gateway([plugin], opts);
    try {
      const url = `${t.url}${name === 'uri captures' ? '/t/scripted-one' : '/t'}`;
      // First requests: one instance per worker reads its Service once (and the relay starts).
      for (let i = 0; i < 4; i++) await postJson(url, chat());
      if (opts.env) await waitFor(() => t.gw.serverOutput().find((l) => l.line.includes(`also listening on http://127.0.0.1:${relayPort}`)), 'the fixed address');
      const before = t.gw.runner.stats.get('ai-proxy')!.pdkCalls;
      const n = 10;
      for (let i = 0; i < n; i++) assert.equal((await postJson(url, chat())).status, 200);
      const per = (t.gw.runner.stats.get('ai-proxy')!.pdkCalls - before) / n;
      process.stderr.write(`# PDK round trips per request (${name}): ${per}\n`);
      assert.equal(per, expected, name);
    } finally {
      await t.close();
    }
  }
});

test('the relay at its fixed address refuses what it did not issue: a skipped plugin still fails closed', async () => {
  provider.script = provider.answer('x');
  const relayPort = await freePort();
  const t = await gateway([aiProxy()], { service: { url: `http://127.0.0.1:${relayPort}` }, env: { AI_GATEWAY_RELAY_LISTEN: `127.0.0.1:${relayPort}` } });
  try {
    assert.equal((await postJson(`${t.url}/t`, chat())).status, 200, 'the first request starts the relay');
    await waitFor(() => t.gw.serverOutput().find((l) => l.line.includes(`also listening on http://127.0.0.1:${relayPort}`)), 'the fixed address');
    const n = provider.received.length;
    // What Kong sends to the Service when it skips the plugin: the client's own path.
    const direct = await postJson(`http://127.0.0.1:${relayPort}/t`, chat());
    assert.equal(direct.status, 404);
    assert.equal(provider.received.length, n);
  } finally {
    await t.close();
  }
});

test('a body over max_request_body_size sent with Expect: 100-continue (curl does) gets the relay\'s 413, not a 502', async () => {
  provider.script = provider.answer('x');
  const t = await gateway([aiProxy({ max_request_body_size: 1000 })]);
  try {
    const body = JSON.stringify(chat({ pad: 'x'.repeat(50_000) }));
    const reply = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const u = new URL(`${t.url}/t`);
      const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' } });
      req.on('continue', () => req.end(body));
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => { text += d; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
    });
    assert.equal(reply.status, 413, reply.text);
    assert.equal((JSON.parse(reply.text) as { error: { code: string } }).error.code, 'request_too_large');
  } finally {
    await t.close();
  }
});

test('messages that are not message objects are the client\'s mistake: 400 naming the parameter, nothing sent', async () => {
  provider.script = provider.answer('x');
  const t = await gateway([aiProxy()]);
  try {
    const n = provider.received.length;
    for (const [messages, param] of [[[1, 2], 'messages[0]'], [[{ role: 'user', content: 'a' }, 'b'], 'messages[1]'],
      [[{ content: 'no role' }], 'messages[0].role'], [[{ role: 7, content: 'x' }], 'messages[0].role']] as const) {
      const r = await postJson(`${t.url}/t`, { messages });
      assert.equal(r.status, 400, JSON.stringify(messages));
      const e = (r.json as { error: { type: string; param: string; message: string } }).error;
      assert.equal(e.type, 'invalid_request_error');
      assert.equal(e.param, param);
      assert.match(e.message, new RegExp(param.replace(/[[\].]/g, '\\$&')));
    }
    assert.equal(provider.received.length, n, 'no provider call');
  } finally {
    await t.close();
  }
});

test("the relay's log line names the request's Service, also for a plugin configured on the route", async () => {
  provider.script = provider.answer('x');
  const plugins = [aiProxy()];
  const t = await gateway(plugins);
  try {
    const r = await postJson(`${t.url}/t`, chat());
    const line = await lineFor(t, r.headers.get('x-kong-request-id')!);
    assert.equal(line.service_id, parseDeclarativeConfig(deck(plugins)).services[0]!.id);
    assert.match(String(line.route_id), /^[0-9a-f-]{36}$/);
  } finally {
    await t.close();
  }
});
