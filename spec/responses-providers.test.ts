// The Responses API over every provider that does not speak it: each chat fixture case
// (spec/fixtures/providers) replayed through an `llm/v1/responses` route, Kong's side and the real plugin
// server, the client's request written as a Responses request. The response (or the stream of typed
// events) must carry what the chat case's expected answer carries: the text, the tool calls with their
// ids, the usage, the finish; a stream that fails ends with `error` and response.failed. Where the
// Responses request stands for the case's chat request exactly, the provider must receive the case's
// upstream request. openai and azure pass the Responses API through (spec/responses-clients.test.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getProvider } from '../shared/providers/core/registry';
import { responsesToChat } from '../shared/responses/to-chat';
import type { InputItem, ResponsesRequest } from '../shared/responses/types';
import type { ChatMessage, ChatRequest } from '../shared/openai/types';
import { FixtureProvider } from './fakes/fixture-provider';
import { casePlugin } from './support/case-plugin';
import { loadCases, type ProviderCase } from './support/provider-case';
import { startTestGateway, type TestGateway } from './support/test-gateway';

const PASSED_THROUGH: ReadonlySet<string> = new Set(['openai', 'azure']);
const cases = loadCases(process.env.PROVIDER).filter((c) => c.input.route_type === 'llm/v1/chat' && !PASSED_THROUGH.has(c.provider)
  && !c.input.env && (c.has('response.json') || c.stream() !== undefined));

/** The case's chat request as the Responses request a client would send for it; undefined if it has none. */
function responsesRequestFor(chat: ChatRequest): ResponsesRequest | undefined {
  const parts = chat.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : []));
  if (!parts.every((p) => p.type === 'text' || (p.type === 'image_url' && (p as { image_url?: unknown }).image_url !== undefined))) return undefined;
  const input: InputItem[] = [];
  const content = (c: ChatMessage['content']) => (typeof c === 'string' || c === null ? c ?? '' : c.map((p) => {
    if (p.type === 'text') return { type: 'input_text' as const, text: (p as { text: string }).text };
    const u = (p as { image_url: string | { url: string; detail?: 'low' | 'high' | 'auto' } }).image_url;
    return typeof u === 'string' ? { type: 'input_image' as const, image_url: u } : { type: 'input_image' as const, image_url: u.url, ...(u.detail ? { detail: u.detail } : {}) };
  }));
  for (const m of chat.messages) {
    if (m.role === 'tool') { input.push({ type: 'function_call_output', call_id: m.tool_call_id ?? '', output: typeof m.content === 'string' ? m.content : '' }); continue; }
    if (m.role !== 'assistant' || (m.content !== null && m.content !== '')) {
      input.push({ role: m.role, content: m.role === 'assistant' && typeof m.content !== 'string' ? content(m.content).toString() : content(m.content) } as InputItem);
    }
    for (const t of m.tool_calls ?? []) input.push({ type: 'function_call', call_id: t.id, name: t.function.name, arguments: t.function.arguments });
  }
  const req: ResponsesRequest = { input };
  if (chat.model !== undefined) req.model = chat.model;
  if (chat.tools) req.tools = chat.tools.map((t) => ({ type: 'function', name: t.function.name, description: t.function.description, parameters: t.function.parameters, strict: t.function.strict }));
  if (chat.tool_choice !== undefined) req.tool_choice = typeof chat.tool_choice === 'string' ? chat.tool_choice : { type: 'function', name: chat.tool_choice.function.name };
  const max = chat.max_completion_tokens ?? chat.max_tokens;
  if (typeof max === 'number') req.max_output_tokens = max;
  if (typeof chat.temperature === 'number') req.temperature = chat.temperature;
  if (typeof chat.top_p === 'number') req.top_p = chat.top_p;
  const f = chat.response_format;
  if (f?.type === 'json_object') req.text = { format: { type: 'json_object' } };
  if (f?.type === 'json_schema' && f.json_schema) req.text = { format: { type: 'json_schema', name: f.json_schema.name, schema: f.json_schema.schema ?? {}, ...(f.json_schema.strict !== undefined ? { strict: f.json_schema.strict } : {}) } };
  return req;
}

/** Whether the Responses request stands for the chat request exactly (so the upstream request must match). */
function standsFor(chat: ChatRequest, req: ResponsesRequest): boolean {
  const back = responsesToChat(req);
  if (!back.ok) return false;
  const { stream: _s, stream_options: _o, ...plain } = chat;
  const strip = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
  return JSON.stringify(strip(back.chat)) === JSON.stringify(strip({ ...plain, ...(plain.max_completion_tokens !== undefined ? { max_tokens: plain.max_completion_tokens, max_completion_tokens: undefined } : {}) }));
}

interface Expected { text: string; calls: Array<{ id: string; name: string; arguments: string }>; usage?: Record<string, number>; finish: string | null; error?: string }

/** What the chat case's client got: from expected.json, or the expected stream's chunks put together. */
function expectedOf(c: ProviderCase, stream: boolean): Expected {
  if (!stream) {
    const e = c.json('expected.json') as { choices: Array<{ message: { content: string | null; tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }> }; finish_reason: string }>; usage?: Record<string, number> };
    const m = e.choices[0]!.message;
    return { text: m.content ?? '', calls: (m.tool_calls ?? []).map((t) => ({ id: t.id, name: t.function.name, arguments: t.function.arguments })), ...(e.usage ? { usage: e.usage } : {}), finish: e.choices[0]!.finish_reason };
  }
  const out: Expected = { text: '', calls: [], finish: null };
  for (const ch of c.expectedStream()) {
    if (ch === '[DONE]') continue;
    const x = ch as { error?: { message: string }; usage?: Record<string, number>; choices?: Array<{ delta: { content?: string | null; tool_calls?: Array<{ index: number; id?: string; function?: { name?: string; arguments?: string } }> }; finish_reason: string | null }> };
    if (x.error) { out.error = x.error.message; continue; }
    if (x.usage) out.usage = x.usage;
    const choice = x.choices?.[0];
    if (!choice) continue;
    out.text += choice.delta.content ?? '';
    for (const t of choice.delta.tool_calls ?? []) {
      const call = (out.calls[t.index] ??= { id: '', name: '', arguments: '' });
      if (t.id) call.id = t.id;
      call.name += t.function?.name ?? '';
      call.arguments += t.function?.arguments ?? '';
    }
    if (choice.finish_reason) out.finish = choice.finish_reason;
  }
  return out;
}

interface ResponseLike {
  status: string;
  output: Array<{ type: string; content?: Array<{ type: string; text?: string }>; call_id?: string; name?: string; arguments?: string }>;
  usage: { input_tokens: number; output_tokens: number; total_tokens: number } | null;
}

function checkResponse(r: ResponseLike, e: Expected, id: string): void {
  const text = r.output.filter((o) => o.type === 'message').flatMap((o) => o.content ?? []).map((p) => p.text ?? '').join('');
  assert.equal(text, e.text, `${id}: text`);
  assert.deepEqual(r.output.filter((o) => o.type === 'function_call').map((o) => ({ id: o.call_id, name: o.name, arguments: o.arguments })), e.calls, `${id}: tool calls`);
  if (e.usage) assert.deepEqual(r.usage && [r.usage.input_tokens, r.usage.output_tokens, r.usage.total_tokens], [e.usage.prompt_tokens, e.usage.completion_tokens, e.usage.total_tokens], `${id}: usage`);
  assert.equal(r.status, e.finish === 'length' || e.finish === 'content_filter' ? 'incomplete' : 'completed', `${id}: status`);
}

/** The events of a Responses API stream: `event:` names and their data, which must agree. */
function events(text: string): Array<{ type: string; sequence_number: number; [k: string]: unknown }> {
  return text.split('\n\n').filter((b) => b.trim()).map((b) => {
    const name = /^event: (.+)$/m.exec(b)?.[1];
    const data = JSON.parse(/^data: (.+)$/m.exec(b)![1]!) as { type: string; sequence_number: number };
    assert.equal(data.type, name, 'the event name is its type');
    return data;
  });
}

/** Ids the translation builds from the request id, as the fixtures write them. */
function normalised(v: unknown, res: Response): unknown {
  const requestId = res.headers.get('x-kong-request-id') ?? '';
  return requestId === '' ? v : JSON.parse(JSON.stringify(v).split(requestId).join('test-request-id')) as unknown;
}

let gw: TestGateway;
const fakes = new Map<string, FixtureProvider>();

before(async () => {
  const routes: Array<{ name: string; paths: string[]; plugins: unknown[] }> = [];
  for (const c of cases) {
    const fake = new FixtureProvider(c, getProvider(c.provider).framing(c.ctx));
    await fake.listen();
    fakes.set(`${c.provider}/${c.name}`, fake);
    const plugin = casePlugin(c, fake.url);
    routes.push({ name: `${c.provider}-${c.name}`, paths: [`/responses/${c.provider}/${c.name}`], plugins: [{ ...plugin, config: { ...plugin.config, route_type: 'llm/v1/responses' } }] });
  }
  // ai-proxy-advanced: a target that speaks the Responses API but cannot be reached, then one that is
  // translated: the request fails over across the two ways of serving the route.
  const anthropic = cases.find((c) => c.provider === 'anthropic' && c.name === 'chat-basic');
  if (anthropic) {
    const refused = createServer();
    await new Promise<void>((r) => refused.listen(0, '127.0.0.1', r));
    const port = (refused.address() as AddressInfo).port;
    await new Promise<void>((r) => refused.close(() => r()));
    const translated = casePlugin(anthropic, fakes.get('anthropic/chat-basic')!.url).config;
    routes.push({ name: 'advanced', paths: ['/responses-advanced'], plugins: [{ name: 'ai-proxy-advanced', config: {
      balancer: { algorithm: 'priority', retries: 2 },
      targets: [
        { route_type: 'llm/v1/responses', weight: 100, model: { provider: 'openai', name: anthropic.input.model, options: { upstream_url: `http://127.0.0.1:${port}/v1/responses` } } },
        { route_type: 'llm/v1/responses', weight: 10, model: translated.model, auth: translated.auth, logging: translated.logging },
      ],
    } }] });
  }
  gw = await startTestGateway({ config: { _format_version: '3.0', services: [{ name: 'ai', url: 'http://127.0.0.1:9', routes }] } });
});

test('ai-proxy-advanced: a Responses API request fails over from a pass-through target to a translated one', { skip: !cases.some((c) => c.provider === 'anthropic') }, async () => {
  const c = cases.find((x) => x.provider === 'anthropic' && x.name === 'chat-basic')!;
  fakes.get('anthropic/chat-basic')!.reply = 'response';
  const chat = structuredClone(c.input.request) as ChatRequest;
  delete chat.model;
  const res = await fetch(`${gw.url}/responses-advanced`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(responsesRequestFor(chat)) });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  checkResponse(JSON.parse(text) as ResponseLike, expectedOf(c, false), 'advanced');
  assert.equal(res.headers.get('x-kong-llm-model'), `anthropic/${c.input.model}`);
});

after(async () => {
  await gw?.close();
  for (const f of fakes.values()) await f.close();
});

test('every translated provider has chat cases to replay through the Responses API', () => {
  const providers = new Set(cases.map((c) => c.provider));
  for (const p of ['anthropic', 'bedrock', 'cohere', 'gemini', 'huggingface', 'llama2', 'mistral'] as const) assert.ok(process.env.PROVIDER || providers.has(p), p);
});

for (const c of cases) {
  const id = `${c.provider}/${c.name}`;
  const chat = structuredClone(c.input.request) as ChatRequest;
  if (typeof chat.model === 'string' && chat.model !== c.input.model) delete chat.model;
  const found = responsesRequestFor(chat);
  if (found === undefined) continue; // content parts the Responses API has no input type for
  const request = found;
  const post = (stream: boolean) => fetch(`${gw.url}/responses/${id}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...request, ...(stream ? { stream: true } : {}) }),
  });

  if (c.has('response.json') && c.has('expected.json')) {
    test(`${id}: a response through the Responses API`, async () => {
      const fake = fakes.get(id)!;
      fake.reply = 'response';
      const before = fake.calls.length;
      const res = await post(false);
      const text = await res.text();
      assert.equal(res.status, 200, text);
      const r = normalised(JSON.parse(text), res) as ResponseLike & { object: string; id: string };
      assert.equal(r.object, 'response');
      assert.match(r.id, /^resp_/);
      checkResponse(r, expectedOf(c, false), id);
      if (standsFor(chat, request) && c.has('upstream-request.json')) {
        const exp = c.json('upstream-request.json') as { body?: unknown };
        if (exp.body !== undefined && typeof exp.body !== 'string') {
          assert.deepEqual(JSON.parse(fake.calls[before]!.body), exp.body, `${id}: the provider gets the chat case's request`);
        }
      }
    });
  }

  if (c.stream() !== undefined && c.has('stream.expected.jsonl')) {
    test(`${id}: a stream of typed events through the Responses API`, async () => {
      fakes.get(id)!.reply = 'stream';
      const res = await post(true);
      const text = await res.text();
      assert.equal(res.status, 200, text);
      assert.equal(res.headers.get('content-type'), 'text/event-stream');
      assert.ok(!text.includes('[DONE]'), 'no [DONE] in a Responses API stream');
      const ev = normalised(events(text), res) as ReturnType<typeof events>;
      assert.deepEqual(ev.map((e) => e.sequence_number), ev.map((_, i) => i), 'numbered in order');
      assert.equal(ev[0]!.type, 'response.created');
      const e = expectedOf(c, true);
      if (e.error !== undefined) {
        assert.deepEqual(ev.slice(-2).map((x) => x.type), ['error', 'response.failed'], id);
        assert.equal(ev.at(-2)!.message, e.error);
        return;
      }
      const last = ev.at(-1)!;
      assert.ok(last.type === 'response.completed' || last.type === 'response.incomplete', last.type);
      checkResponse(last.response as ResponseLike, e, id);
      const deltas = ev.filter((x) => x.type === 'response.output_text.delta').map((x) => x.delta).join('');
      assert.equal(deltas, e.text, `${id}: the deltas add up to the text`);
    });
  }
}

test('a Responses API request the schema refuses is the client\'s 400 in OpenAI\'s words, before any translation', { skip: !cases.some((c) => c.provider === 'anthropic') }, async () => {
  const fake = fakes.get('anthropic/chat-basic')!;
  const before = fake.calls.length;
  for (const [body, param, code] of [
    [{ input: 5 }, null, null], // Kong's own check first: "request body doesn't contain valid prompts"
    [{ input: [{ role: 'user', content: { text: 'x' } }] }, 'input[0].content', 'invalid_type'],
    [{ input: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, 'input[0].call_id', 'missing_required_parameter'],
    [{ input: 'x', temperature: 3 }, 'temperature', 'value_above_maximum'],
    [{ input: 'x', tools: [{ type: 'function' }] }, 'tools[0].name', 'missing_required_parameter'],
    [{ input: 'x', previous_response_id: 'resp_1' }, 'previous_response_id', 'unsupported_parameter'],
  ] as Array<[Record<string, unknown>, string | null, string | null]>) {
    const res = await fetch(`${gw.url}/responses/anthropic/chat-basic`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const e = await res.json() as { error: { type: string; param: string; code: string } };
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.deepEqual([e.error.type, e.error.param, e.error.code], ['invalid_request_error', param, code], JSON.stringify(e));
  }
  assert.equal(fake.calls.length, before, 'nothing reached the provider');
});
