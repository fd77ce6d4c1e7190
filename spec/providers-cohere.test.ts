// Cohere translation facts the fixture walker cannot express: base64 embeddings (which need the request
// and the response of one call), refusals, a failed non-stream generation, a stream without its end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeEmbeddings } from '../shared/openai/embeddings-encoding';
import { cohereProvider } from '../shared/providers/cohere';
import { TranslationError, UpstreamFormatError, type TargetContext } from '../shared/providers/core/types';
import type { ChatRequest, EmbeddingsList, OpenAIRequestBody } from '../shared/openai/types';
import { buildRequest } from './support/build-request';
import { contextFor } from './support/provider-case';

function ctx(extra: Partial<Parameters<typeof contextFor>[1]> = {}): TargetContext {
  return contextFor('cohere', { route_type: 'llm/v1/chat', model: 'command-a-03-2025', request: { messages: [] }, ...extra });
}

const user = (content: string): ChatRequest => ({ messages: [{ role: 'user', content }] });

async function refused(req: OpenAIRequestBody, message: RegExp, c = ctx()): Promise<void> {
  await assert.rejects(buildRequest(cohereProvider, req, c), (e: unknown) => e instanceof TranslationError && message.test(e.message));
}

const embedResponse = {
  id: 'e1', embeddings: { float: [[0.5, -1.25, 3]] }, texts: ['a'],
  meta: { api_version: { version: '2' }, billed_units: { input_tokens: 1 } }, response_type: 'embeddings_by_type',
};

test('encoding_format base64 gives little-endian float32 bytes, as OpenAI encodes them', async () => {
  const c = ctx({ route_type: 'llm/v1/embeddings', model: 'embed-v4.0' });
  const req = JSON.parse((await buildRequest(cohereProvider, { input: 'a', encoding_format: 'base64' }, c)).body) as Record<string, unknown>;
  assert.deepEqual(req.embedding_types, ['float'], 'Cohere has no base64 type: floats are requested');
  const floats = cohereProvider.parseResponse(embedResponse, c) as EmbeddingsList;
  assert.deepEqual(floats.data[0]!.embedding, [0.5, -1.25, 3]);
  // The proxy encodes what the client asked for, once for every provider.
  const b64 = encodeEmbeddings(floats, 'base64').data[0]!.embedding as string;
  const bytes = Buffer.from(b64, 'base64');
  assert.deepEqual([0, 1, 2].map((i) => bytes.readFloatLE(i * 4)), [0.5, -1.25, 3]);
  assert.equal(encodeEmbeddings(floats, 'float'), floats);
});

test('tool_choice none is NONE; auto sends nothing', async () => {
  const tools = [{ type: 'function' as const, function: { name: 'f', parameters: { type: 'object' } } }];
  const b = async (r: ChatRequest) => JSON.parse((await buildRequest(cohereProvider, r, ctx())).body) as Record<string, unknown>;
  assert.equal((await b({ ...user('hi'), tools, tool_choice: 'none' })).tool_choice, 'NONE');
  assert.equal((await b({ ...user('hi'), tools, tool_choice: 'auto' })).tool_choice, undefined);
  assert.equal((await b({ ...user('hi'), tools })).strict_tools, undefined, 'strict_tools only when every tool is strict');
});

test('requests cohere cannot take are refused with a clear message', async () => {
  const tools = [{ type: 'function' as const, function: { name: 'f' } }];
  await refused({ ...user('x'), tools, tool_choice: { type: 'function', function: { name: 'g' } } }, /'g', which is not in tools/);
  await refused({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] }, /input_audio/);
  await refused({ messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] }, /image_url/);
  await refused({ input: [[1, 2, 3]] } as unknown as OpenAIRequestBody, /text input/, ctx({ route_type: 'llm/v1/embeddings', model: 'embed-v4.0' }));
  await refused({ ...user('x'), n: 3 }, /n > 1/);
});

test('a non-stream generation that ended in ERROR is an upstream format error, not an answer', () => {
  assert.throws(() => cohereProvider.parseResponse({ id: 'x', message: { role: 'assistant', content: [] }, finish_reason: 'ERROR' }, ctx()),
    UpstreamFormatError);
});

test('a stream without message-end fails at end(); TIMEOUT in message-end is a 504 stream error', () => {
  const t = cohereProvider.streamTranslator(ctx({ stream: true }));
  t.push({ event: 'message-start', data: '{"id":"s1","type":"message-start","delta":{"message":{"role":"assistant"}}}' });
  t.push({ event: 'content-delta', data: '{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"Hi"}}}}' });
  assert.throws(() => t.end(), UpstreamFormatError);

  const u = cohereProvider.streamTranslator(ctx({ stream: true }));
  assert.throws(() => u.push({ event: 'message-end', data: '{"type":"message-end","delta":{"finish_reason":"TIMEOUT"}}' }),
    (e: unknown) => (e as { error?: { status?: number } }).error?.status === 504);
});

test('usage falls back to billed units when token counts are absent', () => {
  const t = cohereProvider.streamTranslator(ctx({ stream: true }));
  t.push({ event: 'message-end', data: '{"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":3,"output_tokens":4}}}}' });
  assert.deepEqual(t.end().usage, { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
});
