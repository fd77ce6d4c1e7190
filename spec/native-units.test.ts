// Native formats, unit by unit: the operation read off the client's path, the error shapes, the usage
// tap (every native stream split at every byte offset), the call prepared for the provider, and the
// configuration rules of ai-proxy and ai-proxy-advanced.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Plugin as AiProxy } from '../plugins/ai-proxy';
import { Plugin as AiProxyAdvanced } from '../plugins/ai-proxy-advanced';
import { nativeError } from '../shared/native/errors';
import { nativeOperation, sameModel } from '../shared/native/paths';
import { UsageTap } from '../shared/relay/usage-tap';
import { encodeAwsEvent } from '../shared/providers/core/framing';
import type { RelayContext, TargetConfig } from '../shared/relay/context';
import { prepareCall } from '../shared/relay/prepare';
import { sharedRelay } from '../shared/relay/server';
import { anthropicEvents, bedrockEvents, geminiChunks } from './fakes/native-providers';
import { refusalOf } from './support/refusal';

// The plugins' constructors start the process's relay.
after(async () => {
  const relay = sharedRelay('ai-proxy');
  await relay.port();
  await relay.close();
});

test('native paths: model and stream from the path (Anthropic: the body), under any route prefix', () => {
  assert.deepEqual(nativeOperation('gemini', '/ai/v1beta/models/gemini-2.0-flash:generateContent', {}), { ok: true, model: 'gemini-2.0-flash', stream: false });
  assert.deepEqual(nativeOperation('gemini', '/v1beta/models/gemini-2.0-flash:streamGenerateContent', {}), { ok: true, model: 'gemini-2.0-flash', stream: true });
  assert.deepEqual(nativeOperation('gemini', '/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent', {}),
    { ok: true, model: 'gemini-2.0-flash', stream: false }, 'Vertex AI paths');
  assert.equal(nativeOperation('gemini', '/v1beta/models/gemini-2.0-flash:countTokens', {}).ok, false);
  assert.deepEqual(nativeOperation('bedrock', '/br/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream', {}),
    { ok: true, model: 'anthropic.claude-3-haiku-20240307-v1:0', stream: true }, 'the model id URL-decoded');
  assert.equal(nativeOperation('bedrock', '/model/m/invoke', {}).ok, false);
  assert.equal(nativeOperation('bedrock', '/model/%2E%2E/converse', {}).ok, false, 'a model that walks the path');
  assert.equal(nativeOperation('bedrock', '/model/%E0%A4%A/converse', {}).ok, false, 'bad escapes');
  assert.deepEqual(nativeOperation('anthropic', '/claude/v1/messages', { model: 'claude-x', stream: true }), { ok: true, model: 'claude-x', stream: true });
  assert.deepEqual(nativeOperation('anthropic', '/v1/messages', {}), { ok: true, model: null, stream: false });
  assert.equal(nativeOperation('anthropic', '/v1/messages/count_tokens', {}).ok, false);
  assert.equal(nativeOperation('anthropic', '/v1/messages', { stream: 'yes' }).ok, false);
  assert.ok(sameModel('gemini', 'models/gemini-2.0-flash', 'gemini-2.0-flash'));
  assert.ok(!sameModel('bedrock', 'a', 'b'));
});

test('native errors: each provider\'s shape', () => {
  assert.deepEqual(nativeError('gemini', 400, 'm'), { body: { error: { code: 400, message: 'm', status: 'INVALID_ARGUMENT' } }, headers: {} });
  assert.deepEqual(nativeError('gemini', 504, 'm').body, { error: { code: 504, message: 'm', status: 'DEADLINE_EXCEEDED' } });
  assert.deepEqual(nativeError('anthropic', 413, 'm'), { body: { type: 'error', error: { type: 'request_too_large', message: 'm' } }, headers: {} });
  assert.deepEqual(nativeError('anthropic', 502, 'm').body, { type: 'error', error: { type: 'api_error', message: 'm' } });
  assert.deepEqual(nativeError('bedrock', 400, 'm'), { body: { message: 'm' }, headers: { 'x-amzn-errortype': 'ValidationException' } });
  assert.equal(nativeError('bedrock', 503, 'm').headers['x-amzn-errortype'], 'ServiceUnavailableException');
});

const streams: Array<[string, 'gemini' | 'bedrock' | 'anthropic', Buffer, [number, number], string | undefined]> = [
  ['gemini', 'gemini', Buffer.from(geminiChunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join('')), [13, 9], 'gemini-2.0-flash-001'],
  ['bedrock', 'bedrock', Buffer.concat(bedrockEvents.map(([t, p]) => Buffer.from(encodeAwsEvent(t, p)))), [23, 6], undefined],
  ['anthropic', 'anthropic', Buffer.from(anthropicEvents.map((e) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`).join('')), [33, 12], 'claude-3-5-haiku-20241022'],
];

test('usage tap: the counts of every native stream, whole and split at every byte offset', () => {
  for (const [name, format, bytes, [prompt, completion], model] of streams) {
    for (let at = 0; at <= bytes.length; at++) {
      const tap = new UsageTap(format);
      tap.push(bytes.subarray(0, at));
      tap.push(bytes.subarray(at));
      assert.deepEqual(tap.usage, { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }, `${name} split at ${at}`);
      assert.equal(tap.model, model, name);
    }
    const byByte = new UsageTap(format);
    for (const b of bytes) byByte.push(Uint8Array.of(b));
    assert.equal(byByte.usage?.prompt_tokens, prompt, `${name} byte by byte`);
  }
});

test('usage tap: a cut or unreadable stream gives what was seen, never throws', () => {
  const [, , gemini] = streams[0]!;
  const cut = new UsageTap('gemini');
  cut.push(gemini.subarray(0, gemini.indexOf('data:', 10)));
  assert.deepEqual(cut.usage, { prompt_tokens: 13, completion_tokens: 0, total_tokens: 13 });
  const broken = new UsageTap('bedrock');
  broken.push(Buffer.from('this is not an event stream at all'));
  assert.equal(broken.usage, undefined);
  const none = new UsageTap('anthropic');
  none.push(Buffer.from('event: ping\ndata: {"type":"ping"}\n\n'));
  assert.equal(none.usage, undefined);
});

function target(provider: 'gemini' | 'bedrock' | 'anthropic', name: string | null, options: Record<string, unknown> = {}, auth: Record<string, unknown> = {}): TargetConfig {
  return {
    route_type: 'llm/v1/chat',
    auth: {
      header_name: null, header_value: null, param_name: null, param_value: null, param_location: null,
      azure_use_managed_identity: false, azure_client_id: null, azure_client_secret: null, azure_tenant_id: null,
      gcp_use_service_account: false, gcp_service_account_json: null, aws_access_key_id: null, aws_secret_access_key: null,
      allow_override: false, ...auth,
    },
    model: { provider, name, options: options as never },
    logging: { log_statistics: true, log_payloads: false },
  } as TargetConfig;
}

function rc(llmFormat: 'gemini' | 'bedrock' | 'anthropic', requestPath: string, t: TargetConfig): RelayContext {
  return {
    plugin: 'ai-proxy', targets: [t], responseStreaming: 'allow', modelNameHeader: true, maxRequestBodySize: 1 << 20,
    pluginId: 'p', routeId: null, serviceId: null, workspace: 'default', startedAt: Date.now(), uriCaptures: null, requestPath, llmFormat,
  };
}

const client = (body: Record<string, unknown>, headers: Record<string, string> = {}) => ({ headers, query: new URLSearchParams(), body });

test('native call: the body unchanged to the native URL, the gateway\'s credential, the client\'s never', async () => {
  const env = {};
  const g = target('gemini', 'gemini-2.0-flash', {}, { header_name: 'x-goog-api-key', header_value: 'gw-key' });
  const gemini = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }], generationConfig: { temperature: 0.3 } };
  const pg = await prepareCall(g, rc('gemini', '/g/v1beta/models/gemini-2.0-flash:streamGenerateContent', g), client(gemini, { 'x-goog-api-key': 'client' }), 'r1', env);
  assert.ok(pg.ok);
  assert.equal(pg.call.request.url, 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse');
  assert.deepEqual(JSON.parse(pg.call.request.body), gemini);
  assert.equal(pg.call.request.headers['x-goog-api-key'], 'gw-key');
  assert.equal(pg.call.stream, true);
  assert.deepEqual(pg.call.body.messages, [{ role: 'user', content: 'hi' }], 'the OpenAI view, for estimates');

  const b = target('bedrock', 'amazon.nova-pro-v1:0', { bedrock: { aws_region: 'eu-west-1' } }, { aws_access_key_id: 'AKIAGW', aws_secret_access_key: 's' });
  const converse = { messages: [{ role: 'user', content: [{ text: 'hi' }] }] };
  const pb = await prepareCall(b, rc('bedrock', '/model/amazon.nova-pro-v1%3A0/converse', b),
    client(converse, { authorization: 'AWS4-HMAC-SHA256 Credential=AKIACLIENT/x', 'x-amz-security-token': 'tok', 'x-amz-date': '20200101T000000Z', 'amz-sdk-request': 'attempt=1', 'user-agent': 'aws-sdk-js' }), 'r2', env);
  assert.ok(pb.ok);
  assert.equal(pb.call.request.url, 'https://bedrock-runtime.eu-west-1.amazonaws.com/model/amazon.nova-pro-v1%3A0/converse');
  assert.match(pb.call.request.headers.authorization!, /^AWS4-HMAC-SHA256 Credential=AKIAGW\//);
  assert.equal(pb.call.request.headers['x-amz-security-token'], undefined);
  assert.equal(pb.call.request.headers['amz-sdk-request'], undefined);
  assert.notEqual(pb.call.request.headers['x-amz-date'], '20200101T000000Z');
  assert.equal(pb.call.request.headers['user-agent'], 'aws-sdk-js');
  assert.deepEqual(JSON.parse(pb.call.request.body), converse);

  const a = target('anthropic', null, { anthropic_version: '2023-06-01' }, { header_name: 'x-api-key', header_value: 'sk-gw' });
  const msg = { model: 'claude-x', max_tokens: 5, stream: true, system: 'be brief', messages: [{ role: 'user', content: 'hi' }] };
  const pa = await prepareCall(a, rc('anthropic', '/c/v1/messages', a), client(msg, { 'x-api-key': 'sk-client' }), 'r3', env);
  assert.ok(pa.ok);
  assert.equal(pa.call.request.url, 'https://api.anthropic.com/v1/messages');
  assert.equal(pa.call.request.headers['x-api-key'], 'sk-gw');
  assert.equal(pa.call.model, 'claude-x', 'no configured name: the body\'s model');
  assert.deepEqual(JSON.parse(pa.call.request.body), msg);
});

test('native call: Kong\'s checks, with Kong\'s messages', async () => {
  const g = target('gemini', 'gemini-2.0-flash');
  const p = (path: string, body: Record<string, unknown>, t = g, streaming: RelayContext['responseStreaming'] = 'allow') =>
    prepareCall(t, { ...rc('gemini', path, t), responseStreaming: streaming }, client(body), 'r', {});
  const contents = { contents: [{ parts: [{ text: 'hi' }] }] };
  const refused = async (x: ReturnType<typeof p>) => { const r = await x; return r.ok ? '' : `${r.status} ${r.message}`; };
  assert.equal(await refused(p('/v1beta/models/other:generateContent', contents)), '400 cannot use own model - must be: gemini-2.0-flash');
  assert.equal(await refused(p('/v1beta/models/gemini-2.0-flash:generateContent', {})), "400 request body doesn't contain valid prompts");
  assert.equal(await refused(p('/v1beta/models/gemini-2.0-flash:streamGenerateContent', contents, g, 'deny')), '400 response streaming is not enabled for this LLM');
  assert.match(await refused(p('/v1/chat/completions', contents)), /^400 this route serves Gemini's/);
  assert.equal(await refused(p('/v1beta/models/models%2Fgemini-2.0-flash:generateContent', contents)), '', 'models/<name> is the same model');
});

const proxyRefused = (c: Record<string, unknown>) => refusalOf(() => new AiProxy(c));
const advancedRefused = (c: Record<string, unknown>) => refusalOf(() => new AiProxyAdvanced(c));
const logging = { log_statistics: false, log_payloads: false };

test('native formats: configuration rules (Kong\'s for gemini and bedrock; anthropic ours; ai-proxy-advanced per target)', () => {
  assert.equal(proxyRefused({ route_type: 'llm/v1/chat', llm_format: 'gemini', model: { provider: 'gemini', name: 'g' }, logging }), '');
  assert.equal(proxyRefused({ route_type: 'llm/v1/chat', llm_format: 'bedrock', model: { provider: 'bedrock', name: 'b' }, logging }), '');
  assert.equal(proxyRefused({ route_type: 'llm/v1/chat', llm_format: 'anthropic', model: { provider: 'anthropic', options: { anthropic_version: '2023-06-01' } }, logging }), '');
  assert.match(proxyRefused({ route_type: 'llm/v1/chat', llm_format: 'anthropic', model: { provider: 'openai' }, logging }),
    /native llm_format 'anthropic' can only be used with the 'anthropic' model.provider/);
  assert.match(proxyRefused({ route_type: 'llm/v1/chat', llm_format: 'cohere', model: { provider: 'cohere' }, logging }), /llm_format/);

  const t = (provider: string, extra: Record<string, unknown> = {}) => ({ route_type: 'llm/v1/chat', model: { provider, name: 'm' }, logging, ...extra });
  assert.equal(advancedRefused({ llm_format: 'gemini', targets: [t('gemini'), t('gemini')] }), '');
  assert.match(advancedRefused({ llm_format: 'gemini', targets: [t('gemini'), t('openai')] }),
    /config.targets\[1\]: native llm_format 'gemini' can only be used with the 'gemini' model.provider/);
  assert.match(advancedRefused({ llm_format: 'bedrock', targets: [t('bedrock', { route_type: 'llm/v1/completions' })] }),
    /native provider options in llm_format can only be used with the 'llm\/v1\/chat' route_type/);
  assert.match(advancedRefused({ llm_format: 'cohere', targets: [t('cohere')] }), /llm_format 'cohere' \(the provider's native API\) is not supported by this build/);
});
