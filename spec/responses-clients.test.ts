// The clients that use OpenAI's Responses API today, against the local gateway as `npm start` runs it
// (dist/tools/local-gateway/gateway-main.js and its fake provider), on llm/v1/responses routes: the
// `openai` client's responses.create and responses.stream (plain, streamed, a tool call and its result)
// and the Vercel AI SDK (`generateText` / `streamText` with its default model, which calls /responses,
// and with `.chat()`, which calls /chat/completions). One route passes the Responses API through to the
// OpenAI-format provider; the other gives it to a provider that only speaks chat (llama2's OpenAI
// format on the same fake), so the gateway translates both ways. Usage reaches the relay's log line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, jsonSchema, streamText, tool } from 'ai';
import { aiProxyRoute, freePort, startLocalGateway, type LocalGateway } from './support/local-gateway';

function deck(fakePort: number): string {
  const route = (name: string, path: string, routeType: string, provider: string, upstream: string, options: string[] = []) =>
    aiProxyRoute({ name, path, routeType, provider, model: 'fake-llm-1', upstreamUrl: `http://127.0.0.1:${fakePort}${upstream}`, options });
  return `_format_version: "3.0"
services:
  - name: fake-llm
    url: http://127.0.0.1:65535
    routes:${route('native', '/native/v1/responses', 'llm/v1/responses', 'openai', '/v1/responses')}${route('translated', '/translated/v1/responses', 'llm/v1/responses', 'llama2', '/v1/chat/completions', ['llama2_format: openai'])}${route('chat', '/translated/v1/chat/completions', 'llm/v1/chat', 'openai', '/v1/chat/completions')}
`;
}

let local: LocalGateway;
let base = '';

before(async () => {
  const fakePort = await freePort();
  local = await startLocalGateway(deck(fakePort), `127.0.0.1:${fakePort}`);
  base = local.url;
});

after(async () => {
  await local?.close();
});

const ROUTES = ['native', 'translated'] as const;
const client = (route: string) => new OpenAI({ baseURL: `${base}/${route}/v1`, apiKey: 'sk-client-key-not-forwarded', maxRetries: 0, timeout: 10_000 });

const weather: OpenAI.Responses.FunctionTool = {
  type: 'function', name: 'get_weather', description: 'Current weather', strict: false,
  parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
};

for (const route of ROUTES) {
  test(`openai client, ${route}: responses.create`, async () => {
    const r = await client(route).responses.create({ model: 'fake-llm-1', input: 'Hello!', instructions: 'Be brief.' });
    assert.equal(r.object, 'response');
    assert.equal(r.status, 'completed');
    assert.match(r.output_text, /fake LLM \(development only\) answering: Hello!/);
    assert.ok(r.usage && r.usage.input_tokens > 0 && r.usage.output_tokens > 0, JSON.stringify(r.usage));
  });

  test(`openai client, ${route}: a streamed response, event by event and with the stream helper`, async () => {
    const events: string[] = [];
    let text = '';
    let completed: OpenAI.Responses.Response | undefined;
    for await (const e of await client(route).responses.create({ model: 'fake-llm-1', input: 'Stream please', stream: true })) {
      events.push(e.type);
      if (e.type === 'response.output_text.delta') text += e.delta;
      if (e.type === 'response.completed') completed = e.response;
    }
    assert.equal(events[0], 'response.created');
    assert.equal(events.at(-1), 'response.completed');
    assert.ok(events.filter((t) => t === 'response.output_text.delta').length > 1, events.join(' '));
    assert.match(text, /fake LLM \(development only\) answering: Stream please/);
    assert.ok(completed?.usage && completed.usage.output_tokens > 0, 'usage in response.completed');

    const final = await client(route).responses.stream({ model: 'fake-llm-1', input: 'Again' }).finalResponse();
    assert.match(final.output_text, /answering: Again/);
  });

  test(`openai client, ${route}: a tool call, plain and streamed, then the answer with its output`, async () => {
    const c = client(route);
    const r = await c.responses.create({ model: 'fake-llm-1', input: 'Weather in Paris?', tools: [weather] });
    const call = r.output.find((o): o is OpenAI.Responses.ResponseFunctionToolCall => o.type === 'function_call');
    assert.ok(call, JSON.stringify(r.output));
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.arguments), { location: 'fake' });

    const streamed = await c.responses.stream({ model: 'fake-llm-1', input: 'Weather in Paris?', tools: [weather] }).finalResponse();
    const sCall = streamed.output.find((o) => o.type === 'function_call');
    assert.ok(sCall?.type === 'function_call', JSON.stringify(streamed.output));
    assert.equal(sCall.name, 'get_weather');
    assert.deepEqual(JSON.parse(sCall.arguments), { location: 'fake' });

    const answer = await c.responses.create({
      model: 'fake-llm-1', tools: [weather],
      input: [{ role: 'user', content: 'Weather in Paris?' }, call, { type: 'function_call_output', call_id: call.call_id, output: '{"temp_c": 18}' }],
    });
    assert.match(answer.output_text, /fake LLM/);
  });
}

test('openai client: what needs state the gateway does not keep is the client\'s 400, naming the field', async () => {
  await assert.rejects(client('translated').responses.create({ model: 'fake-llm-1', input: 'x', previous_response_id: 'resp_123' }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.BadRequestError);
    assert.equal(e.param, 'previous_response_id');
    assert.match(e.message, /keeps no earlier responses/);
    return true;
  });
  await assert.rejects(client('native').responses.create({ model: 'gpt-4o', input: 'x' }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.BadRequestError);
    assert.match(e.message, /cannot use own model - must be: fake-llm-1/);
    return true;
  });
});

test('usage of passed-through and translated streams reaches the relay\'s log line', async () => {
  for (const route of ROUTES) {
    const { data, response } = await client(route).responses.create({ model: 'fake-llm-1', input: 'Count me', stream: true }).withResponse();
    let completed: OpenAI.Responses.Response | undefined;
    for await (const e of data) if (e.type === 'response.completed') completed = e.response;
    const id = response.headers.get('x-kong-request-id');
    const deadline = Date.now() + 3000;
    let line: Record<string, unknown> | undefined;
    while (!line && Date.now() < deadline) {
      line = local.relayLines().find((l) => l.request_id === id);
      if (!line) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(line, `${route}: the relay's line of ${id}`);
    const usage = (line.ai as { proxy: { usage: { prompt_tokens: number; completion_tokens: number } } } | undefined)?.proxy.usage;
    assert.equal(usage?.completion_tokens, completed?.usage?.output_tokens, `${route}: ${JSON.stringify(line)}`);
    assert.equal(usage?.prompt_tokens, completed?.usage?.input_tokens);
    assert.equal(line.usage_estimated, false, 'counted by the provider, not estimated');
  }
});

test('Vercel AI SDK: generateText and streamText with the default (Responses) model and with .chat()', async () => {
  const sdk = createOpenAI({ baseURL: `${base}/translated/v1`, apiKey: 'sk-client-key-not-forwarded' });
  const plain = await generateText({ model: sdk('fake-llm-1'), prompt: 'Hello from the AI SDK' });
  assert.match(plain.text, /answering: Hello from the AI SDK/);
  assert.ok((plain.usage.outputTokens ?? 0) > 0, JSON.stringify(plain.usage));

  const streamed = streamText({ model: sdk('fake-llm-1'), prompt: 'Stream from the AI SDK' });
  let text = '';
  for await (const part of streamed.textStream) text += part;
  assert.match(text, /answering: Stream from the AI SDK/);
  assert.ok(((await streamed.usage).outputTokens ?? 0) > 0);

  const called = await generateText({
    model: sdk('fake-llm-1'), prompt: 'Weather in Paris?',
    tools: { get_weather: tool({ description: 'Current weather', inputSchema: jsonSchema<{ location: string }>({ type: 'object', properties: { location: { type: 'string' } }, required: ['location'] }) }) },
  });
  assert.equal(called.toolCalls[0]?.toolName, 'get_weather');
  assert.deepEqual(called.toolCalls[0]?.input, { location: 'fake' });

  const chat = await generateText({ model: sdk.chat('fake-llm-1'), prompt: 'Hello over chat' });
  assert.match(chat.text, /answering: Hello over chat/);
});
