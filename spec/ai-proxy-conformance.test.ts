// Kong's conformance checklist for ai-proxy (docs/kong-ai-plugins.md §7, items 1–74 less the prompt
// guard's), item by item: each is matched (checked here, or by the named test) or a deliberate difference
// listed in README.md. Config items run through the plugin's own constructor (what StartInstance runs);
// request items through Kong's side with a scripted provider.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Plugin as AiProxy } from '../plugins/ai-proxy';
import { sharedRelay } from '../shared/relay/server';
import { ScriptedProvider, chunk } from './fakes/scripted-provider';
import { startTestGateway, postJson, openaiProxyPlugin, type TestGateway } from './support/test-gateway';
import { sseDataValues } from './support/provider-case';
import { refusalOf } from './support/refusal';

const ROOT = resolve(__dirname, '../..');
const README = readFileSync(resolve(ROOT, 'README.md'), 'utf8');

type Status = { matched: string } | { difference: true };
/** Where each item is matched (`file: test name`, or `here`), or that it is a documented difference. */
const CHECKLIST: Record<number, Status> = {
  1: { matched: 'here' }, 2: { matched: 'here' }, 3: { matched: 'here' }, 4: { matched: 'here' }, 5: { matched: 'here' },
  6: { difference: true }, 7: { matched: 'here' }, 8: { matched: 'here' }, 9: { matched: 'here' }, 10: { matched: 'here' },
  11: { matched: 'here' },
  13: { matched: 'relay-units: prepare: Kong\'s order of checks' }, 14: { matched: 'relay-units: prepare: Kong\'s order of checks' },
  15: { matched: 'relay-units: prepare: Kong\'s order of checks' }, 16: { matched: 'relay-units: prepare: Kong\'s order of checks' },
  17: { matched: 'here' }, 18: { matched: 'ai-proxy-relay: response_streaming always and deny as Kong' },
  19: { matched: 'ai-proxy-relay: gzip for clients that accept it' }, 20: { matched: 'ai-proxy-relay: gzip for clients that accept it' },
  21: { matched: 'ai-proxy-relay: Kong\'s templating' }, 22: { matched: 'relay-units: templating' },
  23: { matched: 'providers: openai/chat-basic: request' }, 24: { matched: 'relay-units: prepare: preserve sends the client path' },
  25: { matched: 'providers: anthropic/chat-basic: request' }, 26: { matched: 'providers: gemini/chat-stream: request' },
  27: { matched: 'here' }, 28: { matched: 'providers: openai/upstream-url-override: request' },
  29: { difference: true }, 30: { difference: true }, 31: { matched: 'ai-proxy-providers: answer through Kong and the relay' },
  32: { matched: 'providers: anthropic/chat-tool-call: request' }, 33: { matched: 'providers: anthropic/completions: request' },
  34: { matched: 'providers: cohere/chat-basic: request' }, 35: { matched: 'providers: gemini/chat-multimodal: request' },
  36: { matched: 'providers: bedrock/chat-tools: request' }, 37: { matched: 'providers-bedrock' },
  38: { matched: 'providers: llama2/raw-chat: request' }, 39: { matched: 'providers: anthropic/chat-tool-call: response' },
  40: { matched: 'providers: gemini/chat-basic: response' }, 41: { matched: 'providers: bedrock/chat-basic: response' },
  42: { matched: 'providers: cohere/chat-basic: response' }, 43: { matched: 'providers: llama2/ollama-chat: response' },
  44: { matched: 'here' }, 45: { difference: true }, 46: { difference: true },
  47: { matched: 'providers: stream split at every byte offset' }, 48: { matched: 'providers: anthropic/chat-stream: stream' },
  49: { matched: 'providers: cohere/chat-stream: stream' }, 50: { matched: 'providers: gemini/chat-stream: stream' },
  51: { matched: 'providers: bedrock/chat-stream: stream' }, 52: { matched: 'providers: bedrock/chat-tools-stream: stream' },
  53: { difference: true }, 54: { matched: 'here' }, 55: { difference: true },
  56: { matched: 'native-formats: native formats: answers and streams are byte-equal to what the provider sent' },
  57: { matched: 'ai-proxy-relay: response_streaming always and deny as Kong; the model header' }, 58: { difference: true },
  59: { difference: true }, 60: { matched: 'ai-proxy-relay: Kong\'s templating' }, 61: { difference: true },
  62: { difference: true }, 63: { matched: 'ai-proxy-relay: streamed usage is real' }, 64: { matched: 'here' },
  65: { matched: 'here' }, 66: { difference: true },
  67: { matched: 'ai-proxy-advanced: consistent-hashing: one header value, one target' }, 68: { difference: true },
  69: { difference: true }, 70: { difference: true }, 71: { difference: true }, 72: { difference: true },
  73: { difference: true }, 74: { matched: 'here' },
};

const KEY = 'sk-conformance-0123456789abcdef';
let provider: ScriptedProvider;
before(async () => {
  provider = new ScriptedProvider();
  await provider.listen();
});
after(async () => {
  await provider.close();
  await sharedRelay('ai-proxy').close();
});

test('the checklist: every item is matched or a documented difference', () => {
  for (let n = 1; n <= 74; n++) {
    if (n === 12) continue; // the prompt guard's
    const s = CHECKLIST[n];
    assert.ok(s, `item ${n} is not accounted for`);
    if ('difference' in s) assert.ok(README.includes(`[§7.${n}]`), `item ${n} is a difference but the README does not list it`);
    else if (s.matched !== 'here') {
      const [file, name] = s.matched.includes(': ') ? s.matched.split(/: (.*)/s) as [string, string] : [s.matched, ''];
      const path = resolve(ROOT, 'spec', `${file}.test.ts`);
      assert.ok(existsSync(path), `item ${n}: spec/${file}.test.ts`);
      const src = readFileSync(path, 'utf8');
      // Test names built from fixture cases: the case folder must exist.
      const fixture = /^([a-z0-9]+)\/([a-z0-9-]+): /.exec(name);
      if (fixture) assert.ok(existsSync(resolve(ROOT, 'spec/fixtures/providers', fixture[1]!, fixture[2]!)), `item ${n}: fixture ${fixture[1]}/${fixture[2]}`);
      else if (name) {
        const plain = name.replace(/\\'/g, "'");
        assert.ok(src.includes(plain) || src.includes(plain.replace(/'/g, "\\'")), `item ${n}: no test "${plain}" in spec/${file}.test.ts`);
      }
    }
  }
});

const refused = (config: Record<string, unknown>) => refusalOf(() => new AiProxy(config));

const base = (model: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  route_type: 'llm/v1/chat', model, logging: { log_statistics: false, log_payloads: false }, ...extra,
});

test('§7.1–11: configuration checks and defaults, with Kong\'s messages', () => {
  assert.match(refused({ model: { provider: 'openai' }, logging: {} }), /route_type/);
  assert.match(refused({ route_type: 'llm/v1/chat', model: {}, logging: {} }), /provider/);
  for (const rt of ['llm/v1/chat', 'llm/v1/completions', 'preserve', 'llm/v1/embeddings']) assert.equal(refused(base({ provider: 'openai' }, { route_type: rt })), '', rt);
  assert.match(refused(base({ provider: 'openai' }, { auth: { header_name: 'Authorization' } })), /all or none of these fields must be set: 'auth.header_name', 'auth.header_value'/);
  assert.match(refused(base({ provider: 'openai' }, { auth: { param_name: 'key', param_value: 'x' } })),
    /all or none of these fields must be set: 'auth.param_name', 'auth.param_value', 'auth.param_location'/);
  assert.match(refused(base({ provider: 'openai' }, { auth: { param_name: 'k', param_value: 'v', param_location: 'header' } })), /param_location/);
  assert.match(refused(base({ provider: 'anthropic' })), /must set 'model.options.anthropic_version' for anthropic provider/);
  assert.match(refused(base({ provider: 'azure', options: { azure_deployment_id: 'd' } })), /must set 'model.options.azure_instance' for azure provider/);
  assert.match(refused(base({ provider: 'azure', options: { azure_instance: 'i' } })), /must set 'model.options.azure_deployment_id' for azure provider/);
  assert.equal(refused(base({ provider: 'azure', options: { azure_instance: 'i', azure_deployment_id: 'd' } })), '', 'azure_api_version defaults');
  assert.match(refused(base({ provider: 'llama2', options: { upstream_url: 'http://x' } })), /must set 'model.options.llama2_format' for llama2 provider/);
  assert.match(refused(base({ provider: 'llama2', options: { llama2_format: 'raw' } })), /must set 'model.options.upstream_url' for self-hosted providers\/models/);
  assert.match(refused(base({ provider: 'mistral' })), /must set 'model.options.mistral_format' for mistral provider/);
  assert.equal(refused(base({ provider: 'mistral', options: { mistral_format: 'openai' } })), '', 'mistral needs no upstream_url (3.8+)');
  assert.match(refused(base({ provider: 'gemini' }, { auth: { allow_override: true } })), /bedrock and gemini only support auth.allow_override = false/);
  assert.match(refused(base({ provider: 'bedrock' }, { auth: { allow_override: true } })), /bedrock and gemini only support auth.allow_override = false/);
  assert.match(refused(base({ provider: 'openai' }, { route_type: 'llm/v1/completions', llm_format: 'gemini' })),
    /native provider options in llm_format can only be used with the 'llm\/v1\/chat' route_type/);
  assert.match(refused(base({ provider: 'openai' }, { llm_format: 'bedrock' })), /native llm_format 'bedrock' can only be used with the 'bedrock' model.provider/);
  // item 8: past Kong's checks, the native formats are served (spec/native-formats.test.ts).
  assert.equal(refused(base({ provider: 'gemini' }, { llm_format: 'gemini' })), '');
  assert.equal(refused(base({ provider: 'bedrock' }, { llm_format: 'bedrock' })), '');
  assert.match(refused(base({ provider: 'gemini', options: { gemini: { api_endpoint: 'x' } } })), /all or none of these fields must be set/);
  for (const [k, v] of [['temperature', 5.5], ['top_p', 1.5], ['top_k', 501], ['input_cost', 0], ['output_cost', -1]] as const) {
    assert.match(refused(base({ provider: 'openai', options: { [k]: v } })), new RegExp(k), `${k}=${v}`);
  }
  assert.match(refused(base({ provider: 'openai' }, { max_request_body_size: 0 })), /max_request_body_size/);
  // item 6 (a difference): accepted here.
  assert.equal(refused(base({ provider: 'anthropic', options: { anthropic_version: '2023-06-01' } }, { route_type: 'llm/v1/completions', logging: { log_statistics: true, log_payloads: false } })), '');
});

function plugin(config: Record<string, unknown> = {}, options: Record<string, unknown> = {}): unknown {
  return openaiProxyPlugin(provider.url, KEY, config, options);
}

async function gateway(routes: Array<[string, unknown]>, kongLog?: Array<Record<string, unknown>>): Promise<TestGateway> {
  return startTestGateway({
    config: { _format_version: '3.0', services: [{ name: 'ai', url: 'http://127.0.0.1:9', routes: routes.map(([p, pl], i) => ({ name: `r${i}`, paths: [p], plugins: [pl] })) }] },
    onRequestLog: kongLog ? (e) => kongLog.push(e) : undefined,
  });
}

function relayLine(t: TestGateway, requestId: string): Record<string, unknown> | undefined {
  return t.gw.serverOutput().map((l) => l.line).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.request_id === requestId);
}

test('§7.11 defaults, §7.17 the body\'s model when none is configured, §7.44 untranslatable 200, §7.58 gzip and Content-Length, §7.64 no ai key without statistics', async () => {
  provider.script = (r, res) => {
    if (r.body.messages && (r.body.messages as Array<{ content: string }>)[0]!.content === 'broken') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"no":"choices"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: String(r.body.model), choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] }));
  };
  const kongLog: Array<Record<string, unknown>> = [];
  const t = await gateway([
    ['/free', plugin()],
    ['/quiet', plugin({ logging: { log_statistics: false } })],
  ], kongLog);
  try {
    const a = await postJson(`${t.url}/free`, { model: 'model-a', messages: [{ role: 'user', content: 'x' }] });
    assert.equal((a.json as { model: string }).model, 'model-a');
    assert.equal(a.headers.get('x-kong-llm-model'), 'openai/model-a');
    const b = await postJson(`${t.url}/free`, { model: 'model-b', messages: [{ role: 'user', content: 'x' }] });
    assert.equal((b.json as { model: string }).model, 'model-b', 'an earlier request does not fix the model');
    const none = await postJson(`${t.url}/free`, { messages: [{ role: 'user', content: 'x' }] });
    assert.equal((none.json as { error: { message: string } }).error.message, 'model parameter not found in request, nor in gateway configuration');

    const broken = await postJson(`${t.url}/free`, { model: 'm', messages: [{ role: 'user', content: 'broken' }] });
    assert.equal(broken.status, 500);
    assert.equal((broken.json as { error: { message: string } }).error.message, "transformation failed from type openai://llm/v1/chat: 'choices' not in llm/v1/chat response");

    // Plain for a client without gzip: a correct Content-Length.
    const plain = await fetch(`${t.url}/free`, { method: 'POST', headers: { 'content-type': 'application/json', 'accept-encoding': 'identity' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }) });
    const plainBody = Buffer.from(await plain.arrayBuffer());
    assert.equal(plain.headers.get('content-encoding'), null);
    // The relay sets Content-Length; the harness, like nginx streaming an upstream, re-frames it.
    assert.equal((JSON.parse(plainBody.toString()) as { model: string }).model, 'm');
    // A short answer is not gzipped, even for a client that accepts it (Kong gzips every answer; a
    // difference: it saves less than a packet and costs a compressor's setup).
    const gz = await fetch(`${t.url}/free`, { method: 'POST', headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip' }, body: '{}' });
    assert.equal(gz.status, 400);
    assert.equal(gz.headers.get('content-encoding'), null);

    const quiet = await postJson(`${t.url}/quiet`, { model: 'm', messages: [{ role: 'user', content: 'x' }] });
    const id = quiet.headers.get('x-kong-request-id')!;
    const kongEntry = await (async () => { for (let i = 0; i < 100 && !kongLog.some((e) => (e.request as { id: string }).id === id); i++) await new Promise((r) => setTimeout(r, 10)); return kongLog.find((e) => (e.request as { id: string }).id === id); })();
    assert.equal(kongEntry!.ai, undefined, "no ai key in Kong's log without log_statistics");
    for (let i = 0; i < 100 && !relayLine(t, id); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(relayLine(t, id)!.ai, undefined, "nor in the relay's line");
  } finally {
    await t.close();
  }
});

test('§7.27 Bedrock without any region: 500 "LLM request failed before proxying"; §7.65 Azure log meta; §7.74 ai-proxy-advanced takes the same path', async () => {
  provider.script = (r, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: String(r.body.model ?? 'dep'), choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] }));
  };
  const t = await gateway([
    ['/bedrock', { name: 'ai-proxy', config: { route_type: 'llm/v1/chat', auth: { aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE', aws_secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }, model: { provider: 'bedrock', name: 'anthropic.claude-3-haiku-20240307-v1:0' }, logging: { log_statistics: true } } }],
    ['/azure', plugin({ auth: { header_name: 'api-key', header_value: KEY }, model: { provider: 'azure', name: 'gpt-4o', options: { azure_instance: 'contoso', azure_deployment_id: 'gpt-4o-prod', azure_api_version: '2024-10-21', upstream_url: `${provider.url}/openai/deployments/gpt-4o-prod/chat/completions` } } })],
  ]);
  try {
    const r = await postJson(`${t.url}/bedrock`, { messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.status, 500);
    assert.equal((r.json as { error: { message: string } }).error.message, 'LLM request failed before proxying');
    const az = await postJson(`${t.url}/azure`, { messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(az.status, 200, az.text);
    const id = az.headers.get('x-kong-request-id')!;
    for (let i = 0; i < 100 && !relayLine(t, id); i++) await new Promise((res) => setTimeout(res, 10));
    const meta = (relayLine(t, id)!.ai as { proxy: { meta: Record<string, unknown> } }).proxy.meta;
    assert.deepEqual([meta.azure_instance_id, meta.azure_deployment_id, meta.azure_api_version], ['contoso', 'gpt-4o-prod', '2024-10-21']);
  } finally {
    await t.close();
  }
  const target = (name: string) => ({ route_type: 'llm/v1/chat', auth: { header_name: 'Authorization', header_value: `Bearer ${KEY}` }, logging: { log_statistics: true }, model: { provider: 'openai', name, options: { upstream_url: `${provider.url}/v1/chat/completions` } } });
  provider.script = provider.stream(['through ', 'the relay'], 20, { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
  const adv = await startTestGateway({ config: { _format_version: '3.0', services: [{ name: 'ai', url: 'http://127.0.0.1:9', routes: [{ name: 'r', paths: ['/adv'], plugins: [{ name: 'ai-proxy-advanced', config: { targets: [target('a'), target('b')] } }] }] }] } });
  try {
    const res = await fetch(`${adv.url}/adv`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const values = sseDataValues(await res.text());
    assert.equal(values.at(-1), '[DONE]');
    const id = res.headers.get('x-kong-request-id')!;
    for (let i = 0; i < 100 && !relayLine(adv, id); i++) await new Promise((r) => setTimeout(r, 10));
    const line = relayLine(adv, id)!;
    assert.equal(line.plugin, 'ai-proxy-advanced');
    assert.equal(typeof line.target, 'number');
    assert.equal((line.ai as { proxy: { usage: { total_tokens: number } } }).proxy.usage.total_tokens, 5);
  } finally {
    await adv.close();
  }
});

test('§7.54 a gzipped provider stream is inflated; the stream to the client is never gzipped', async () => {
  provider.script = (_r, res) => {
    const sse = [chunk('zipped'), chunk(null)].map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n';
    res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
    res.end(gzipSync(sse));
  };
  const t = await gateway([['/t', plugin({ model: { name: 'm' } })]]);
  try {
    const res = await fetch(`${t.url}/t`, { method: 'POST', headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip' }, body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal(res.headers.get('content-encoding'), null);
    const values = sseDataValues(await res.text());
    assert.equal((values[0] as { choices: Array<{ delta: { content: string } }> }).choices[0]!.delta.content, 'zipped');
    // Kong asks every provider for gzip; the relay asks for identity on streams (nothing to inflate per
    // chunk, no compressor holding chunks back) and still inflates a provider that gzips regardless.
    assert.equal(provider.received.at(-1)!.headers['accept-encoding'], 'identity');
  } finally {
    await t.close();
  }
});
