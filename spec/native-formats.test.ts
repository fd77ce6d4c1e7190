// Native formats (llm_format gemini, bedrock, anthropic) with the providers' real SDKs: @google/genai,
// @aws-sdk/client-bedrock-runtime and @anthropic-ai/sdk against the local gateway as `npm start` runs it
// (dist/tools/local-gateway/gateway-main.js, a deck file), and a fake provider speaking each native API
// (spec/fakes/native-providers.ts). Answers and streams reach the client as the provider sent them; the
// configured model is enforced with the provider's error shape; the gateway's own credentials reach
// the provider (Bedrock: signed anew); ai-prompt-guard reads each format; usage is in the relay's log line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { GoogleGenAI } from '@google/genai';
// The client's own HTTP/1.1 handler (it defaults to HTTP/2 for Bedrock Runtime; Kong's proxy port speaks HTTP/1.1).
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { freePort, startLocalGateway, type LocalGateway } from './support/local-gateway';
import {
  anthropicAnswer, anthropicEvents, bedrockAnswer, bedrockEvents, COUNTS, geminiAnswer, geminiChunks, NativeProviders,
} from './fakes/native-providers';

const GEMINI_MODEL = 'gemini-2.0-flash';
const BEDROCK_MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
const CLAUDE_MODEL = 'claude-3-5-haiku-20241022';
const GATEWAY_AWS_KEY = 'AKIAGATEWAYNATIVE01';

/** One ai-proxy route per format, and the same behind ai-prompt-guard (`/guarded-<format>`). */
function deck(fake: string, refused: string): string {
  const proxy: Record<string, string> = {
    gemini: `
              llm_format: gemini
              auth: { header_name: x-goog-api-key, header_value: AIza-gateway-own-key }
              model:
                provider: gemini
                name: ${GEMINI_MODEL}
                options: { upstream_url: "${fake}/v1beta/models/${GEMINI_MODEL}:generateContent" }`,
    bedrock: `
              llm_format: bedrock
              auth: { aws_access_key_id: ${GATEWAY_AWS_KEY}, aws_secret_access_key: gateway-aws-secret }
              model:
                provider: bedrock
                name: "${BEDROCK_MODEL}"
                options: { upstream_url: "${fake}", bedrock: { aws_region: us-east-1 } }`,
    anthropic: `
              llm_format: anthropic
              auth: { header_name: x-api-key, header_value: sk-ant-gateway-own-key }
              model:
                provider: anthropic
                name: ${CLAUDE_MODEL}
                options: { upstream_url: "${fake}", anthropic_version: "2023-06-01" }`,
  };
  const route = (name: string, format: string, guarded: boolean) => `
      - name: ${name}
        paths: [/${name}]
        plugins:${guarded ? `
          - name: ai-prompt-guard
            config: { deny_patterns: [forbidden], llm_format: ${format} }` : ''}
          - name: ai-proxy
            config:
              route_type: llm/v1/chat
              logging: { log_statistics: true }${proxy[format]}`;
  // ai-proxy-advanced with a native format: the first target cannot be reached, the second is the fake.
  const advanced = `
      - name: advanced-anthropic
        paths: [/advanced-anthropic]
        plugins:
          - name: ai-proxy-advanced
            config:
              llm_format: anthropic
              balancer: { algorithm: priority, retries: 2 }
              targets:${[refused, fake].map((url, i) => `
                - route_type: llm/v1/chat
                  weight: ${100 - i * 50}
                  logging: { log_statistics: true }
                  auth: { header_name: x-api-key, header_value: sk-ant-gateway-own-key }
                  model:
                    provider: anthropic
                    name: ${CLAUDE_MODEL}
                    options: { upstream_url: "${url}", anthropic_version: "2023-06-01" }`).join('')}`;
  const routes = Object.keys(proxy).map((f) => route(f, f, false) + route(`guarded-${f}`, f, true)).join('') + advanced;
  return `_format_version: "3.0"
services:
  - name: native
    url: http://127.0.0.1:65535
    routes:${routes}
`;
}

let local: LocalGateway;
let gw: string;
const fake = new NativeProviders();

before(async () => {
  await fake.listen();
  local = await startLocalGateway(deck(fake.url, `http://127.0.0.1:${await freePort()}`), 'off');
  gw = local.url;
});

after(async () => {
  await local?.close();
  await fake.close();
});

type LogLine = Record<string, unknown> & { ai?: { proxy?: { usage?: Record<string, number> } } };

const relayLines = () => local.relayLines() as LogLine[];

/** Waits for the log line reporting these counts from this provider, and checks it. */
async function usageLogged(provider: string, [prompt, completion]: readonly [number, number], stream: boolean): Promise<void> {
  const until = Date.now() + 5000;
  for (;;) {
    const line = relayLines().find((l) => l.provider === provider && l.ai?.proxy?.usage?.prompt_tokens === prompt);
    if (line) {
      assert.deepEqual(
        { completion: line.ai!.proxy!.usage!.completion_tokens, total: line.ai!.proxy!.usage!.total_tokens, estimated: line.usage_estimated, stream: line.stream, status: line.status },
        { completion, total: prompt + completion, estimated: false, stream, status: 200 },
      );
      return;
    }
    if (Date.now() > until) throw new Error(`no log line for ${provider} with ${prompt} prompt tokens:\n${relayLines().map((l) => JSON.stringify(l)).join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
const last = <T>(xs: readonly T[]): T => xs[xs.length - 1]!;

function gemini(route = 'gemini'): GoogleGenAI {
  return new GoogleGenAI({ apiKey: 'client-own-gemini-key', httpOptions: { baseUrl: `${gw}/${route}` } });
}

function bedrock(route = 'bedrock'): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    region: 'us-east-1', endpoint: `${gw}/${route}`, maxAttempts: 1, requestHandler: new NodeHttpHandler(),
    credentials: { accessKeyId: 'AKIACLIENTOWNKEY', secretAccessKey: 'client-secret', sessionToken: 'client-session-token' },
  });
}

function anthropic(route = 'anthropic'): Anthropic {
  return new Anthropic({ baseURL: `${gw}/${route}`, apiKey: 'sk-ant-client-own-key', maxRetries: 0, timeout: 10_000 });
}

test('native gemini: generateContent and generateContentStream pass through, with the gateway key, usage logged', async () => {
  const r = await gemini().models.generateContent({ model: GEMINI_MODEL, contents: 'Hello' });
  assert.deepEqual(plain({ candidates: r.candidates, usageMetadata: r.usageMetadata, modelVersion: r.modelVersion, responseId: r.responseId }), geminiAnswer);
  const seen = last(fake.received);
  assert.equal(seen.url, `/v1beta/models/${GEMINI_MODEL}:generateContent`);
  assert.equal(seen.headers['x-goog-api-key'], 'AIza-gateway-own-key');
  assert.deepEqual(seen.body.contents, [{ parts: [{ text: 'Hello' }], role: 'user' }], 'the body as the client sent it');
  await usageLogged('gemini', COUNTS.geminiPlain, false);

  const chunks: unknown[] = [];
  for await (const c of await gemini().models.generateContentStream({ model: GEMINI_MODEL, contents: 'Stream please' })) {
    chunks.push(plain({ candidates: c.candidates, usageMetadata: c.usageMetadata, modelVersion: c.modelVersion, responseId: c.responseId }));
  }
  assert.deepEqual(chunks, geminiChunks);
  assert.equal(last(fake.received).url, `/v1beta/models/${GEMINI_MODEL}:streamGenerateContent?alt=sse`);
  await usageLogged('gemini', COUNTS.geminiStream, true);
});

test('native bedrock: Converse and ConverseStream pass through, signed anew with the gateway key, usage logged', async () => {
  const r = await bedrock().send(new ConverseCommand({ modelId: BEDROCK_MODEL, messages: [{ role: 'user', content: [{ text: 'Hello' }] }] }));
  assert.deepEqual(plain({ output: r.output, stopReason: r.stopReason, usage: r.usage, metrics: r.metrics }), bedrockAnswer);
  const seen = last(fake.received);
  assert.equal(seen.url, `/model/${encodeURIComponent(BEDROCK_MODEL)}/converse`);
  assert.match(String(seen.headers.authorization), new RegExp(`^AWS4-HMAC-SHA256 Credential=${GATEWAY_AWS_KEY}/\\d{8}/us-east-1/bedrock/aws4_request, SignedHeaders=`));
  const all = JSON.stringify(seen.headers);
  assert.ok(!all.includes('AKIACLIENTOWNKEY') && !all.includes('client-session-token'), `the client's signature never passes: ${all}`);
  assert.deepEqual(seen.body.messages, [{ role: 'user', content: [{ text: 'Hello' }] }]);
  await usageLogged('bedrock', COUNTS.bedrockPlain, false);

  const s = await bedrock().send(new ConverseStreamCommand({ modelId: BEDROCK_MODEL, messages: [{ role: 'user', content: [{ text: 'Stream please' }] }] }));
  const events: unknown[] = [];
  for await (const e of s.stream!) {
    const [[type, payload]] = Object.entries(plain(e) as Record<string, Record<string, unknown>>) as [[string, Record<string, unknown>]];
    delete payload.p;
    events.push([type, payload]);
  }
  assert.deepEqual(events, bedrockEvents);
  assert.equal(last(fake.received).url, `/model/${encodeURIComponent(BEDROCK_MODEL)}/converse-stream`);
  assert.match(String(last(fake.received).headers.authorization), new RegExp(`Credential=${GATEWAY_AWS_KEY}/`));
  await usageLogged('bedrock', COUNTS.bedrockStream, true);
});

test('native anthropic: messages.create plain and stream: true pass through, with the gateway key, usage logged', async () => {
  const r = await anthropic().messages.create({ model: CLAUDE_MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }] });
  assert.deepEqual(plain(r), anthropicAnswer);
  const seen = last(fake.received);
  assert.equal(seen.url, '/v1/messages');
  assert.equal(seen.headers['x-api-key'], 'sk-ant-gateway-own-key');
  assert.equal(seen.headers['anthropic-version'], '2023-06-01');
  assert.deepEqual(seen.body, { model: CLAUDE_MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }] });
  await usageLogged('anthropic', COUNTS.anthropicPlain, false);

  const events: unknown[] = [];
  for await (const e of await anthropic().messages.create({ model: CLAUDE_MODEL, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'Stream please' }] })) {
    events.push(plain(e));
  }
  assert.deepEqual(events, anthropicEvents.filter((e) => e.type !== 'ping'), 'the SDK drops pings');
  await usageLogged('anthropic', COUNTS.anthropicStream, true);
});

test('native anthropic on ai-proxy-advanced: a target that cannot be reached, then the next, the answer unchanged', async () => {
  const r = await anthropic('advanced-anthropic').messages.create({ model: CLAUDE_MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }] });
  assert.deepEqual(plain(r), anthropicAnswer);
  assert.equal(last(fake.received).headers['x-api-key'], 'sk-ant-gateway-own-key');
  const events: unknown[] = [];
  for await (const e of await anthropic('advanced-anthropic').messages.create({ model: CLAUDE_MODEL, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'Stream please' }] })) {
    events.push(plain(e));
  }
  assert.deepEqual(events, anthropicEvents.filter((e) => e.type !== 'ping'));
  const line = await waitForLine((l) => l.plugin === 'ai-proxy-advanced' && l.stream === true);
  assert.equal(line.attempts, 2, 'the unreachable target was tried first');
  assert.equal(line.usage_estimated, false);
});

/** Polls the relay's log lines for one that `match` accepts. */
async function waitForLine(match: (l: LogLine) => boolean): Promise<LogLine> {
  const until = Date.now() + 5000;
  for (;;) {
    const line = relayLines().find(match);
    if (line) return line;
    if (Date.now() > until) throw new Error('no such log line');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('native formats: answers and streams are byte-equal to what the provider sent', async () => {
  const cases: Array<[string, unknown]> = [
    [`/gemini/v1beta/models/${GEMINI_MODEL}:generateContent`, { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }],
    [`/gemini/v1beta/models/${GEMINI_MODEL}:streamGenerateContent?alt=sse`, { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }],
    [`/bedrock/model/${encodeURIComponent(BEDROCK_MODEL)}/converse`, { messages: [{ role: 'user', content: [{ text: 'hi' }] }] }],
    [`/bedrock/model/${encodeURIComponent(BEDROCK_MODEL)}/converse-stream`, { messages: [{ role: 'user', content: [{ text: 'hi' }] }] }],
    ['/anthropic/v1/messages', { model: CLAUDE_MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }],
    ['/anthropic/v1/messages', { model: CLAUDE_MODEL, max_tokens: 8, stream: true, messages: [{ role: 'user', content: 'hi' }] }],
  ];
  for (const [path, body] of cases) {
    const r = await fetch(`${gw}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bytes = Buffer.from(await r.arrayBuffer());
    assert.equal(r.status, 200, path);
    assert.ok(bytes.equals(last(fake.sent)), `${path}: ${bytes.length} bytes, the provider sent ${last(fake.sent).length}`);
  }
});

test('native formats: the configured model is enforced, in each provider\'s error shape', async () => {
  await assert.rejects(gemini().models.generateContent({ model: 'gemini-1.5-pro', contents: 'Hello' }), (e: Error & { status?: number }) => {
    assert.equal(e.status, 400);
    assert.match(e.message, new RegExp(`cannot use own model - must be: ${GEMINI_MODEL}`));
    assert.match(e.message, /INVALID_ARGUMENT/);
    return true;
  });
  await assert.rejects(bedrock().send(new ConverseCommand({ modelId: 'amazon.nova-pro-v1:0', messages: [{ role: 'user', content: [{ text: 'Hello' }] }] })),
    (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(e.name, 'ValidationException');
      assert.equal(e.$metadata?.httpStatusCode, 400);
      assert.equal(e.message, `cannot use own model - must be: ${BEDROCK_MODEL}`);
      return true;
    });
  await assert.rejects(anthropic().messages.create({ model: 'claude-opus-4-1', max_tokens: 8, messages: [{ role: 'user', content: 'Hello' }] }),
    (e: unknown) => {
      assert.ok(e instanceof Anthropic.BadRequestError, String(e));
      assert.deepEqual(e.error, { type: 'error', error: { type: 'invalid_request_error', message: `cannot use own model - must be: ${CLAUDE_MODEL}` } });
      return true;
    });
  // The gateway's other errors too: a body that is not JSON, a path that is not the format's.
  const notJson = await fetch(`${gw}/gemini/v1beta/models/${GEMINI_MODEL}:generateContent`, { method: 'POST', body: 'not json' });
  assert.equal(notJson.status, 400);
  const nj = await notJson.json() as { error: { code: number; status: string } };
  assert.deepEqual([nj.error.code, nj.error.status], [400, 'INVALID_ARGUMENT']);
  const wrongPath = await fetch(`${gw}/bedrock/model/x/invoke`, { method: 'POST', body: '{}' });
  assert.equal(wrongPath.status, 400);
  assert.equal(wrongPath.headers.get('x-amzn-errortype'), 'ValidationException');
  assert.match(((await wrongPath.json()) as { message: string }).message, /converse/);
});

test('native formats: ai-prompt-guard blocks a denied prompt in each format, and lets others through', async () => {
  const before = fake.received.length;
  await assert.rejects(gemini('guarded-gemini').models.generateContent({ model: GEMINI_MODEL, contents: 'a forbidden prompt' }),
    (e: Error & { status?: number }) => e.status === 400);
  await assert.rejects(bedrock('guarded-bedrock').send(new ConverseCommand({ modelId: BEDROCK_MODEL, messages: [{ role: 'user', content: [{ text: 'a forbidden prompt' }] }] })),
    (e: Error & { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 400);
  await assert.rejects(anthropic('guarded-anthropic').messages.create({ model: CLAUDE_MODEL, max_tokens: 8, messages: [{ role: 'user', content: [{ type: 'text', text: 'a forbidden prompt' }] }] }),
    (e: unknown) => e instanceof Anthropic.BadRequestError);
  assert.equal(fake.received.length, before, 'no blocked prompt reached the provider');

  const ok = await gemini('guarded-gemini').models.generateContent({ model: GEMINI_MODEL, contents: 'a fine prompt' });
  assert.equal(ok.text, 'Hello from Gemini.');
  const okB = await bedrock('guarded-bedrock').send(new ConverseCommand({ modelId: BEDROCK_MODEL, messages: [{ role: 'user', content: [{ text: 'a fine prompt' }] }] }));
  assert.equal(okB.stopReason, 'end_turn');
  const okA = await anthropic('guarded-anthropic').messages.create({ model: CLAUDE_MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'a fine prompt' }] });
  assert.equal(okA.id, anthropicAnswer.id);
});
