// Ollama's native API, spoken by mistral and llama2 when their format option is `ollama`:
// POST /api/chat (chat), /api/generate (legacy completions), /api/embed (embeddings); NDJSON streams
// ending with a `"done": true` object that carries prompt_eval_count / eval_count.
// Facts: ollama/ollama docs/api.md and api/types.go (Message, ToolCall, ChatResponse, Metrics).
import type {
  ChatCompletion, ChatCompletionChunk, ChatMessage, ChatRequest, CompletionRequest, EmbeddingsList, EmbeddingsRequest,
  FinishReason, OpenAIRequestBody, OpenAIResponseBody, TextCompletion, ToolCall, Usage,
} from '../openai/types';
import { providerError } from './errors';
import { eventJson, isObject, num, type Json } from './json';
import { parseUpstreamUrl, resolveUrl } from './upstream';
import {
  ProviderStreamError, TranslationError, type StreamChunk, type StreamTranslator, type TargetContext, type UpstreamEvent,
} from './types';


export const OLLAMA_PATHS: Readonly<Record<'llm/v1/chat' | 'llm/v1/completions' | 'llm/v1/embeddings', string>> = {
  'llm/v1/chat': '/api/chat',
  'llm/v1/completions': '/api/generate',
  'llm/v1/embeddings': '/api/embed',
};

/**
 * The URL of a self-hosted upstream named by `upstream_url` (required, as in Kong). Kong uses the URL's
 * path for every route type; we do too, except that a URL with no path (`http://ollama:11434`) gets the
 * route's default operation path, so one base URL serves chat, completions and embeddings.
 */
export function upstreamUrlWithDefaultPath(ctx: TargetContext, operation: string): string {
  const o = ctx.options;
  if (o.upstream_url === null) {
    throw new TranslationError(`${ctx.provider} in this format requires model.options.upstream_url`);
  }
  if (o.upstream_path === null && parseUpstreamUrl(o.upstream_url).path === '/') {
    return resolveUrl({ upstream_url: null, upstream_path: null }, o.upstream_url, operation);
  }
  return resolveUrl(o, o.upstream_url, operation);
}

/** A single prompt: OpenAI allows an array of prompts (a batch), which these upstreams do not. */
export function singlePrompt(prompt: unknown, provider: string): string {
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string') return prompt[0];
  throw new TranslationError(`${provider} takes one prompt per request; batched prompts are not supported`);
}

/** The stop sequences as an array (OpenAI allows a single string). */
export function stopList(stop: unknown): string[] | undefined {
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) return stop as string[];
  return undefined;
}

/** Message text and base64 images from OpenAI content (string, null or parts). */
function splitContent(content: ChatMessage['content'], provider: string): { text: string; images: string[] } {
  if (content === null || content === undefined) return { text: '', images: [] };
  if (typeof content === 'string') return { text: content, images: [] };
  const texts: string[] = [];
  const images: string[] = [];
  for (const part of content) {
    if (part.type === 'text' && typeof part.text === 'string') {
      texts.push(part.text);
    } else if (part.type === 'image_url') {
      const ref = (part as { image_url?: unknown }).image_url;
      const url = typeof ref === 'string' ? ref : isObject(ref) && typeof ref.url === 'string' ? ref.url : '';
      // Ollama takes images as bare base64 only (its own OpenAI layer refuses http URLs the same way).
      const m = /^data:[^;,]*;base64,(.*)$/s.exec(url);
      if (!m) throw new TranslationError(`${provider} (ollama format) takes images as base64 data: URLs only`);
      images.push(m[1]!);
    } else {
      throw new TranslationError(`cannot send content part of type '${part.type}' to ${provider} (ollama format)`);
    }
  }
  return { text: texts.join('\n'), images };
}

function toolArguments(tc: ToolCall, provider: string): unknown {
  const raw = tc.function.arguments;
  if (raw === undefined || raw === '') return {};
  try {
    return JSON.parse(raw);
  } catch {
    throw new TranslationError(`arguments of tool call '${tc.id}' are not valid JSON; ${provider} (ollama format) needs an object`);
  }
}

function ollamaMessages(messages: ChatMessage[], provider: string): Json[] {
  // Ollama names a tool result by the function name (tool_name); OpenAI by the call id.
  const names = new Map<string, string>();
  return messages.map((m) => {
    const { text, images } = splitContent(m.content, provider);
    const out: Json = { role: m.role === 'developer' ? 'system' : m.role, content: text };
    if (images.length > 0) out.images = images;
    if (m.role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length > 0) {
      out.tool_calls = m.tool_calls.map((tc) => {
        if (tc.id) names.set(tc.id, tc.function.name);
        const call: Json = { function: { name: tc.function.name, arguments: toolArguments(tc, provider) } };
        if (tc.id) call.id = tc.id;
        return call;
      });
    }
    if (m.role === 'tool') {
      const name = m.name ?? (m.tool_call_id ? names.get(m.tool_call_id) : undefined);
      if (name) out.tool_name = name;
      if (m.tool_call_id) out.tool_call_id = m.tool_call_id;
    }
    return out;
  });
}

/** Sampling fields into Ollama's `options` (Modelfile parameter names). */
function ollamaOptions(body: ChatRequest | CompletionRequest): Json {
  const options: Json = {};
  const maxTokens = num(body.max_tokens) ?? num(body.max_completion_tokens);
  if (maxTokens !== undefined) options.num_predict = maxTokens;
  for (const k of ['temperature', 'top_p', 'top_k', 'seed', 'frequency_penalty', 'presence_penalty'] as const) {
    const v = num(body[k]);
    if (v !== undefined) options[k] = v;
  }
  const stop = stopList(body.stop);
  if (stop) options.stop = stop;
  return options;
}

/** OpenAI response_format into Ollama's `format`: "json" (JSON mode) or a JSON schema. */
function ollamaFormat(body: ChatRequest | CompletionRequest): unknown {
  const rf = (body as { response_format?: unknown }).response_format;
  if (!isObject(rf)) return undefined;
  if (rf.type === 'json_object') return 'json';
  if (rf.type === 'json_schema') {
    const js = rf.json_schema;
    return isObject(js) && isObject(js.schema) ? js.schema : 'json';
  }
  return undefined;
}

/**
 * Tools and tool_choice. Ollama has no tool_choice: `none` sends no tools, a named function sends only
 * that function (the model may still answer in text), `required` cannot be enforced and sends all tools.
 */
function ollamaTools(body: ChatRequest): Json[] | undefined {
  if (!Array.isArray(body.tools) || body.tools.length === 0 || body.tool_choice === 'none') return undefined;
  let tools = body.tools;
  const choice = body.tool_choice;
  if (isObject(choice) && isObject(choice.function) && typeof choice.function.name === 'string') {
    const name = choice.function.name;
    tools = tools.filter((t) => t.function.name === name);
  }
  return tools.map((t) => {
    const fn: Json = { name: t.function.name };
    if (t.function.description !== undefined) fn.description = t.function.description;
    if (t.function.parameters !== undefined) fn.parameters = t.function.parameters;
    return { type: 'function', function: fn };
  });
}

/** The Ollama request body for a chat, completions or embeddings call. */
export function ollamaRequestBody(body: OpenAIRequestBody, ctx: TargetContext): Json {
  const provider = ctx.provider;
  if (ctx.routeType === 'llm/v1/embeddings') {
    const e = body as EmbeddingsRequest;
    const out: Json = { model: ctx.model, input: e.input };
    if (num(e.dimensions) !== undefined) out.dimensions = e.dimensions;
    return out;
  }
  const out: Json = { model: ctx.model };
  if (ctx.routeType === 'llm/v1/completions') {
    const c = body as CompletionRequest;
    out.prompt = singlePrompt(c.prompt, provider);
    if (typeof c.suffix === 'string') out.suffix = c.suffix;
  } else {
    const c = body as ChatRequest;
    out.messages = ollamaMessages(c.messages, provider);
    const tools = ollamaTools(c);
    if (tools) out.tools = tools;
  }
  const sampling = body as ChatRequest | CompletionRequest;
  const format = ollamaFormat(sampling);
  if (format !== undefined) out.format = format;
  const options = ollamaOptions(sampling);
  if (Object.keys(options).length > 0) out.options = options;
  // Ollama streams unless told otherwise.
  out.stream = ctx.stream;
  return out;
}

/** `created_at` (RFC 3339, nanoseconds) in epoch seconds, else now. */
function createdOf(v: unknown, ctx: TargetContext): number {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isFinite(t) ? Math.floor(t / 1000) : ctx.now();
}

function modelOf(v: Json, ctx: TargetContext): string {
  return typeof v.model === 'string' && v.model !== '' ? v.model : ctx.model;
}

/** Usage from the final object; a missing prompt_eval_count means the prompt came from the cache (0). */
function ollamaUsage(v: Json): Usage | undefined {
  const prompt = num(v.prompt_eval_count);
  const completion = num(v.eval_count);
  if (prompt === undefined && completion === undefined) return undefined;
  return { prompt_tokens: prompt ?? 0, completion_tokens: completion ?? 0, total_tokens: (prompt ?? 0) + (completion ?? 0) };
}

/** `done_reason` into OpenAI's; Ollama says `stop` even when the model called tools. */
function ollamaFinish(v: Json, sawToolCalls: boolean): FinishReason {
  if (v.done_reason === 'length') return 'length';
  return sawToolCalls ? 'tool_calls' : 'stop';
}

/** Ollama tool calls (arguments as objects, ids only from newer builds) into OpenAI's. */
function toolCallsOf(message: Json, ctx: TargetContext, offset: number): ToolCall[] {
  if (!Array.isArray(message.tool_calls)) return [];
  const out: ToolCall[] = [];
  for (const tc of message.tool_calls) {
    if (!isObject(tc) || !isObject(tc.function) || typeof tc.function.name !== 'string') {
      throw new TranslationError(`invalid tool call in ${ctx.provider} response`);
    }
    const args = tc.function.arguments;
    out.push({
      id: typeof tc.id === 'string' && tc.id !== '' ? tc.id : `call_${ctx.requestId}_${offset + out.length}`,
      type: 'function',
      function: { name: tc.function.name, arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}) },
    });
  }
  return out;
}

function chatId(ctx: TargetContext): string {
  return `chatcmpl-${ctx.requestId}`;
}

function completionId(ctx: TargetContext): string {
  return `cmpl-${ctx.requestId}`;
}

export function parseOllamaResponse(body: unknown, ctx: TargetContext): OpenAIResponseBody {
  if (!isObject(body)) throw new TranslationError(`failed to decode ${ctx.routeType} response from ${ctx.provider}`);
  if (ctx.routeType === 'llm/v1/embeddings') {
    // /api/embed gives `embeddings`; the older /api/embeddings gives one `embedding`.
    const vectors = Array.isArray(body.embeddings) ? body.embeddings : Array.isArray(body.embedding) ? [body.embedding] : null;
    if (!vectors) throw new TranslationError(`'embeddings' not in ${ctx.provider} response`);
    const prompt = num(body.prompt_eval_count) ?? 0;
    const list: EmbeddingsList = {
      object: 'list',
      data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding: embedding as number[] })),
      model: modelOf(body, ctx),
      usage: { prompt_tokens: prompt, total_tokens: prompt },
    };
    return list;
  }
  const usage = ollamaUsage(body);
  if (ctx.routeType === 'llm/v1/completions') {
    if (typeof body.response !== 'string') throw new TranslationError(`'response' not in ${ctx.provider} response`);
    const out: TextCompletion = {
      id: completionId(ctx),
      object: 'text_completion',
      created: createdOf(body.created_at, ctx),
      model: modelOf(body, ctx),
      choices: [{ index: 0, text: body.response, finish_reason: ollamaFinish(body, false), logprobs: null }],
    };
    if (usage) out.usage = usage;
    return out;
  }
  const message = body.message;
  if (!isObject(message)) throw new TranslationError(`'message' not in ${ctx.provider} response`);
  const toolCalls = toolCallsOf(message, ctx, 0);
  const out: ChatCompletion = {
    id: chatId(ctx),
    object: 'chat.completion',
    created: createdOf(body.created_at, ctx),
    model: modelOf(body, ctx),
    choices: [{
      index: 0,
      message: {
        role: 'assistant',
        content: typeof message.content === 'string' && (message.content !== '' || toolCalls.length === 0) ? message.content : null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      },
      finish_reason: ollamaFinish(body, toolCalls.length > 0),
    }],
  };
  if (usage) out.usage = usage;
  return out;
}

/**
 * An Ollama NDJSON stream (chat or generate) into OpenAI chunks. Each line is a whole object; tool calls
 * arrive whole (one delta each, arguments re-encoded as JSON strings); `done: true` ends the stream with
 * the finish reason and the usage. An `{"error": ...}` line (sent with status 200) is a provider error.
 */
export function ollamaStreamTranslator(ctx: TargetContext): StreamTranslator {
  const chat = ctx.routeType !== 'llm/v1/completions';
  let usage: Usage | undefined;
  let done = false;
  let first = true;
  let toolCallCount = 0;
  let id = '';
  let created = 0;
  let model = '';

  const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], text: string, finish: FinishReason | null): StreamChunk => {
    if (chat) {
      return { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] };
    }
    return { id, object: 'text_completion', created, model, choices: [{ index: 0, text, finish_reason: finish, logprobs: null }] };
  };

  return {
    push(ev: UpstreamEvent): StreamChunk[] {
      if (done) return [];
      const v = eventJson(ev.data, ctx.provider);
      if (!isObject(v)) throw new TranslationError(`unexpected ${ctx.provider} stream line`);
      if (v.error !== undefined) {
        const message = typeof v.error === 'string' ? v.error : JSON.stringify(v.error);
        throw new ProviderStreamError(providerError(500, message, ctx));
      }
      if (first) {
        id = chat ? chatId(ctx) : completionId(ctx);
        created = createdOf(v.created_at, ctx);
        model = modelOf(v, ctx);
      }
      const out: StreamChunk[] = [];
      const role = (): { role?: 'assistant' } => (first ? { role: 'assistant' } : {});
      if (chat) {
        const message = isObject(v.message) ? v.message : {};
        const content = typeof message.content === 'string' ? message.content : '';
        const calls = toolCallsOf(message, ctx, toolCallCount);
        if (content !== '' || (first && calls.length === 0 && v.done !== true)) {
          out.push(chunk({ ...role(), content }, '', null));
          first = false;
        }
        if (calls.length > 0) {
          out.push(chunk({
            ...role(),
            tool_calls: calls.map((c, i) => ({ index: toolCallCount + i, id: c.id, type: 'function', function: c.function })),
          }, '', null));
          toolCallCount += calls.length;
          first = false;
        }
      } else {
        const text = typeof v.response === 'string' ? v.response : '';
        if (text !== '') out.push(chunk({}, text, null));
        first = false;
      }
      if (v.done === true) {
        done = true;
        usage = ollamaUsage(v);
        out.push(chunk(chat ? role() : {}, '', ollamaFinish(v, toolCallCount > 0)));
        first = false;
      }
      return out;
    },
    end() {
      if (!done) throw new TranslationError(`${ctx.provider} stream ended before its final "done": true object`);
      return usage ? { chunks: [], usage } : { chunks: [] };
    },
    usage: () => usage,
  };
}
