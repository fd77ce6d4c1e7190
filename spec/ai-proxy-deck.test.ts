// A deck file in Kong's own ai-proxy format (spec/fixtures/decks/kong-ai-proxy.yaml) validates and runs
// unchanged: Kong's schema rules (the harness) and the plugin's own checks (StartInstance) accept every
// route, and the routes whose provider is local answer, plain and streamed, in OpenAI's format.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { DeckProviders } from './fakes/deck-providers';
import { FakeOpenAI } from '../tools/local-gateway/fake-openai';
import { PROVIDER_FIXTURES, sseDataValues } from './support/provider-case';
import { postJson, startTestGateway, type TestGateway } from './support/test-gateway';

const DECK = resolve(__dirname, '../../spec/fixtures/decks/kong-ai-proxy.yaml');
const FAKE_PORT = 18089;

const fixture = (p: string) => readFileSync(resolve(PROVIDER_FIXTURES, p));

let openai: FakeOpenAI;
let fake: DeckProviders;
let t: TestGateway;

before(async () => {
  openai = new FakeOpenAI();
  await openai.listen();
  // One address for the deck's local providers: OpenAI-format paths go to the OpenAI fake, Anthropic and
  // Ollama answer from their fixtures.
  fake = new DeckProviders(openai, (path, body) => {
    if (path === '/v1/messages') {
      const stream = body.stream === true;
      return { contentType: stream ? 'text/event-stream' : 'application/json',
        body: stream ? fixture('anthropic/chat-stream/stream.txt') : fixture('anthropic/chat-basic/response.json') };
    }
    if (path === '/api/chat') return { body: fixture('llama2/ollama-chat/response.json') };
    if (path === '/v1/preserved') return { body: JSON.stringify({ preserved: body }) };
    return undefined;
  });
  await fake.listen(FAKE_PORT);
  t = await startTestGateway({ config: parse(readFileSync(DECK, 'utf8')) as unknown });
});

after(async () => {
  await t?.close();
  await fake?.close();
  await openai?.close();
});

const chat = (extra: Record<string, unknown> = {}) => ({ messages: [{ role: 'user', content: 'What is 1 + 1?' }], ...extra });

test('the deck validates: every route starts its plugin instance (Kong\'s schema, then the plugin\'s checks)', async () => {
  // A route whose config the plugin refused would answer 500; Gemini/Bedrock/Azure/Cohere/HF point at the
  // real providers, so only the config is exercised for them: a request without a body is refused by the
  // relay's own checks (400), which means the instance started and handed the request over.
  for (const path of ['/gemini/chat', '/vertex/chat', '/bedrock/chat', '/azure/chat', '/cohere/completions', '/hf/chat']) {
    const r = await postJson(`${t.url}${path}`, {});
    assert.equal(r.status, 400, `${path}: ${r.text}`);
  }
  assert.ok(!t.gw.kongLog.some((l) => /schema violation|ConfigError|starting instance/.test(l.message)), t.gw.kongLog.map((l) => l.message).join('\n'));
});

test('the deck runs: OpenAI with config options, any model, streams; Anthropic; Ollama; Mistral with streaming denied; preserve', async () => {
  const o = await postJson(`${t.url}/openai/chat`, chat({ max_tokens: 5 }));
  assert.equal(o.status, 200, o.text);
  assert.equal(o.headers.get('x-kong-llm-model'), 'openai/gpt-4o');
  assert.equal(openai.requests.at(-1)!.headers.authorization, 'Bearer sk-deck-openai-key-000000');
  assert.equal((JSON.parse(openai.requests.at(-1)!.body) as { max_tokens: number }).max_tokens, 512);

  const anyModel = await postJson(`${t.url}/openai/any`, chat({ model: 'gpt-4o-mini' }));
  assert.equal((anyModel.json as { model: string }).model, 'gpt-4o-mini');
  const stream = await postJson(`${t.url}/openai/any`, chat({ model: 'gpt-4o-mini', stream: true }));
  assert.equal(stream.headers.get('content-type'), 'text/event-stream');
  assert.equal(sseDataValues(stream.text).at(-1), '[DONE]');

  const a = await postJson(`${t.url}/anthropic/chat`, chat());
  assert.equal(a.status, 200, a.text);
  assert.equal((a.json as { object: string }).object, 'chat.completion');
  const sent = fake.seen.find((s) => s.url === '/v1/messages')!;
  assert.equal(sent.headers['x-api-key'], 'sk-ant-deck-key-0000000000');
  assert.equal(sent.headers['anthropic-version'], '2023-06-01');
  assert.equal(sent.body.max_tokens, 1024);
  const as = await postJson(`${t.url}/anthropic/chat`, chat({ stream: true }));
  assert.equal(as.headers.get('content-type'), 'text/event-stream');
  assert.equal(sseDataValues(as.text).at(-1), '[DONE]');

  const ol = await postJson(`${t.url}/ollama/chat`, chat());
  assert.equal(ol.status, 200, ol.text);
  assert.match((ol.json as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content, /1 \+ 1 is 2/);

  assert.equal((await postJson(`${t.url}/mistral/chat`, chat())).status, 200);
  const denied = await postJson(`${t.url}/mistral/chat`, chat({ stream: true }));
  assert.equal(denied.status, 400);

  const p = await postJson(`${t.url}/openai/preserve`, { anything: ['goes'] });
  assert.deepEqual(p.json, { preserved: { anything: ['goes'] } });
});
