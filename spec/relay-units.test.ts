// The relay's pieces on their own: Kong's templating, the request preparation (checks, precedence,
// preserve paths, Azure's api-version, allow_override), the one-time token store, Kong's metric text,
// usage figures, and which client headers may travel on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RelayContext, TargetConfig } from '../shared/relay/context';
import { effectiveAuth, forwardableHeaders } from '../shared/relay/client-headers';
import { AiMetrics, MAX_SERIES_PER_METRIC } from '../shared/relay/metrics';
import { prepareCall } from '../shared/relay/prepare';
import { NO_OPTIONS } from '../shared/providers/core/types';
import { resolveModel } from '../shared/relay/templating';
import { settingsFromEnv } from '../shared/relay/server';
import { relayTimeouts, serviceTimeouts } from '../shared/relay/timeouts';
import { TokenStore } from '../shared/relay/token-store';
import { cost, timePerToken, usageFigures } from '../shared/relay/usage';
import { NO_AUTH } from './support/provider-case';

/** Options as a config gives them: azure_api_version always has Kong's default. */
const CONFIG_OPTIONS = { ...NO_OPTIONS, azure_api_version: '2023-05-15' };

function target(over: Partial<TargetConfig> = {}, options: Partial<TargetConfig['model']['options'] & object> = {}, provider: TargetConfig['model']['provider'] = 'openai'): TargetConfig {
  return {
    route_type: 'llm/v1/chat',
    auth: { ...NO_AUTH, header_name: 'Authorization', header_value: 'Bearer sk-config-0123456789' },
    model: { provider, name: 'gpt-x', options: { ...CONFIG_OPTIONS, ...options } },
    logging: { log_statistics: true, log_payloads: false },
    ...over,
  };
}

function rc(t: TargetConfig, extra: Partial<RelayContext> = {}): RelayContext {
  return {
    plugin: 'ai-proxy', targets: [t], responseStreaming: 'allow', modelNameHeader: true, maxRequestBodySize: 8192, pluginId: 'p',
    routeId: null, serviceId: null, workspace: 'default', startedAt: Date.now(), uriCaptures: null, requestPath: null, ...extra,
  };
}

const chat = { messages: [{ role: 'user', content: 'hi' }] };

test('templating: the first $() of every model string, text around it kept, nested options too; Kong\'s messages', () => {
  const model: TargetConfig['model'] = {
    provider: 'bedrock',
    name: 'm-$(headers.x-model)-v1',
    options: { ...CONFIG_OPTIONS, upstream_url: 'https://$(uri_captures.region).example.com/$(query_params.x)', bedrock: { aws_region: '$(query_params.region)' } },
  };
  const sources = { headers: { 'x-model': 'big' }, query: new URLSearchParams('region=eu-west-1&x=y'), uriCaptures: { region: 'eu' } };
  const r = resolveModel(model, sources);
  assert.ok(r.ok);
  assert.equal(r.value.name, 'm-big-v1');
  assert.equal(r.value.options!.upstream_url, 'https://eu.example.com/$(query_params.x)', 'only the first expression of a string');
  assert.equal(r.value.options!.bedrock!.aws_region, 'eu-west-1');
  assert.equal(r.value.provider, 'bedrock');
  const err = (name: string, s = sources) => { const x = resolveModel({ ...model, name }, s); return x.ok ? '' : x.message; };
  assert.equal(err('$(headers.nope)'), 'headers key nope was not provided');
  assert.equal(err('$(a.b.c)'), "cannot parse expression for field '$(a.b.c)'");
  assert.equal(err('$()'), "cannot parse expression for field '$()'");
  assert.equal(err('$(env.HOME)'), "source 'env' is not supported");
  assert.equal(err('$(headers.X_Model)'), '', "header names read as Kong's get_header does (case, _ as -)");
});

test('prepare: Kong\'s order of checks, config over request, stream explicit, allow_override, errors as values', async () => {
  const t = target({}, { max_tokens: 100, temperature: 0.5 });
  const env = {};
  const ok = await prepareCall(t, rc(t), { headers: {}, query: new URLSearchParams(), body: { ...chat, max_tokens: 5, top_p: 0.3, foo: 1 } }, 'rid', env);
  assert.ok(ok.ok);
  const body = JSON.parse(ok.call.request.body) as Record<string, unknown>;
  assert.deepEqual([body.max_tokens, body.temperature, body.top_p, body.foo, body.stream, body.model], [100, 0.5, 0.3, 1, false, 'gpt-x']);
  assert.equal(ok.call.request.headers.authorization, 'Bearer sk-config-0123456789');
  const bad = async (b: Record<string, unknown>, extra: Partial<RelayContext> = {}) => {
    const r = await prepareCall(t, rc(t, extra), { headers: {}, query: new URLSearchParams(), body: b }, 'rid', env);
    return r.ok ? 'ok' : `${r.status} ${r.message}`;
  };
  assert.equal(await bad({}), "400 request body doesn't contain valid prompts");
  assert.equal(await bad({ ...chat, model: 'other' }), '400 cannot use own model - must be: gpt-x');
  assert.equal(await bad({ ...chat, model: null }), 'ok', 'a null model is ignored');
  assert.equal(await bad({ prompt: 'x' }), '400 [llm/v1/completions] message format is not compatible with [llm/v1/chat] route type');
  assert.equal(await bad({ ...chat, stream: true }, { responseStreaming: 'deny' }), '400 response streaming is not enabled for this LLM');
  const noModel = target();
  const nameless = { ...noModel, model: { ...noModel.model, name: null } };
  const nm = await prepareCall(nameless, rc(nameless), { headers: {}, query: new URLSearchParams(), body: chat }, 'rid', env);
  assert.ok(!nm.ok && nm.message === 'model parameter not found in request, nor in gateway configuration');
  const anthropicEmbeddings = target({ route_type: 'llm/v1/embeddings' }, {}, 'anthropic');
  const emb = await prepareCall(anthropicEmbeddings, rc(anthropicEmbeddings), { headers: {}, query: new URLSearchParams(), body: { input: 'x' } }, 'rid', env);
  assert.ok(!emb.ok && emb.status === 400 && emb.message === 'no transformer for anthropic://llm/v1/embeddings');

  // allow_override: the client's value of the configured header, query argument or body key.
  const auth = { ...NO_AUTH, header_name: 'api-key', header_value: 'cfg', param_name: 'key', param_value: 'cfgq', param_location: 'query' as const, allow_override: true };
  assert.deepEqual(effectiveAuth(auth, { 'api-key': 'mine' }, new URLSearchParams('key=q'), {}), { ...auth, header_value: 'mine', param_value: 'q' });
  assert.equal(effectiveAuth({ ...auth, allow_override: false }, { 'api-key': 'mine' }, new URLSearchParams(), {})!.header_value, 'cfg');
  assert.equal(effectiveAuth({ ...auth, param_location: 'body' }, {}, new URLSearchParams(), { key: 'b' })!.param_value, 'b');
});

test('prepare: preserve sends the client path unless upstream_path says otherwise; Azure takes the client api-version', async () => {
  const env = {};
  const preserve = (provider: TargetConfig['model']['provider'], options: Partial<TargetConfig['model']['options'] & object> = {}) => {
    const t = target({ route_type: 'preserve' }, options, provider);
    return prepareCall(t, rc(t, { requestPath: '/v1/files' }),
      { headers: {}, query: new URLSearchParams(), body: { purpose: 'batch' } }, 'rid', env);
  };
  const p = await preserve('openai');
  assert.ok(p.ok);
  assert.equal(p.call.request.url, 'https://api.openai.com/v1/files');
  assert.deepEqual(JSON.parse(p.call.request.body), { purpose: 'batch' });
  const withPath = await preserve('openai', { upstream_path: '/v1/batches' });
  assert.ok(withPath.ok && withPath.call.request.url === 'https://api.openai.com/v1/batches');
  const azure = target({}, { azure_instance: 'inst', azure_deployment_id: 'dep' }, 'azure');
  const az = await prepareCall(azure, rc(azure),
    { headers: {}, query: new URLSearchParams('api-version=2024-10-21'), body: chat }, 'rid', env);
  assert.ok(az.ok);
  assert.match(az.call.request.url, /\/openai\/deployments\/dep\/chat\/completions\?api-version=2024-10-21$/);
});

test('client headers: credentials, cookies, hop-by-hop and forwarding headers stay behind', () => {
  const out = forwardableHeaders({
    authorization: 'Bearer x', 'api-key': 'k', 'x-api-key': 'k', 'x-goog-api-key': 'k', cookie: 'a=b', host: 'h', 'content-length': '3',
    'accept-encoding': 'gzip', 'x-forwarded-for': '1.2.3.4', 'x-real-ip': '1.2.3.4', 'x-kong-request-id': 'r', connection: 'close',
    'openai-beta': 'assistants=v2', 'anthropic-beta': ['a', 'b'], 'user-agent': 'sdk',
  });
  assert.deepEqual(out, { 'openai-beta': 'assistants=v2', 'anthropic-beta': 'a, b', 'user-agent': 'sdk' });
});

test('tokens: one use each, unguessable, gone after their TTL', async () => {
  const store = new TokenStore({ ttlMs: 50, max: 10 });
  const ctx = rc(target());
  const a = store.issue(ctx);
  const b = store.issue(ctx);
  assert.match(a, /^[A-Za-z0-9_-]{22}$/);
  assert.notEqual(a, b);
  assert.equal(store.take(a), ctx);
  assert.equal(store.take(a), undefined, 'never twice');
  assert.equal(store.take('nope'), undefined);
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(store.take(b), undefined, 'expired');
  for (let i = 0; i < 20; i++) store.issue(ctx);
  assert.equal(store.size, 10, 'bounded');
});

test('tokens: the cost of an operation does not grow with capacity (nothing sized by max, bounded sweeps)', () => {
  const ctx = rc(target());
  // Nothing is allocated for capacity: a thousand stores with room for 10^9 tokens each, emptied and
  // refilled as at concurrency 1 (the case where a capacity-sized clear once ran on every request).
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const stores: TokenStore[] = [];
  for (let i = 0; i < 1000; i++) {
    const s = new TokenStore({ ttlMs: 60_000, max: 1e9 });
    for (let j = 0; j < 20; j++) assert.equal(s.take(s.issue(ctx)), ctx);
    stores.push(s);
  }
  const grown = process.memoryUsage().heapUsed - before;
  assert.ok(grown < 16 * 1024 * 1024, `1000 huge-capacity stores cost ${grown} bytes`);
  assert.ok(stores.every((s) => s.size === 0));

  // One issue() drops only a few expired tokens, however many there are: no scan of the store.
  let clock = 0;
  const store = new TokenStore({ ttlMs: 10, max: 1e9, now: () => clock });
  for (let i = 0; i < 10_000; i++) store.issue(ctx);
  clock = 100;
  store.issue(ctx);
  assert.ok(store.size > 9_990 && store.size <= 10_000, `one issue swept ${10_001 - store.size} tokens`);
  for (let i = 0; i < 5_000; i++) store.issue(ctx);
  assert.equal(store.size, 5_001, 'a steady issue rate drains the expired ones (a few per issue)');
  assert.equal(store.live, 5_001);
  clock = 200;
  assert.equal(store.live, 0, 'live counts only unexpired tokens');
});

test("metrics: Kong's names, labels in Kong's order, buckets, feeding rules, escaping, bounded series", () => {
  const m = new AiMetrics();
  m.observe({ provider: 'openai', requestModel: 'gpt-3.5-turbo', workspace: 'default', llmLatency: 1200, promptTokens: 25, completionTokens: 12,
    totalTokens: 37, cost: 0.00037, estimated: { prompt: false, completion: false } });
  m.observe({ provider: 'anthropic', requestModel: 'a"b\\c', workspace: 'default', llmLatency: 0, promptTokens: 3, completionTokens: 0,
    totalTokens: 3, cost: 0, estimated: { prompt: true, completion: false } });
  const text = m.render();
  const l = 'ai_provider="openai",ai_model="gpt-3.5-turbo",cache_status="",vector_db="",embeddings_provider="",embeddings_model=""';
  assert.ok(text.includes(`kong_ai_llm_requests_total{${l},workspace="default"} 1`));
  assert.ok(text.includes(`kong_ai_llm_cost_total{${l},workspace="default"} 0.00037`));
  assert.ok(text.includes(`kong_ai_llm_tokens_total{${l},token_type="completion_tokens",workspace="default"} 12`));
  assert.ok(text.includes(`kong_ai_llm_provider_latency_ms_bucket{${l},workspace="default",le="1000"} 0`));
  assert.ok(text.includes(`kong_ai_llm_provider_latency_ms_bucket{${l},workspace="default",le="1500"} 1`));
  assert.ok(text.includes(`kong_ai_llm_provider_latency_ms_bucket{${l},workspace="default",le="+Inf"} 1`));
  assert.ok(text.includes(`kong_ai_llm_provider_latency_ms_sum{${l},workspace="default"} 1200`));
  assert.ok(text.includes('ai_model="a\\"b\\\\c"'), 'label values escaped');
  assert.ok(!/kong_ai_llm_cost_total\{ai_provider="anthropic"/.test(text), 'no cost series for cost 0 (Kong: only > 0)');
  assert.ok(!/latency_ms_count\{ai_provider="anthropic"/.test(text), 'no latency for 0 (Kong 3.9: only > 0)');
  assert.ok(!/token_type="completion_tokens"[^\n]*anthropic|ai_provider="anthropic"[^\n]*token_type="completion_tokens"/.test(text), 'no zero token series');
  assert.match(text, /kong_ai_llm_tokens_estimated_total\{ai_provider="anthropic"[^}]*token_type="prompt_tokens"[^}]*\} 3/);
  assert.match(text, /# TYPE kong_ai_llm_provider_latency_ms histogram/);

  const many = new AiMetrics();
  for (let i = 0; i < MAX_SERIES_PER_METRIC + 10; i++) {
    many.observe({ provider: 'openai', requestModel: `m${i}`, workspace: 'default', llmLatency: 1, promptTokens: 1, completionTokens: 1,
      totalTokens: 2, cost: 0, estimated: { prompt: false, completion: false } });
  }
  assert.match(many.render(), /kong_ai_llm_requests_total\{ai_provider="openai",ai_model="other",[^}]*\} 10/);
});

test('usage: reported counts kept, missing ones estimated and marked; cost and time per token as Kong computes them', () => {
  const reported = usageFigures({ prompt_tokens: 25, completion_tokens: 12, total_tokens: 37 }, 400, 40, true);
  assert.deepEqual(reported, { prompt_tokens: 25, completion_tokens: 12, total_tokens: 37, estimated: { prompt: false, completion: false } });
  const none = usageFigures(undefined, 400, 41, true);
  assert.deepEqual(none, { prompt_tokens: 100, completion_tokens: 11, total_tokens: 111, estimated: { prompt: true, completion: true } });
  const promptOnly = usageFigures({ prompt_tokens: 9, completion_tokens: 0, total_tokens: 9 }, 400, 40, true);
  assert.deepEqual(promptOnly.estimated, { prompt: false, completion: true }, 'a 0 that only means "not reported" is replaced');
  assert.equal(cost(reported, 10, 10), 0.00037);
  assert.equal(cost(reported, 10, null), 0);
  assert.equal(timePerToken(120, 12), 10);
  assert.equal(timePerToken(120, 0), 0);
});

test("timeouts: the Service's, a little shorter on the read side, so the relay answers before Kong gives up", () => {
  assert.deepEqual(relayTimeouts({ connect: 60000, read: 60000 }), { connect: 59000, read: 59000 });
  assert.deepEqual(relayTimeouts({ connect: 5000, read: 800 }), { connect: 720, read: 720 });
  assert.deepEqual(serviceTimeouts({ connect_timeout: 2000, read_timeout: 120000 }), { connect: 2000, read: 119000 });
  assert.deepEqual(serviceTimeouts(undefined), { connect: 59000, read: 59000 });
});

test('metrics address: a plugin\'s own variable wins over the shared one; a malformed or non-loopback one is ignored', () => {
  const env = { AI_GATEWAY_METRICS_LISTEN: '127.0.0.1:9542', AI_GATEWAY_METRICS_LISTEN_AI_PROXY_ADVANCED: 'localhost:9543' };
  assert.deepEqual(settingsFromEnv(env, 'ai-proxy').metricsListen, { host: '127.0.0.1', port: 9542 });
  assert.deepEqual(settingsFromEnv(env, 'ai-proxy-advanced').metricsListen, { host: 'localhost', port: 9543 });
  assert.equal(settingsFromEnv({ AI_GATEWAY_METRICS_LISTEN: '0.0.0.0:9542' }, 'ai-proxy').metricsListen, null, 'loopback only');
  assert.equal(settingsFromEnv({ AI_GATEWAY_RELAY_LISTEN: '10.0.0.1:9543' }, 'ai-proxy').relayListen, null, 'loopback only');
  assert.deepEqual(settingsFromEnv({ AI_GATEWAY_METRICS_LISTEN: '[::1]:9000' }, 'ai-proxy').metricsListen, { host: '::1', port: 9000 });
  assert.equal(settingsFromEnv({ AI_GATEWAY_METRICS_LISTEN: 'nope' }, 'ai-proxy').metricsListen, null);
  assert.equal(settingsFromEnv({}, 'ai-proxy').metricsListen, null);
});
