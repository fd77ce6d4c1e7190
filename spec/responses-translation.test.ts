// The Responses API over the chat translations (shared/responses/): requests to chat, chat answers and
// chat streams back to the Responses shapes, and the refusals of what needs OpenAI's state or tools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promptToRoute } from '../shared/relay/semantic-routing';
import { UsageTap } from '../shared/relay/usage-tap';
import { chatToResponse } from '../shared/responses/from-chat';
import { ResponsesStream, responsesSse } from '../shared/responses/stream';
import { responsesToChat } from '../shared/responses/to-chat';
import type { ResponsesRequest } from '../shared/responses/types';
import type { ChatCompletion, ChatCompletionChunk } from '../shared/openai/types';

const IDS = { base: 'r1', createdAt: 1_700_000_000 };

function chatOf(req: ResponsesRequest) {
  const r = responsesToChat(req);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.chat;
}

function refusal(req: ResponsesRequest) {
  const r = responsesToChat(req);
  assert.ok(!r.ok, 'refused');
  return r;
}

test('a string input is one user turn; instructions come first as the system turn', () => {
  assert.deepEqual(chatOf({ model: 'm', input: 'Hello', instructions: 'Be brief.' }), {
    model: 'm', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }],
  });
});

test('items become messages: parts, images, a function call joining the assistant turn, its output, reasoning dropped', () => {
  const chat = chatOf({
    input: [
      { role: 'developer', content: 'Use tools.' },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Weather in ' }, { type: 'input_text', text: 'Paris?' },
        { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' }] },
      { type: 'reasoning', id: 'rs_1', summary: [] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.', annotations: [] }] },
      { type: 'function_call', call_id: 'call_a', name: 'weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call', call_id: 'call_b', name: 'time', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_a', output: '{"c":21}' },
      { type: 'function_call_output', call_id: 'call_b', output: [{ type: 'input_text', text: '12:00' }] },
    ],
  });
  assert.deepEqual(chat.messages, [
    { role: 'developer', content: 'Use tools.' },
    { role: 'user', content: [{ type: 'text', text: 'Weather in ' }, { type: 'text', text: 'Paris?' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } }] },
    { role: 'assistant', content: 'Checking.', tool_calls: [
      { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
      { id: 'call_b', type: 'function', function: { name: 'time', arguments: '{}' } },
    ] },
    { role: 'tool', tool_call_id: 'call_a', content: '{"c":21}' },
    { role: 'tool', tool_call_id: 'call_b', content: '12:00' },
  ]);
  const alone = chatOf({ input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }] });
  assert.deepEqual(alone.messages, [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }]);
});

test('settings move to their chat names', () => {
  const chat = chatOf({
    input: 'x', max_output_tokens: 100, temperature: 0.2, top_p: 0.9, user: 'u', stream: true, parallel_tool_calls: false,
    tools: [{ type: 'function', name: 'f', description: 'd', parameters: { type: 'object', properties: {} }, strict: true }],
    tool_choice: { type: 'function', name: 'f' }, reasoning: { effort: 'low' }, metadata: { a: 'b' }, store: true,
    text: { format: { type: 'json_schema', name: 'S', schema: { type: 'object' }, strict: true } },
  });
  assert.deepEqual(chat, {
    messages: [{ role: 'user', content: 'x' }], max_tokens: 100, temperature: 0.2, top_p: 0.9, user: 'u',
    stream: true, stream_options: { include_usage: true }, parallel_tool_calls: false,
    tools: [{ type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object', properties: {} }, strict: true } }],
    tool_choice: { type: 'function', function: { name: 'f' } }, reasoning_effort: 'low',
    response_format: { type: 'json_schema', json_schema: { name: 'S', schema: { type: 'object' }, strict: true } },
  });
  assert.deepEqual(chatOf({ input: 'x', text: { format: { type: 'json_object' } } }).response_format, { type: 'json_object' });
  assert.equal(chatOf({ input: 'x', text: { format: { type: 'text' } } }).response_format, undefined);
});

test('what needs OpenAI\'s state or its own tools is refused, naming the field', () => {
  for (const [req, param] of [
    [{ input: 'x', previous_response_id: 'resp_1' }, 'previous_response_id'],
    [{ input: 'x', conversation: 'conv_1' }, 'conversation'],
    [{ input: 'x', prompt: { id: 'pmpt_1' } }, 'prompt'],
    [{ input: 'x', background: true }, 'background'],
    [{}, 'input'],
    [{ input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0]'],
    [{ input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] }, 'input[0].content[0]'],
    [{ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'f' }] }] }, 'input[0].content[0].file_id'],
    [{ input: [{ type: 'web_search_call', id: 'ws' }] }, 'input[0].type'],
    [{ input: 'x', tools: [{ type: 'web_search' }] }, 'tools[0].type'],
    [{ input: 'x', tool_choice: { type: 'file_search' } }, 'tool_choice.type'],
  ] as Array<[ResponsesRequest, string]>) {
    assert.equal(refusal(req).param, param, JSON.stringify(req));
  }
  assert.match(refusal({ input: 'x', previous_response_id: 'resp_1' }).message, /keeps no earlier responses; send the whole conversation in 'input'/);
});

const COMPLETION: ChatCompletion = {
  id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'claude-x',
  choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: 'Let me look.', tool_calls: [
    { id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
  ] } }],
  usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 4 } },
};

test('a chat answer as a response: a message item, function_call items keeping the call ids, usage renamed', () => {
  const r = chatToResponse(COMPLETION, { input: 'x', instructions: 'i', max_output_tokens: 50 }, IDS);
  assert.equal(r.id, 'resp_r1');
  assert.equal(r.object, 'response');
  assert.equal(r.status, 'completed');
  assert.equal(r.model, 'claude-x');
  assert.deepEqual(r.output, [
    { type: 'message', id: 'msg_r1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Let me look.', annotations: [] }] },
    { type: 'function_call', id: 'fc_r1_0', call_id: 'toolu_1', name: 'weather', arguments: '{"city":"Paris"}', status: 'completed' },
  ]);
  assert.deepEqual(r.usage, { input_tokens: 10, input_tokens_details: { cached_tokens: 4 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 });
  assert.equal(r.instructions, 'i');
  assert.equal(r.max_output_tokens, 50);
  assert.equal(r.store, false, 'nothing is stored');
  const cut = chatToResponse({ ...COMPLETION, choices: [{ index: 0, finish_reason: 'length', message: { role: 'assistant', content: 'Half' } }] }, { input: 'x' }, IDS);
  assert.equal(cut.status, 'incomplete');
  assert.deepEqual(cut.incomplete_details, { reason: 'max_output_tokens' });
});

const chunk = (delta: ChatCompletionChunk['choices'][0]['delta'], finish: ChatCompletionChunk['choices'][0]['finish_reason'] = null): ChatCompletionChunk => ({
  id: 'c', object: 'chat.completion.chunk', created: 1, model: 'claude-x', choices: [{ index: 0, delta, finish_reason: finish }],
});

test('a chat stream as typed events, numbered, ending with the response the whole answer would give', () => {
  const s = new ResponsesStream({ input: 'x' }, IDS, 'claude-x');
  const events = [
    ...s.start(),
    ...s.chunk(chunk({ role: 'assistant', content: '' })),
    ...s.chunk(chunk({ content: 'Let me ' })),
    ...s.chunk(chunk({ content: 'look.' })),
    ...s.chunk(chunk({ tool_calls: [{ index: 0, id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '' } }] })),
    ...s.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] })),
    ...s.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }, 'tool_calls')),
    ...s.chunk({ ...chunk({}), choices: [], usage: COMPLETION.usage }),
    ...s.end(),
  ];
  assert.deepEqual(events.map((e) => e.type), [
    'response.created', 'response.in_progress',
    'response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'response.output_text.delta',
    'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
    'response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.delta',
    'response.function_call_arguments.done', 'response.output_item.done',
    'response.completed',
  ]);
  assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
  const done = events.at(-1)!.response;
  assert.deepEqual(done, chatToResponse(COMPLETION, { input: 'x' }, IDS), 'the stream ends with the response the whole answer gives');
  assert.deepEqual(s.end(), [], 'ended once');
  assert.match(responsesSse(events[0]!), /^event: response\.created\ndata: \{"type":"response\.created","sequence_number":0,/);
});

test('a broken stream ends with an error event and response.failed', () => {
  const s = new ResponsesStream({ input: 'x' }, IDS, 'm');
  s.start();
  s.chunk(chunk({ content: 'Hal' }));
  const [error, failed] = s.fail('the provider broke the stream', 'server_error');
  assert.equal(error!.type, 'error');
  assert.equal(error!.message, 'the provider broke the stream');
  assert.equal(failed!.type, 'response.failed');
  assert.equal((failed!.response as { status: string }).status, 'failed');
  assert.deepEqual(s.end(), []);
});

test('semantic routing reads a Responses API request\'s prompt: a string input, or its last user message item', () => {
  assert.equal(promptToRoute({ input: 'refund my invoice' }), 'refund my invoice');
  assert.equal(promptToRoute({ input: [
    { role: 'user', content: 'first' },
    { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'ok', annotations: [] }] },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'my code' }, { type: 'input_text', text: 'crashes' }] },
    { type: 'function_call_output', call_id: 'c', output: 'x' },
  ] }), 'my code\ncrashes');
  assert.equal(promptToRoute({ messages: [{ role: 'user', content: 'chat wins' }], input: 'ignored' }), 'chat wins');
});

test('the usage of a passed-through Responses API stream comes from its closing event, however the bytes are split', () => {
  const events = [
    { type: 'response.created', sequence_number: 0, response: { model: 'gpt-4o', usage: null } },
    { type: 'response.output_text.delta', sequence_number: 1, delta: 'Hi' },
    { type: 'response.completed', sequence_number: 2, response: { model: 'gpt-4o-2024-08-06', usage: { input_tokens: 12, output_tokens: 3, total_tokens: 15 } } },
  ];
  const bytes = Buffer.from(events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join(''));
  for (const size of [1, 7, bytes.length]) {
    const tap = new UsageTap('openai-responses');
    for (let i = 0; i < bytes.length; i += size) tap.push(bytes.subarray(i, i + size));
    assert.deepEqual(tap.usage, { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 }, `pieces of ${size}`);
    assert.equal(tap.model, 'gpt-4o-2024-08-06');
  }
  const cut = new UsageTap('openai-responses');
  cut.push(bytes.subarray(0, bytes.indexOf('event: response.completed')));
  assert.equal(cut.usage, undefined, 'a stream cut before its end reports none (the counts are then estimated)');
});
