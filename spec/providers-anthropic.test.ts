// Anthropic translation facts the fixture walker cannot express: requests refused with a clear message,
// defaults, and stream states (partial usage, a stream without its end marker).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anthropicProvider } from '../shared/providers/anthropic';
import { TranslationError, UpstreamFormatError, type TargetContext } from '../shared/providers/core/types';
import type { ChatRequest, OpenAIRequestBody } from '../shared/openai/types';
import { buildRequest } from './support/build-request';
import { contextFor } from './support/provider-case';

function ctx(extra: Partial<Parameters<typeof contextFor>[1]> = {}): TargetContext {
  return contextFor('anthropic', { route_type: 'llm/v1/chat', model: 'claude-sonnet-4-5', request: { messages: [] }, ...extra });
}

async function body(req: OpenAIRequestBody, c = ctx()): Promise<Record<string, unknown>> {
  return JSON.parse((await buildRequest(anthropicProvider, req, c)).body) as Record<string, unknown>;
}

const user = (content: ChatRequest['messages'][number]['content']): ChatRequest => ({ messages: [{ role: 'user', content }] });

async function refused(req: OpenAIRequestBody, message: RegExp): Promise<void> {
  await assert.rejects(buildRequest(anthropicProvider, req, ctx()), (e: unknown) => e instanceof TranslationError && message.test(e.message));
}

test('anthropic has no embeddings route', () => {
  assert.deepEqual([...anthropicProvider.routeTypes].sort(), ['llm/v1/chat', 'llm/v1/completions', 'preserve']);
});

test('anthropic-version defaults to 2023-06-01 when the option is unset, and follows the option', async () => {
  assert.equal((await buildRequest(anthropicProvider, user('hi'), ctx())).headers['anthropic-version'], '2023-06-01');
  const c = ctx({ options: { anthropic_version: '2099-01-01' } });
  assert.equal((await buildRequest(anthropicProvider, user('hi'), c)).headers['anthropic-version'], '2099-01-01');
});

test('max_tokens: option, else max_tokens, else max_completion_tokens, else 4096', async () => {
  assert.equal((await body({ ...user('hi'), max_tokens: 10, max_completion_tokens: 20 }, ctx({ options: { max_tokens: 5 } }))).max_tokens, 5);
  assert.equal((await body({ ...user('hi'), max_tokens: 10, max_completion_tokens: 20 })).max_tokens, 10);
  assert.equal((await body({ ...user('hi'), max_completion_tokens: 20 })).max_tokens, 20);
  assert.equal((await body(user('hi'))).max_tokens, 4096);
});

test('tool_choice none, and parallel_tool_calls false without a tool_choice', async () => {
  const tools = [{ type: 'function' as const, function: { name: 'f', parameters: { type: 'object' } } }];
  assert.deepEqual((await body({ ...user('hi'), tools, tool_choice: 'none' })).tool_choice, { type: 'none' });
  assert.deepEqual((await body({ ...user('hi'), tools, parallel_tool_calls: false })).tool_choice, { type: 'auto', disable_parallel_tool_use: true });
  assert.deepEqual((await body({ ...user('hi'), tools, tool_choice: { type: 'function', function: { name: 'f' } } })).tool_choice, { type: 'tool', name: 'f' });
  assert.equal((await body({ ...user('hi'), tool_choice: 'auto' })).tool_choice, undefined, 'no tools: no tool_choice');
});

test('an empty assistant turn is dropped; a tool call with empty arguments gets an empty input', async () => {
  const b = await body({ messages: [
    { role: 'user', content: 'a' }, { role: 'assistant', content: '' }, { role: 'user', content: 'b' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '' } }] },
  ] });
  assert.deepEqual(b.messages, [
    { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }] },
  ]);
});

test('json_object response_format forces the JSON tool with an open object schema', async () => {
  const b = await body({ ...user('give JSON'), response_format: { type: 'json_object' } });
  assert.deepEqual(b.tool_choice, { type: 'tool', name: 'json_response_format' });
  assert.deepEqual((b.tools as Array<{ input_schema: unknown }>)[0]!.input_schema, { type: 'object' });
});

test('requests anthropic cannot take are refused with a clear message', async () => {
  await refused(user([{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,Qk0=' } }]), /image\/bmp/);
  await refused(user([{ type: 'image_url', image_url: { url: 'ftp://example.com/a.png' } }]), /data URIs or http/);
  await refused(user([{ type: 'input_audio', input_audio: { data: 'AAA', format: 'wav' } }]), /input_audio/);
  await refused({ messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{bad' } }] }] },
    /not valid JSON/);
  await refused({ ...user('x'), tools: [{ type: 'function', function: { name: 'json_response_format' } }] }, /reserved/);
  await refused({ ...user('x'), tools: [{ type: 'function', function: { name: 'f' } }], response_format: { type: 'json_object' } },
    /cannot be combined with tools/);
  await refused({ ...user('x'), response_format: { type: 'json_schema', json_schema: { name: 'a', schema: { type: 'array' } } } }, /JSON object/);
  await refused({ ...user('x'), n: 2 }, /n > 1/);
  await refused({ messages: [{ role: 'tool', content: 'r' }] } as unknown as ChatRequest, /tool_call_id/);
});

test('a stream without message_stop fails at end(), with the usage known so far', () => {
  const t = anthropicProvider.streamTranslator(ctx({ stream: true }));
  t.push({ event: 'message_start', data: JSON.stringify({ type: 'message_start', message: { id: 'msg_1', model: 'm', usage: { input_tokens: 9, output_tokens: 1 } } }) });
  assert.deepEqual(t.usage(), { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 });
  t.push({ event: 'message_delta', data: JSON.stringify({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 4 } }) });
  assert.deepEqual(t.usage(), { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 });
  assert.throws(() => t.end(), UpstreamFormatError);
});

test('stream events: unknown and thinking events are ignored; invalid JSON is an upstream format error', () => {
  const t = anthropicProvider.streamTranslator(ctx({ stream: true }));
  assert.deepEqual(t.push({ event: 'content_block_start', data: '{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}' }), []);
  assert.deepEqual(t.push({ event: 'content_block_delta', data: '{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}' }), []);
  assert.deepEqual(t.push({ event: 'future_event', data: '{"type":"future_event"}' }), []);
  assert.throws(() => t.push({ event: 'content_block_delta', data: '{"type":' }), UpstreamFormatError);
});

test('an error event maps its type to the status: rate limits 429, overload 529', () => {
  for (const [type, status] of [['rate_limit_error', 429], ['overloaded_error', 529], ['api_error', 500]] as const) {
    const t = anthropicProvider.streamTranslator(ctx({ stream: true }));
    assert.throws(() => t.push({ event: 'error', data: JSON.stringify({ type: 'error', error: { type, message: 'x' } }) }),
      (e: unknown) => (e as { error?: { status?: number } }).error?.status === status);
  }
});
