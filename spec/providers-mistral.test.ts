// Mistral facts the fixture walker cannot express: refused inputs, tool-call id mapping properties,
// a non-stream finish_reason "error", an error event in Mistral's own shape inside a stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mistralProvider } from '../shared/providers/mistral';
import { mistralToolCallId } from '../shared/providers/mistral/request';
import { ProviderStreamError, TranslationError, UpstreamFormatError, type TargetContext } from '../shared/providers/core/types';
import type { ChatRequest, OpenAIRequestBody } from '../shared/openai/types';
import { buildRequest } from './support/build-request';
import { contextFor } from './support/provider-case';

function ctx(extra: Partial<Parameters<typeof contextFor>[1]> = {}): TargetContext {
  return contextFor('mistral', { route_type: 'llm/v1/chat', model: 'mistral-small-latest', request: { messages: [] }, ...extra });
}

async function refused(req: OpenAIRequestBody, message: RegExp, c: TargetContext): Promise<void> {
  await assert.rejects(buildRequest(mistralProvider, req, c), (e: unknown) => e instanceof TranslationError && message.test(e.message));
}

test('tool call ids: Mistral-shaped ids are kept, others become 9 alphanumerics, the same way every time', () => {
  assert.equal(mistralToolCallId('gSIMJiOkT'), 'gSIMJiOkT');
  // Computed independently: the first 9 bytes of sha256(id), each mod 62, into a-zA-Z0-9.
  assert.equal(mistralToolCallId('call_8xZ3pQ1rT5vW2yA9bC4dE6fG'), '0zItgZcCK');
  const ids = ['call_1', 'call_2', 'toolu_01A09q90qw90lq917835lq9', 'turn1_0', 'gSIMJiOk', 'gSIMJiOkT1'];
  const mapped = ids.map(mistralToolCallId);
  for (const m of mapped) assert.match(m, /^[a-zA-Z0-9]{9}$/);
  assert.equal(new Set(mapped).size, ids.length);
  assert.deepEqual(ids.map(mistralToolCallId), mapped);
});

test('legacy completions are refused in openai format, served in ollama format', async () => {
  await refused({ prompt: 'Say hi' }, /no legacy completions/, ctx({ route_type: 'llm/v1/completions' }));
  const c = ctx({ route_type: 'llm/v1/completions', options: { mistral_format: 'ollama', upstream_url: 'http://ollama:11434' } });
  const req = await buildRequest(mistralProvider, { prompt: 'Say hi' }, c);
  assert.equal(req.url, 'http://ollama:11434/api/generate');
});

test('ollama format needs upstream_url', async () => {
  await refused({ messages: [{ role: 'user', content: 'hi' }] } as ChatRequest, /upstream_url/, ctx({ options: { mistral_format: 'ollama' } }));
});

test('a non-stream finish_reason "error" is a failure, not an answer', () => {
  const body = {
    id: 'x', object: 'chat.completion', created: 1, model: 'mistral-small-latest',
    choices: [{ index: 0, message: { role: 'assistant', content: 'partial' }, finish_reason: 'error' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
  assert.throws(() => mistralProvider.parseResponse(body, ctx()), UpstreamFormatError);
});

test("an error event in Mistral's own shape inside a stream keeps its status", () => {
  const c = ctx({ stream: true });
  const t = mistralProvider.streamTranslator(c);
  t.push({ data: JSON.stringify({ id: 'a', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }) });
  assert.throws(
    () => t.push({ data: JSON.stringify({ object: 'error', message: 'Tool call id was x but must be a-z, A-Z, 0-9, with a length of 9.', type: 'invalid_function_call', param: null, code: '3280', raw_status_code: 400 }) }),
    (e: unknown) => e instanceof ProviderStreamError && e.error.status === 400 && e.error.body.error.code === '3280'
      && e.error.body.error.type === 'invalid_request_error',
  );
});
