// A configuration no request could ever be served by is refused when Kong hands it to the plugin, naming
// the field, rather than failing every request later: route types a provider's format has no translation
// for, credentials a provider cannot take, Ollama without an address, half an AWS key pair, an Azure
// embeddings model without its address, vector-store settings out of range. And model.options.max_tokens
// wins over the client's on every provider, in the field the client used.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Plugin as AiProxy } from '../plugins/ai-proxy';
import { Plugin as AiProxyAdvanced } from '../plugins/ai-proxy-advanced';
import { bedrockProvider } from '../shared/providers/bedrock';
import { geminiProvider } from '../shared/providers/gemini';
import { openaiProvider } from '../shared/providers/openai';
import { sharedRelay } from '../shared/relay/server';
import type { OpenAIRequestBody } from '../shared/openai/types';
import { buildRequest } from './support/build-request';
import { contextFor } from './support/provider-case';
import { postJson, startTestGateway } from './support/test-gateway';
import { refusalOf } from './support/refusal';

// A plugin instance starts the relay of this process; the test ends with it closed.
after(() => Promise.all([sharedRelay('ai-proxy').close(), sharedRelay('ai-proxy-advanced').close()]));


const proxy = (routeType: string, model: Record<string, unknown>, auth?: Record<string, unknown>) =>
  refusalOf(() => new AiProxy({ route_type: routeType, model, ...(auth ? { auth } : {}), logging: {} }));

const ANTHROPIC = { provider: 'anthropic', name: 'claude', options: { anthropic_version: '2023-06-01' } };

test('a route type the provider, in its configured format, cannot serve is refused with Kong\'s message', () => {
  assert.match(proxy('llm/v1/embeddings', ANTHROPIC), /route_type: no transformer for anthropic:\/\/llm\/v1\/embeddings/);
  assert.equal(proxy('llm/v1/chat', ANTHROPIC), '');
  assert.match(proxy('llm/v1/completions', { provider: 'mistral', name: 'm', options: { mistral_format: 'openai' } }),
    /no transformer for mistral:\/\/llm\/v1\/completions/);
  assert.equal(proxy('llm/v1/completions', { provider: 'mistral', name: 'm', options: { mistral_format: 'ollama', upstream_url: 'http://ollama:11434' } }), '',
    'Ollama has legacy completions');
  assert.match(proxy('llm/v1/embeddings', { provider: 'llama2', name: 'l', options: { llama2_format: 'raw', upstream_url: 'http://tgi' } }),
    /no transformer for llama2:\/\/llm\/v1\/embeddings/);
  assert.equal(proxy('llm/v1/embeddings', { provider: 'llama2', name: 'l', options: { llama2_format: 'ollama', upstream_url: 'http://ollama' } }), '');
  // ai-proxy-advanced names the target.
  const m = refusalOf(() => new AiProxyAdvanced({ targets: [
    { route_type: 'llm/v1/chat', model: ANTHROPIC },
    { route_type: 'llm/v1/embeddings', model: ANTHROPIC },
  ] }));
  assert.match(m, /config\.targets\[1\]: targets\[1\]\.route_type: no transformer for anthropic:\/\/llm\/v1\/embeddings/);
});

test('credentials and addresses a provider cannot use are refused', () => {
  assert.match(proxy('llm/v1/chat', { provider: 'mistral', name: 'm', options: { mistral_format: 'ollama' } }),
    /must set 'model.options.upstream_url' for mistral provider with mistral_format 'ollama'/);
  const bedrock = { provider: 'bedrock', name: 'anthropic.claude-3', options: { bedrock: { aws_region: 'us-east-1' } } };
  assert.match(proxy('llm/v1/chat', bedrock, { aws_access_key_id: 'AKIAEXAMPLE' }),
    /all or none of these fields must be set: 'auth.aws_access_key_id', 'auth.aws_secret_access_key'/);
  assert.equal(proxy('llm/v1/chat', bedrock, { aws_access_key_id: 'AKIAEXAMPLE', aws_secret_access_key: 's' }), '');
  assert.equal(proxy('llm/v1/chat', bedrock), '', 'no keys: the environment or the AWS default chain');
  const geminiBody = { param_name: 'key', param_value: 'k', param_location: 'body' };
  assert.match(proxy('llm/v1/chat', { provider: 'gemini', name: 'gemini-2.0-flash' }, geminiBody),
    /auth\.param_location 'body' is not supported by the gemini provider/);
  assert.equal(proxy('preserve', { provider: 'gemini', name: 'gemini-2.0-flash' }, geminiBody), '', 'preserve sends the body as the client wrote it');
  assert.equal(proxy('llm/v1/chat', { provider: 'gemini', name: 'gemini-2.0-flash' }, { ...geminiBody, param_location: 'query' }), '');
  const vertex = { api_endpoint: 'us-east5-aiplatform.googleapis.com', project_id: 'p', location_id: 'us-east5' };
  const sa = { gcp_use_service_account: true };
  assert.match(proxy('llm/v1/chat', { provider: 'gemini', name: 'claude-sonnet-4@20250514', options: { gemini: vertex } }, sa),
    /model\.name: 'claude-sonnet-4@20250514' is a Vertex AI partner model, which is not served in Gemini's format/);
  assert.equal(proxy('llm/v1/chat', { provider: 'gemini', name: 'gemini-2.5-pro', options: { gemini: vertex } }, sa), '');
  assert.equal(proxy('llm/v1/chat', { provider: 'gemini', name: '$(headers.x-model)', options: { gemini: vertex } }, sa), '', 'templated: checked per request');
});

test('semantic routing: the embeddings model and the vector store are checked as targets are', () => {
  const targets = [
    { route_type: 'llm/v1/chat', description: 'billing', model: { provider: 'openai', name: 'a' } },
    { route_type: 'llm/v1/chat', description: 'CATCHALL', model: { provider: 'openai', name: 'b' } },
  ];
  const advanced = (extra: Record<string, unknown>) => refusalOf(() => new AiProxyAdvanced({ targets, balancer: { algorithm: 'semantic' }, ...extra }));
  const openaiEmbeddings = { model: { provider: 'openai', name: 'text-embedding-3-small' } };
  assert.equal(advanced({ embeddings: openaiEmbeddings }), '');
  assert.match(advanced({ embeddings: { model: { provider: 'azure', name: 'e', options: { azure: { instance: 'i' } } } } }),
    /must set 'embeddings.model.options.azure.deployment_id' \(or 'embeddings.model.options.upstream_url'\) for the azure embeddings provider/);
  assert.equal(advanced({ embeddings: { model: { provider: 'azure', name: 'e', options: { azure: { instance: 'i', deployment_id: 'd' } } } } }), '');
  assert.match(advanced({ embeddings: { model: { provider: 'openai', name: 'e', options: { upstream_url: 'ftp://x' } } } }),
    /embeddings\.model\.options\.upstream_url: must be an http or https URL/);
  assert.match(advanced({ embeddings: { ...openaiEmbeddings, auth: { header_name: 'Authorization' } } }),
    /'embeddings\.auth\.header_name', 'embeddings\.auth\.header_value'/);
  const redis = (r: Record<string, unknown>) => advanced({ embeddings: openaiEmbeddings,
    vectordb: { strategy: 'redis', dimensions: 8, distance_metric: 'cosine', threshold: 0.5, redis: r } });
  assert.equal(redis({ host: 'redis' }), '');
  assert.match(redis({ port: 0 }), /port/);
  assert.match(redis({ database: -1 }), /database/);
  const pg = (p: Record<string, unknown>) => advanced({ embeddings: openaiEmbeddings,
    vectordb: { strategy: 'pgvector', dimensions: 8, distance_metric: 'cosine', threshold: 0.5, pgvector: p } });
  assert.equal(pg({ host: 'pg' }), '');
  assert.match(pg({ timeout: 0 }), /timeout/);
  assert.match(pg({ ssl_cert: '-----BEGIN CERTIFICATE-----' }), /ssl_cert_key/);
});

test('through the plugin server: a target no request could be served by fails closed, the reason in Kong\'s log', async () => {
  const t = await startTestGateway({ config: { _format_version: '3.0', services: [{ name: 'ai', url: 'http://127.0.0.1:9', routes: [{
    name: 'r', paths: ['/t'], plugins: [{ name: 'ai-proxy', config: { route_type: 'llm/v1/embeddings', model: ANTHROPIC } }],
  }] }] } });
  try {
    const r = await postJson(`${t.url}/t`, { model: 'claude', input: 'x' });
    assert.equal(r.status, 500);
    assert.ok(t.gw.kongLog.some((l) => l.message.includes('no transformer for anthropic://llm/v1/embeddings')), t.gw.kongLog.map((l) => l.message).join('\n'));
  } finally {
    await t.close();
  }
});

const CHAT = (extra: Record<string, unknown>) => ({ messages: [{ role: 'user', content: 'hi' }], ...extra }) as unknown as OpenAIRequestBody;

test('model.options.max_tokens wins over the client\'s, in the field the client used', async () => {
  const options = { max_tokens: 64, upstream_url: 'http://127.0.0.1:9/v1/chat/completions' };
  const openaiBody = async (extra: Record<string, unknown>) => JSON.parse((await buildRequest(openaiProvider, CHAT(extra),
    contextFor('openai', { route_type: 'llm/v1/chat', model: 'o3', options, request: CHAT(extra) }))).body as string) as Record<string, unknown>;
  // A reasoning model's client sends max_completion_tokens; a max_tokens beside it would be refused.
  const reasoning = await openaiBody({ max_completion_tokens: 4000 });
  assert.equal(reasoning.max_completion_tokens, 64);
  assert.equal(reasoning.max_tokens, undefined);
  assert.equal((await openaiBody({ max_tokens: 4000 })).max_tokens, 64);
  assert.equal((await openaiBody({})).max_tokens, 64);

  const gemini = JSON.parse((await buildRequest(geminiProvider, CHAT({ max_completion_tokens: 4000 }), contextFor('gemini',
    { route_type: 'llm/v1/chat', model: 'gemini-2.0-flash', options: { max_tokens: 64 }, auth: { param_name: 'key', param_value: 'k', param_location: 'query' },
      request: CHAT({}) }))).body as string) as { generationConfig: { maxOutputTokens: number } };
  assert.equal(gemini.generationConfig.maxOutputTokens, 64);

  const bedrock = JSON.parse((await buildRequest(bedrockProvider, CHAT({ max_tokens: 4000 }), contextFor('bedrock',
    { route_type: 'llm/v1/chat', model: 'amazon.nova-lite-v1:0', options: { max_tokens: 64, bedrock: { aws_region: 'us-east-1' } as never },
      auth: { aws_access_key_id: 'AKIAEXAMPLE', aws_secret_access_key: 's' }, request: CHAT({}) }))).body as string) as { inferenceConfig: { maxTokens: number } };
  assert.equal(bedrock.inferenceConfig.maxTokens, 64);
});
