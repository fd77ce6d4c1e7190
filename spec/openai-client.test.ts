// The real `openai` npm client (v6, which runs on Node 20) against the local gateway as `npm start` runs
// it (dist/tools/local-gateway/gateway-main.js, its built-in fake provider), with a deck of two ai-proxy routes:
// chat (plain, streamed, with usage), embeddings (the client asks for base64 and decodes it), and a tool
// call, plain and streamed, then the tool's result.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { FAKE_EMBEDDING_DIMENSIONS } from '../tools/local-gateway/fake-openai';
import { aiProxyRoute, freePort, startLocalGateway, type LocalGateway } from './support/local-gateway';

function deck(fakePort: number): string {
  const route = (name: string, path: string, routeType: string, model: string, upstream: string) =>
    aiProxyRoute({ name, path, routeType, provider: 'openai', model, upstreamUrl: `http://127.0.0.1:${fakePort}${upstream}` });
  return `_format_version: "3.0"
services:
  - name: fake-llm
    url: http://127.0.0.1:65535
    routes:${route('chat', '/v1/chat/completions', 'llm/v1/chat', 'fake-llm-1', '/v1/chat/completions')}${route('embeddings', '/v1/embeddings', 'llm/v1/embeddings', 'fake-embedding-1', '/v1/embeddings')}
`;
}

let local: LocalGateway;
let client: OpenAI;

before(async () => {
  const fakePort = await freePort();
  local = await startLocalGateway(deck(fakePort), `127.0.0.1:${fakePort}`);
  client = new OpenAI({ baseURL: `${local.url}/v1`, apiKey: 'sk-client-key-not-forwarded', maxRetries: 0, timeout: 10_000 });
});

after(async () => {
  await local?.close();
});

const weather: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } },
};

test('openai client: a chat completion', async () => {
  const r = await client.chat.completions.create({ model: 'fake-llm-1', messages: [{ role: 'user', content: 'Hello!' }] });
  assert.equal(r.object, 'chat.completion');
  assert.match(r.choices[0]!.message.content ?? '', /fake LLM/);
  assert.ok(r.usage && r.usage.total_tokens > 0);
});

test('openai client: a stream, and a stream with usage', async () => {
  const stream = await client.chat.completions.create({ model: 'fake-llm-1', messages: [{ role: 'user', content: 'Stream please' }], stream: true });
  let text = '';
  let chunks = 0;
  for await (const c of stream) {
    chunks++;
    text += c.choices[0]?.delta.content ?? '';
    assert.equal(c.usage ?? undefined, undefined, 'no usage for a client that did not ask');
  }
  assert.ok(chunks > 3, `${chunks} chunks`);
  assert.match(text, /fake LLM/);

  const withUsage = await client.chat.completions.create({ model: 'fake-llm-1', messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true } });
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const c of withUsage) if (c.usage) usage = c.usage;
  assert.ok(usage && usage.completion_tokens > 0);
});

test('openai client: embeddings (the client asks for base64 and decodes it)', async () => {
  const r = await client.embeddings.create({ model: 'fake-embedding-1', input: ['one', 'two words'] });
  assert.equal(r.data.length, 2);
  assert.equal(r.data[0]!.embedding.length, FAKE_EMBEDDING_DIMENSIONS);
  assert.ok(r.data[0]!.embedding.every((x) => typeof x === 'number' && Number.isFinite(x)));
});

test('openai client: a tool call, plain and streamed, then the answer with the tool result', async () => {
  const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
  const r = await client.chat.completions.create({ model: 'fake-llm-1', messages, tools: [weather] });
  const call = r.choices[0]!.message.tool_calls![0]!;
  assert.equal(r.choices[0]!.finish_reason, 'tool_calls');
  assert.equal(call.type, 'function');
  assert.equal(call.type === 'function' ? call.function.name : '', 'get_weather');
  assert.deepEqual(JSON.parse(call.type === 'function' ? call.function.arguments : '{}'), { location: 'fake' });

  const stream = client.chat.completions.stream({ model: 'fake-llm-1', messages, tools: [weather] });
  const final = await stream.finalChatCompletion();
  const streamed = final.choices[0]!.message.tool_calls![0]!;
  assert.equal(streamed.type === 'function' ? streamed.function.name : '', 'get_weather');
  assert.deepEqual(JSON.parse(streamed.type === 'function' ? streamed.function.arguments : '{}'), { location: 'fake' });

  const answer = await client.chat.completions.create({
    model: 'fake-llm-1', tools: [weather],
    messages: [...messages, r.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '{"temp_c": 18}' }],
  });
  assert.match(answer.choices[0]!.message.content ?? '', /fake LLM/);
});

test('openai client: the gateway\'s errors are the errors it knows', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.BadRequestError);
    assert.equal(e.status, 400);
    assert.match(e.message, /cannot use own model - must be: fake-llm-1/);
    return true;
  });
});
