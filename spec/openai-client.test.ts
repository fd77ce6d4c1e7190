// The real `openai` npm client (v6, which runs on Node 20) against the local gateway as `npm start` runs
// it (dist/tools/local-gateway/gateway-main.js, its built-in fake provider), with a deck of two ai-proxy routes:
// chat (plain, streamed, with usage), embeddings (the client asks for base64 and decodes it), and a tool
// call, plain and streamed, then the tool's result.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI from 'openai';
import { FAKE_EMBEDDING_DIMENSIONS } from '../tools/local-gateway/fake-openai';

const MAIN = resolve(__dirname, '../tools/local-gateway/gateway-main.js');

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

function deck(fakePort: number): string {
  const route = (name: string, path: string, routeType: string, model: string, upstream: string) => `
      - name: ${name}
        paths: [${path}]
        plugins:
          - name: ai-proxy
            config:
              route_type: ${routeType}
              auth:
                header_name: Authorization
                header_value: Bearer sk-gateway-own-key
              model:
                provider: openai
                name: ${model}
                options:
                  upstream_url: http://127.0.0.1:${fakePort}${upstream}
              logging:
                log_statistics: true`;
  return `_format_version: "3.0"
services:
  - name: fake-llm
    url: http://127.0.0.1:65535
    routes:${route('chat', '/v1/chat/completions', 'llm/v1/chat', 'fake-llm-1', '/v1/chat/completions')}${route('embeddings', '/v1/embeddings', 'llm/v1/embeddings', 'fake-embedding-1', '/v1/embeddings')}
`;
}

let child: ChildProcess;
let dir: string;
let client: OpenAI;
const output: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openai-client-'));
  const [proxyPort, fakePort] = [await freePort(), await freePort()];
  writeFileSync(join(dir, 'kong.yaml'), deck(fakePort));
  child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      KONG_DECLARATIVE_CONFIG: join(dir, 'kong.yaml'),
      KONG_PROXY_LISTEN: `127.0.0.1:${proxyPort}`,
      FAKE_LLM_LISTEN: `127.0.0.1:${fakePort}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`the gateway did not start:\n${output.join('')}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      output.push(d.toString());
      if (output.join('').includes('listening on http://')) { clearTimeout(timer); res(); }
    });
    child.once('exit', (code) => { clearTimeout(timer); rej(new Error(`the gateway exited (${code}):\n${output.join('')}`)); });
  });
  client = new OpenAI({ baseURL: `http://127.0.0.1:${proxyPort}/v1`, apiKey: 'sk-client-key-not-forwarded', maxRetries: 0, timeout: 10_000 });
});

after(async () => {
  if (child.exitCode === null) {
    await new Promise<void>((res) => { child.once('exit', () => res()); child.kill('SIGTERM'); });
  }
  rmSync(dir, { recursive: true, force: true });
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
