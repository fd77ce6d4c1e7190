// A fake OpenAI-compatible LLM provider for development and tests, clearly not a real model: it answers
// chat completions (plain and streamed as server-sent events), legacy completions, embeddings and the
// Responses API (plain and streamed as typed events) in OpenAI's wire format, checks a bearer key when
// given one, and records the last thousand requests it received.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';

export interface FakeOpenAIOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Pause between streamed chunks. */
  chunkDelayMs?: number;
  /** Number of content chunks in a stream (the reply is split into this many pieces). */
  streamChunks?: number;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export const FAKE_MODEL = 'fake-llm-1';

const MAX_RECORDED = 1000;

function openaiError(res: ServerResponse, status: number, message: string, type: string, code: string | null): void {
  const body = JSON.stringify({ error: { message, type, param: null, code } });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function words(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown };
    if (m?.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) {
      return m.content.map((p: { type?: string; text?: string }) => (p?.type === 'text' ? p.text ?? '' : '')).join(' ');
    }
  }
  return '';
}

/** The text of Responses API content: a string, or its input_text parts. */
function partsText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p: { type?: string; text?: string }) => (p?.type === 'input_text' ? p.text ?? '' : '')).join(' ');
}

function promptTokens(body: Record<string, unknown>): number {
  if (Array.isArray(body.messages)) {
    return body.messages.reduce((n: number, m: { content?: unknown }) => n + 4 + words(typeof m?.content === 'string' ? m.content : JSON.stringify(m?.content ?? '')), 0);
  }
  return words(String(body.prompt ?? body.input ?? ''));
}

export function fakeReply(prompt: string): string {
  const p = prompt.length > 80 ? `${prompt.slice(0, 80)}...` : prompt;
  return `This is a fake LLM (development only) answering: ${p || '(empty prompt)'}`;
}

export const FAKE_EMBEDDING_DIMENSIONS = 64;

/**
 * Not a real model: the text's letter trigrams hashed into `dimensions` buckets, normalised. Texts that
 * share words (or word stems) point the same way, which is all semantic routing tests need.
 */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  const v = new Array<number>(dimensions).fill(0);
  for (const word of text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 2)) {
    const padded = ` ${word} `;
    for (let i = 0; i + 3 <= padded.length; i++) {
      let h = 2166136261;
      for (const c of padded.slice(i, i + 3)) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
      v[(h >>> 0) % dimensions]! += 1;
    }
  }
  const norm = Math.sqrt(v.reduce((n, x) => n + x * x, 0)) || 1;
  return v.map((x) => Number((x / norm).toFixed(6)));
}

function split(text: string, n: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / n));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

interface FakeToolCall { id: string; name: string; arguments: string }

/**
 * With tools offered (and tool_choice not "none") and a user turn last, the fake calls the first tool
 * (or the one tool_choice names), with arguments made of the tool's required string parameters filled
 * with "fake"; after the tool's result it answers in text.
 */
function toolCallFor(body: Record<string, unknown>): FakeToolCall | undefined {
  const tools = Array.isArray(body.tools) ? body.tools as Array<{ function?: { name?: unknown; parameters?: { required?: unknown } } }> : [];
  const messages = body.messages as Array<{ role?: unknown }>;
  if (tools.length === 0 || body.tool_choice === 'none' || messages.at(-1)?.role !== 'user') return undefined;
  const named = (body.tool_choice as { function?: { name?: unknown } } | undefined)?.function?.name;
  const tool = tools.find((t) => t.function?.name === named) ?? tools[0]!;
  const name = typeof tool.function?.name === 'string' ? tool.function.name : 'tool';
  const required = Array.isArray(tool.function?.parameters?.required) ? tool.function.parameters.required as unknown[] : [];
  const args = Object.fromEntries(required.filter((k): k is string => typeof k === 'string').map((k) => [k, 'fake']));
  return { id: `call_${randomBytes(8).toString('hex')}`, name, arguments: JSON.stringify(args) };
}

export class FakeOpenAI {
  readonly requests: RecordedRequest[] = [];
  private server: Server | undefined;
  url = '';

  constructor(private readonly opts: FakeOpenAIOptions = {}) {}

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((r, j) => { this.server!.once('error', j); this.server!.listen(port, host, () => r()); });
    const a = this.server.address();
    this.url = `http://${host}:${typeof a === 'object' && a ? a.port : port}`;
    return this.url;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: raw });
    // `npm start` may run for days: only the latest requests are kept.
    if (this.requests.length > MAX_RECORDED) this.requests.splice(0, this.requests.length - MAX_RECORDED);
    if (this.opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${this.opts.apiKey}`) {
      openaiError(res, 401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
      return;
    }
    if (req.method !== 'POST') {
      openaiError(res, 405, `Method ${req.method} not allowed.`, 'invalid_request_error', null);
      return;
    }
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      openaiError(res, 400, 'We could not parse the JSON body of your request.', 'invalid_request_error', null);
      return;
    }
    const path = (req.url ?? '').split('?')[0];
    const model = typeof body.model === 'string' ? body.model : FAKE_MODEL;
    const created = Math.floor(Date.now() / 1000);
    if (path?.endsWith('/chat/completions')) {
      if (!Array.isArray(body.messages)) {
        openaiError(res, 400, "Missing required parameter: 'messages'.", 'invalid_request_error', 'missing_required_parameter');
        return;
      }
      const text = fakeReply(lastUserText(body.messages));
      const usage = { prompt_tokens: promptTokens(body), completion_tokens: words(text), total_tokens: 0 };
      usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
      const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
      const call = toolCallFor(body);
      if (call) {
        await this.toolCall(res, body.stream === true, id, model, created, call, usage,
          (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true);
        return;
      }
      if (body.stream === true) {
        await this.stream(res, id, model, created, text, usage,
          (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true);
        return;
      }
      this.json(res, {
        id, object: 'chat.completion', created, model, system_fingerprint: 'fp_fake',
        choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage,
      });
      return;
    }
    if (path?.endsWith('/responses')) {
      await this.responses(res, body, model, created);
      return;
    }
    if (path?.endsWith('/completions')) {
      const text = fakeReply(String(body.prompt ?? ''));
      const usage = { prompt_tokens: promptTokens(body), completion_tokens: words(text), total_tokens: 0 };
      usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
      this.json(res, {
        id: `cmpl-${randomBytes(12).toString('hex')}`, object: 'text_completion', created, model,
        choices: [{ text, index: 0, logprobs: null, finish_reason: 'stop' }], usage,
      });
      return;
    }
    if (path?.endsWith('/embeddings')) {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      const dimensions = typeof body.dimensions === 'number' && body.dimensions > 0 ? body.dimensions : FAKE_EMBEDDING_DIMENSIONS;
      const data = inputs.map((input, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(String(input), dimensions) }));
      const tokens = inputs.reduce((n: number, x) => n + words(String(x)), 0);
      this.json(res, { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
      return;
    }
    openaiError(res, 404, `Invalid URL (POST ${path})`, 'invalid_request_error', null);
  }

  private async toolCall(res: ServerResponse, stream: boolean, id: string, model: string, created: number, call: FakeToolCall,
    usage: Record<string, number>, includeUsage: boolean): Promise<void> {
    const toolCall = { id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } };
    if (!stream) {
      this.json(res, {
        id, object: 'chat.completion', created, model, system_fingerprint: 'fp_fake',
        choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [toolCall], refusal: null }, logprobs: null, finish_reason: 'tool_calls' }],
        usage,
      });
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    const base = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake' };
    const send = (choice: unknown) => res.write(`data: ${JSON.stringify({ ...base, choices: [choice] })}\n\n`);
    send({ index: 0, delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }, logprobs: null, finish_reason: null });
    const half = Math.ceil(call.arguments.length / 2);
    for (const piece of [call.arguments.slice(0, half), call.arguments.slice(half)]) {
      if (this.opts.chunkDelayMs) await new Promise((r) => setTimeout(r, this.opts.chunkDelayMs));
      send({ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: piece } }] }, logprobs: null, finish_reason: null });
    }
    send({ index: 0, delta: {}, logprobs: null, finish_reason: 'tool_calls' });
    if (includeUsage) res.write(`data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
  }

  /**
   * The Responses API: a text answer to the last user input, or, with function tools offered and a user
   * turn last, a call of the first; streamed as OpenAI's typed events, each numbered, no [DONE].
   */
  private async responses(res: ServerResponse, body: Record<string, unknown>, model: string, created: number): Promise<void> {
    const input = body.input;
    const items = Array.isArray(input) ? input as Array<{ type?: unknown; role?: unknown; content?: unknown }> : [];
    const last = items.at(-1);
    const lastText = typeof input === 'string' ? input : (last?.role === 'user' ? lastUserText([last]) || partsText(last.content) : '');
    const tools = Array.isArray(body.tools) ? body.tools as Array<{ type?: unknown; name?: unknown; parameters?: { required?: unknown } }> : [];
    const tool = tools.find((t) => t.type === 'function');
    const calling = tool !== undefined && body.tool_choice !== 'none' && (typeof input === 'string' || last?.role === 'user');
    const id = `resp_${randomBytes(12).toString('hex')}`;
    const text = fakeReply(lastText);
    const inputTokens = words(typeof input === 'string' ? input : JSON.stringify(items));
    let output: Record<string, unknown>;
    if (calling) {
      const required = Array.isArray(tool.parameters?.required) ? tool.parameters.required as unknown[] : [];
      const args = JSON.stringify(Object.fromEntries(required.filter((k): k is string => typeof k === 'string').map((k) => [k, 'fake'])));
      output = { type: 'function_call', id: `fc_${randomBytes(8).toString('hex')}`, call_id: `call_${randomBytes(8).toString('hex')}`,
        name: typeof tool.name === 'string' ? tool.name : 'tool', arguments: args, status: 'completed' };
    } else {
      output = { type: 'message', id: `msg_${randomBytes(8).toString('hex')}`, status: 'completed', role: 'assistant',
        content: [{ type: 'output_text', text, annotations: [] }] };
    }
    const outputTokens = words(calling ? String(output.arguments) : text);
    const response = (status: string, out: unknown[], usage: unknown) => ({
      id, object: 'response', created_at: created, status, model, output: out, usage, error: null, incomplete_details: null,
      instructions: body.instructions ?? null, max_output_tokens: body.max_output_tokens ?? null, parallel_tool_calls: true,
      previous_response_id: null, reasoning: { effort: null, summary: null }, store: false, temperature: 1, text: { format: { type: 'text' } },
      tool_choice: body.tool_choice ?? 'auto', tools, top_p: 1, truncation: 'disabled', metadata: {},
    });
    const usage = { input_tokens: inputTokens, input_tokens_details: { cached_tokens: 0 }, output_tokens: outputTokens,
      output_tokens_details: { reasoning_tokens: 0 }, total_tokens: inputTokens + outputTokens };
    if (body.stream !== true) {
      this.json(res, response('completed', [output], usage));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    let seq = 0;
    const send = (type: string, fields: Record<string, unknown>) =>
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...fields })}\n\n`);
    send('response.created', { response: response('in_progress', [], null) });
    send('response.in_progress', { response: response('in_progress', [], null) });
    const itemId = output.id as string;
    if (calling) {
      send('response.output_item.added', { output_index: 0, item: { ...output, arguments: '', status: 'in_progress' } });
      const a = String(output.arguments);
      const half = Math.ceil(a.length / 2);
      for (const delta of [a.slice(0, half), a.slice(half)]) send('response.function_call_arguments.delta', { item_id: itemId, output_index: 0, delta });
      send('response.function_call_arguments.done', { item_id: itemId, output_index: 0, name: output.name, arguments: a });
    } else {
      send('response.output_item.added', { output_index: 0, item: { ...output, status: 'in_progress', content: [] } });
      send('response.content_part.added', { item_id: itemId, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
      for (const delta of split(text, this.opts.streamChunks ?? 8)) {
        if (this.opts.chunkDelayMs) await new Promise((r) => setTimeout(r, this.opts.chunkDelayMs));
        if (res.destroyed) return;
        send('response.output_text.delta', { item_id: itemId, output_index: 0, content_index: 0, delta, logprobs: [] });
      }
      send('response.output_text.done', { item_id: itemId, output_index: 0, content_index: 0, text, logprobs: [] });
      send('response.content_part.done', { item_id: itemId, output_index: 0, content_index: 0, part: { type: 'output_text', text, annotations: [] } });
    }
    send('response.output_item.done', { output_index: 0, item: output });
    send('response.completed', { response: response('completed', [output], usage) });
    res.end();
  }

  private json(res: ServerResponse, v: unknown): void {
    const body = JSON.stringify(v);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  private async stream(res: ServerResponse, id: string, model: string, created: number, text: string,
    usage: Record<string, number>, includeUsage: boolean): Promise<void> {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    const base = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake' };
    const send = (obj: unknown) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
    const pause = () => new Promise((r) => setTimeout(r, this.opts.chunkDelayMs ?? 0));
    const usageField = includeUsage ? { usage: null } : {};
    send({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }], ...usageField });
    for (const piece of split(text, this.opts.streamChunks ?? 8)) {
      if (this.opts.chunkDelayMs) await pause();
      if (res.destroyed) return;
      send({ ...base, choices: [{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }], ...usageField });
    }
    send({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], ...usageField });
    if (includeUsage) send({ ...base, choices: [], usage });
    res.end('data: [DONE]\n\n');
  }
}
