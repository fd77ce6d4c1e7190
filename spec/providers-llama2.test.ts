// Llama (llama2) facts the fixture walker cannot express: what each format refuses, and the Llama-2
// template for conversations the fixtures do not cover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { llama2Provider } from '../shared/providers/llama2';
import { llama2ChatPrompt } from '../shared/providers/llama2/raw';
import { TranslationError, type TargetContext } from '../shared/providers/core/types';
import type { ChatRequest, OpenAIRequestBody } from '../shared/openai/types';
import { buildRequest } from './support/build-request';
import { contextFor } from './support/provider-case';

function ctx(options: Parameters<typeof contextFor>[1]['options'], extra: Partial<Parameters<typeof contextFor>[1]> = {}): TargetContext {
  return contextFor('llama2', { route_type: 'llm/v1/chat', model: 'llama2', request: { messages: [] }, options, ...extra });
}

const RAW = { llama2_format: 'raw' as const, upstream_url: 'http://tgi:8080' };
const OLLAMA = { llama2_format: 'ollama' as const, upstream_url: 'http://ollama:11434' };
const tools = [{ type: 'function' as const, function: { name: 'f', parameters: { type: 'object' } } }];

async function refused(req: OpenAIRequestBody, message: RegExp, c: TargetContext): Promise<void> {
  await assert.rejects(buildRequest(llama2Provider, req, c), (e: unknown) => e instanceof TranslationError && message.test(e.message));
}

test('llama2_format and upstream_url are required', async () => {
  const chat: ChatRequest = { messages: [{ role: 'user', content: 'hi' }] };
  await refused(chat, /llama2_format/, ctx({ upstream_url: 'http://x:1' }));
  await refused(chat, /upstream_url/, ctx({ llama2_format: 'openai' }));
});

test('raw format: no tools, no tool messages, no images, no embeddings', async () => {
  await refused({ messages: [{ role: 'user', content: 'hi' }], tools }, /no tool calling/, ctx(RAW));
  await refused({ messages: [{ role: 'user', content: 'hi' }, { role: 'tool', tool_call_id: 'c', content: '1' }] }, /no tool calling/, ctx(RAW));
  await refused({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }] }] }, /text only/, ctx(RAW));
  await refused({ input: 'hi' }, /no embeddings/, ctx(RAW, { route_type: 'llm/v1/embeddings' }));
});

test('batched prompts are refused', async () => {
  await refused({ prompt: ['a', 'b'] } as unknown as OpenAIRequestBody, /one prompt/, ctx(RAW, { route_type: 'llm/v1/completions' }));
  await refused({ prompt: ['a', 'b'] } as unknown as OpenAIRequestBody, /one prompt/, ctx(OLLAMA, { route_type: 'llm/v1/completions' }));
});

test('ollama format: images only as data URLs; tool arguments must be JSON', async () => {
  await refused({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] }, /base64 data: URLs/, ctx(OLLAMA));
  await refused({ messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"city":' } }] }] },
    /not valid JSON/, ctx(OLLAMA));
});

test('ollama format: tool_choice none sends no tools, a named function only that one', async () => {
  const two = [...tools, { type: 'function' as const, function: { name: 'g' } }];
  const none = JSON.parse((await buildRequest(llama2Provider, { messages: [{ role: 'user', content: 'hi' }], tools: two, tool_choice: 'none' }, ctx(OLLAMA))).body) as Record<string, unknown>;
  assert.equal(none.tools, undefined);
  const named = JSON.parse((await buildRequest(llama2Provider, { messages: [{ role: 'user', content: 'hi' }], tools: two,
    tool_choice: { type: 'function', function: { name: 'g' } } }, ctx(OLLAMA))).body) as { tools: Array<{ function: { name: string } }> };
  assert.deepEqual(named.tools.map((t) => t.function.name), ['g']);
});

test('Llama-2 template: system prompts joined, consecutive user messages merged, no system block without one', () => {
  assert.equal(llama2ChatPrompt({ messages: [
    { role: 'system', content: 'Be brief.' }, { role: 'developer', content: 'Use metric units.' },
    { role: 'user', content: 'Height of the Eiffel tower?' }, { role: 'user', content: [{ type: 'text', text: 'In metres.' }] },
  ] }), '<s>[INST] <<SYS>>\nBe brief.\nUse metric units.\n<</SYS>>\n\nHeight of the Eiffel tower?\n\nIn metres. [/INST]');
  assert.equal(llama2ChatPrompt({ messages: [
    { role: 'user', content: 'Hi' }, { role: 'assistant', content: ' Hello! ' }, { role: 'user', content: 'Bye' },
  ] }), '<s>[INST] Hi [/INST] Hello! </s><s>[INST] Bye [/INST]');
});
