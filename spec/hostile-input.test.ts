// Hostile input, generated (fast-check): malformed, wrongly typed, deeply nested, huge and binary bodies
// and odd headers, through ai-proxy for every provider, ai-proxy-advanced and the guard, each in front
// of a healthy fake provider replaying its fixture cases. Every request must get a 4xx OpenAI-style
// error or a correct answer: never a 5xx from our code, a crash or a hang. A failure prints its seed:
// FC_SEED=<seed> replays the run (FC_RUNS sets the runs per route).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { getProvider } from '../shared/providers/core/registry';
import { FixtureProvider } from './fakes/fixture-provider';
import { casePlugin } from './support/case-plugin';
import { loadCases } from './support/provider-case';
import { startTestGateway, type TestGateway } from './support/test-gateway';

const RUNS = Number(process.env.FC_RUNS ?? 250);
const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() % 2_147_483_647;
const MAX_BODY = 65_536;
const REQUEST_TIMEOUT_MS = 15_000;

/** provider: [the case that answers, the case whose stream it sends]. */
const ROUTES: Record<string, [string, string]> = {
  openai: ['openai/chat-basic', 'openai/chat-stream'],
  azure: ['azure/chat-basic', 'azure/chat-stream'],
  anthropic: ['anthropic/chat-basic', 'anthropic/chat-stream'],
  bedrock: ['bedrock/chat-basic', 'bedrock/chat-stream'],
  cohere: ['cohere/chat-basic', 'cohere/chat-stream'],
  gemini: ['gemini/chat-basic', 'gemini/chat-stream'],
  huggingface: ['huggingface/chat-basic', 'huggingface/chat-stream'],
  mistral: ['mistral/chat-basic', 'mistral/chat-stream'],
  'llama2-openai': ['llama2/openai-chat', 'llama2/openai-chat-stream'],
  'llama2-raw': ['llama2/raw-chat', 'llama2/raw-chat-stream'],
  'llama2-ollama': ['llama2/ollama-chat', 'llama2/ollama-chat-tool-call-stream'],
};

const byId = new Map(loadCases().map((c) => [`${c.provider}/${c.name}`, c]));
const fakes: FixtureProvider[] = [];
let t: TestGateway;

before(async () => {
  const routes: Array<{ name: string; paths: string[]; plugins: unknown[] }> = [];
  const envs: Record<string, string> = {};
  let openaiFake = '';
  for (const [name, [answer, stream]] of Object.entries(ROUTES)) {
    const c = byId.get(answer)!;
    const s = byId.get(stream)!;
    const p = getProvider(c.provider);
    const fake = new FixtureProvider(c, p.framing(c.ctx), 3, s);
    fake.reply = 'auto';
    await fake.listen();
    fakes.push(fake);
    if (name === 'openai') openaiFake = fake.url;
    Object.assign(envs, c.input.env ?? {});
    routes.push({ name, paths: [`/h/${name}`], plugins: [casePlugin(c, fake.url, { max_request_body_size: MAX_BODY })] });
  }
  const openai = byId.get('openai/chat-basic')!;
  routes.push({
    name: 'guard', paths: ['/h/guard'],
    plugins: [
      { name: 'ai-prompt-guard', config: { deny_patterns: ['(?i)ignore previous', '\\d{3}-\\d{2}-\\d{4}'], allow_patterns: ['.'], max_request_body_size: MAX_BODY } },
      casePlugin(openai, openaiFake, { max_request_body_size: MAX_BODY }),
    ],
  });
  const target = casePlugin(openai, openaiFake).config;
  routes.push({
    name: 'advanced', paths: ['/h/advanced'],
    plugins: [{ name: 'ai-proxy-advanced', config: { targets: [{ ...target, weight: 100 }, { ...target, weight: 100 }], max_request_body_size: MAX_BODY } }],
  });
  t = await startTestGateway({ config: { _format_version: '3.0', services: [{ name: 'ai', url: 'http://127.0.0.1:9', routes }] }, layout: { env: envs } });
});

after(async () => {
  await t?.close();
  for (const f of fakes) await f.close();
});

// ---- generators -------------------------------------------------------------------------------
const anything = fc.jsonValue({ maxDepth: 4 });
const maybe = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: anything });
const role = fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool', 'function', 'model', '', 'USER');
const part = fc.record({
  type: maybe(fc.constantFrom('text', 'image_url', 'input_audio', 'file', 'refusal')),
  text: maybe(fc.string()),
  image_url: maybe(fc.oneof(fc.record({ url: maybe(fc.webUrl()), detail: maybe(fc.constantFrom('auto', 'low', 'high')) }), fc.webUrl())),
}, { requiredKeys: [] });
const toolCall = fc.record({
  id: maybe(fc.string()), type: maybe(fc.constant('function')),
  function: maybe(fc.record({ name: maybe(fc.string()), arguments: maybe(fc.string()) }, { requiredKeys: [] })),
}, { requiredKeys: [] });
const message = fc.record({
  role: maybe(role),
  content: fc.oneof(fc.string(), fc.constant(null), fc.array(part, { maxLength: 4 }), anything),
  name: maybe(fc.string()),
  tool_calls: maybe(fc.array(toolCall, { maxLength: 3 })),
  tool_call_id: maybe(fc.string()),
}, { requiredKeys: ['role'] });
const tool = fc.record({
  type: maybe(fc.constant('function')),
  function: maybe(fc.record({ name: maybe(fc.string()), description: maybe(fc.string()), parameters: maybe(fc.object()) }, { requiredKeys: [] })),
}, { requiredKeys: [] });
/** A chat request whose every field may have the wrong type. */
const chatRequest = fc.record({
  messages: fc.oneof({ weight: 5, arbitrary: fc.array(message, { minLength: 1, maxLength: 5 }) }, { weight: 1, arbitrary: anything }),
  model: maybe(fc.string()),
  stream: maybe(fc.boolean()),
  stream_options: maybe(fc.record({ include_usage: maybe(fc.boolean()) }, { requiredKeys: [] })),
  max_tokens: maybe(fc.integer({ min: -5, max: 100_000 })),
  temperature: maybe(fc.double({ min: -1, max: 3, noNaN: true })),
  top_p: maybe(fc.double({ min: -1, max: 2, noNaN: true })),
  stop: maybe(fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 6 }))),
  tools: maybe(fc.array(tool, { maxLength: 3 })),
  tool_choice: maybe(fc.oneof(fc.constantFrom('auto', 'none', 'required', 'sometimes'), fc.record({ type: maybe(fc.constant('function')), function: maybe(fc.record({ name: maybe(fc.string()) })) }, { requiredKeys: [] }))),
  response_format: maybe(fc.record({ type: maybe(fc.constantFrom('text', 'json_object', 'json_schema')), json_schema: maybe(fc.object()) }, { requiredKeys: [] })),
  n: maybe(fc.integer({ min: -1, max: 200 })),
  seed: maybe(fc.integer()),
  user: maybe(fc.string()),
  prompt: maybe(fc.string()),
}, { requiredKeys: [] });

// Well-formed requests with edge values (empty and unicode strings, extreme in-range numbers, tools,
// parts, tool calls): these reach the translators and the fake provider.
const name = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_-]{0,20}$/);
const validPart = fc.oneof(
  fc.record({ type: fc.constant('text'), text: fc.string() }),
  fc.record({ type: fc.constant('image_url'), image_url: fc.record({ url: fc.constantFrom('data:image/png;base64,iVBORw0KGgo=', 'https://example.com/cat.png') }) }),
);
const validToolCall = fc.record({ id: fc.string({ minLength: 1 }), type: fc.constant('function'), function: fc.record({ name, arguments: fc.json() }) });
const validMessage = fc.oneof(
  fc.record({ role: fc.constantFrom('system', 'developer', 'user'), content: fc.oneof(fc.string(), fc.array(validPart, { minLength: 1, maxLength: 3 })) }),
  fc.record({ role: fc.constant('assistant'), content: fc.oneof(fc.string(), fc.constant(null)), tool_calls: fc.array(validToolCall, { minLength: 1, maxLength: 2 }) }, { requiredKeys: ['role', 'content'] }),
  fc.record({ role: fc.constant('tool'), content: fc.string(), tool_call_id: fc.string() }),
);
const validTool = fc.record({
  type: fc.constant('function'),
  function: fc.record({ name, description: fc.string(), parameters: fc.constant({ type: 'object', properties: { city: { type: 'string' } } }) }, { requiredKeys: ['name'] }),
});
const validChat = fc.record({
  messages: fc.array(validMessage, { minLength: 1, maxLength: 5 }),
  stream: fc.boolean(),
  stream_options: fc.record({ include_usage: fc.boolean() }),
  max_tokens: fc.integer({ min: 1, max: 8192 }),
  temperature: fc.double({ min: 0, max: 2, noNaN: true }),
  top_p: fc.double({ min: 0, max: 1, noNaN: true }),
  stop: fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 4 })),
  tools: fc.array(validTool, { maxLength: 3 }),
  tool_choice: fc.constantFrom('auto', 'none', 'required'),
  response_format: fc.constantFrom({ type: 'text' }, { type: 'json_object' }),
  seed: fc.integer(),
  user: fc.string(),
}, { requiredKeys: ['messages'] });

/** A well-formed request with one field, anywhere, replaced by any JSON value. */
const FIELDS = ['messages', 'messages.0', 'messages.0.role', 'messages.0.content', 'messages.0.content.0', 'messages.0.content.0.text',
  'messages.0.tool_calls', 'messages.0.tool_calls.0', 'messages.0.tool_calls.0.function', 'messages.0.tool_calls.0.function.arguments',
  'tools', 'tools.0', 'tools.0.function', 'tools.0.function.name', 'tools.0.function.parameters', 'tool_choice', 'stream',
  'stream_options', 'max_tokens', 'temperature', 'top_p', 'stop', 'response_format', 'n', 'model', 'user', 'seed', 'logit_bias'];
function setPath(target: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const keys = path.split('.');
  let at: Record<string, unknown> = target;
  for (const k of keys.slice(0, -1)) {
    const next = at[k];
    if (typeof next !== 'object' || next === null) break;
    at = next as Record<string, unknown>;
  }
  at[keys.at(-1)!] = value;
  return target;
}
const oneWrong = fc.tuple(validChat, fc.constantFrom(...FIELDS), anything).map(([b, path, v]) => setPath(b as Record<string, unknown>, path, v));

const encoder = new TextEncoder();
/** What goes on the wire: JSON of a request, any JSON, deep nesting, a huge body, or bytes. */
const body: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: validChat.map((b) => encoder.encode(JSON.stringify(b))) },
  { weight: 6, arbitrary: oneWrong.map((b) => encoder.encode(JSON.stringify(b))) },
  { weight: 3, arbitrary: chatRequest.map((b) => encoder.encode(JSON.stringify(b))) },
  { weight: 2, arbitrary: anything.map((v) => encoder.encode(JSON.stringify(v))) },
  { weight: 1, arbitrary: fc.integer({ min: 50, max: 20_000 }).map((d) => encoder.encode(`{"messages":${'['.repeat(d)}${']'.repeat(d)}}`)) },
  { weight: 1, arbitrary: fc.integer({ min: 50, max: 3_000 }).map((d) => encoder.encode(`{"messages":[{"role":"user","content":${'{"a":'.repeat(d)}1${'}'.repeat(d)}}]}`)) },
  { weight: 1, arbitrary: fc.integer({ min: MAX_BODY - 100, max: MAX_BODY * 3 }).map((n) => encoder.encode(JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(n) }] }))) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048 }) },
  { weight: 1, arbitrary: fc.string().map((s) => encoder.encode(s)) },
);
const headers = fc.record({
  'content-type': fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', ''),
  'accept-encoding': fc.constantFrom('gzip', 'br', 'identity;q=0', '*', 'gzip;q=0, deflate', ''),
  'x-hostile': fc.stringMatching(/^[\x21-\x7e]{0,64}$/),
  authorization: fc.constantFrom('Bearer sk-client-key-000', 'Basic Og==', ''),
}, { requiredKeys: ['content-type'] });

// ---- the property -------------------------------------------------------------------------------
async function send(path: string, bytes: Uint8Array, h: Record<string, string>): Promise<{ status: number; text: string; type: string }> {
  const res = await fetch(`${t.url}${path}`, {
    method: 'POST', body: bytes, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    headers: Object.fromEntries(Object.entries(h).filter(([, v]) => v !== '')),
  });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' };
}

function check(path: string, r: { status: number; text: string; type: string }): void {
  const where = `${path}: ${r.status} ${r.text.slice(0, 300)}`;
  assert.ok(r.status === 200 || (r.status >= 400 && r.status < 500), `never a 5xx: ${where}`);
  if (r.status === 200) {
    if (r.type.startsWith('text/event-stream')) {
      assert.ok(r.text.endsWith('data: [DONE]\n\n'), `a stream ends with [DONE]: ${where}`);
      assert.ok(!r.text.includes('"error"'), `a healthy provider's stream has no error event: ${where}`);
    } else {
      const j = JSON.parse(r.text) as { choices?: unknown[] };
      assert.ok(Array.isArray(j.choices), `an answer has choices: ${where}`);
    }
    return;
  }
  const j = JSON.parse(r.text) as { error?: { message?: unknown; type?: unknown } };
  assert.equal(typeof j.error?.message, 'string', `an OpenAI-style error: ${where}`);
  assert.equal(typeof j.error?.type, 'string', `an OpenAI-style error: ${where}`);
}

for (const [index, path] of [...Object.keys(ROUTES), 'guard', 'advanced'].map((n) => `/h/${n}`).entries()) {
  test(`hostile input through ${path}: a 4xx OpenAI-style error or a correct answer, never a 5xx, a crash or a hang`, async () => {
    const pids = t.gw.processes.map((p) => p.pid);
    const statuses = new Map<number, number>();
    try {
      await fc.assert(fc.asyncProperty(body, headers, async (b, h) => {
        const r = await send(path, b, h);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        check(path, r);
      }), { numRuns: RUNS, seed: SEED + index });
    } catch (e) {
      throw new Error(`${(e as Error).message}\nreplay: FC_SEED=${SEED} node --test dist/spec/hostile-input.test.js`);
    }
    assert.deepEqual(t.gw.processes.map((p) => p.pid), pids, 'no plugin server restarted');
    process.stderr.write(`# ${path}: ${[...statuses].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}x${v}`).join(' ')} (seed ${SEED + index})\n`);
    // Generated requests must also get through: a run where everything is refused tests nothing past the schema.
    assert.ok((statuses.get(200) ?? 0) > 0, `some requests were answered: ${JSON.stringify([...statuses])}`);
  });
}

test('hostile input: afterwards a plain request is still answered', async () => {
  const r = await send('/h/openai', encoder.encode(JSON.stringify({ messages: [{ role: 'user', content: 'hello' }] })), { 'content-type': 'application/json' });
  assert.equal(r.status, 200, r.text);
});
