// Mistral: `openai` format to La Plateforme (https://api.mistral.ai, /v1/chat/completions and
// /v1/embeddings; upstream_url overrides), Bearer auth from the config; `ollama` format to a self-hosted
// Ollama at upstream_url (ollama-format.ts).
//
// Mistral's API looks like OpenAI's but validates strictly: an unknown field is a 422 `extra_forbidden`
// (seen for max_completion_tokens, store, stream_options). The body is therefore rebuilt from the fields
// Mistral documents (mistralai/client-ts ChatCompletionRequest / EmbeddingRequest, docs.mistral.ai):
// - seed → random_seed, max_completion_tokens → max_tokens, dimensions → output_dimension;
// - tool_choice `required` → `any` (Mistral's name for it; newer versions also accept `required`);
// - role `developer` → `system`; per-message fields Mistral does not take (name on non-tool messages,
//   refusal, audio, ...) dropped;
// - tool call ids must be exactly 9 characters [a-zA-Z0-9] ("Tool call id was call_… but must be a-z,
//   A-Z, 0-9, with a length of 9"): ids from another provider (a conversation moved by the balancer)
//   are mapped to such ids, deterministically, in assistant tool_calls and tool messages alike;
// - stream_options dropped: Mistral always sends usage, in the last content chunk;
// - other OpenAI fields (logprobs, user, store, logit_bias, service_tier, top_k, ...) are not sent.
// `n` is sent as is (Mistral supports it). Legacy completions do not exist on Mistral's API (its FIM
// endpoint is a different operation), so that route type works only in `ollama` format; Kong sends it
// to the path "/".
//
// Responses: finish_reason `model_length` → `length`; `error` is a failure (a stream error / a
// TranslationError); message content given as a list of chunks (Magistral: thinking + text) is reduced
// to its text; stream tool-call deltas get the `index` and `type` Mistral leaves out.
import { createHash } from 'node:crypto';
import type { ChatMessage, ChatRequest, EmbeddingsRequest, OpenAIRequestBody, ToolCall } from '../openai/types';
import { applyConfiguredAuth } from './auth';
import { fallbackMessage, parseOpenAIStyleError, providerError } from './errors';
import { isObject, type Json } from './json';
import { OLLAMA_PATHS, ollamaRequestBody, ollamaStreamTranslator, parseOllamaResponse, upstreamUrlWithDefaultPath } from './ollama-format';
import { jsonRequest, openaiStreamTranslator, parseOpenAIResponse } from './openai';
import { resolveUrl } from './upstream';
import { ollamaUsage, openaiUsage } from './native-usage';
import {
  ProviderStreamError, TranslationError, type Provider, type ProviderError, type StreamChunk, type StreamTranslator,
  type TargetContext, type UpstreamEvent,
} from './types';


const BASE = 'https://api.mistral.ai';

const CHAT_FIELDS = ['temperature', 'top_p', 'max_tokens', 'stop', 'random_seed', 'response_format', 'tools', 'tool_choice',
  'presence_penalty', 'frequency_penalty', 'n', 'prediction', 'parallel_tool_calls', 'prompt_mode', 'safe_prompt', 'metadata'] as const;

const EMBEDDING_FIELDS = ['output_dimension', 'output_dtype', 'encoding_format', 'metadata'] as const;

const MISTRAL_TOOL_CALL_ID = /^[a-zA-Z0-9]{9}$/;
const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A foreign tool call id as a Mistral one: 9 alphanumerics derived from it (the same id maps the same way). */
export function mistralToolCallId(id: string): string {
  if (MISTRAL_TOOL_CALL_ID.test(id)) return id;
  const digest = createHash('sha256').update(id).digest();
  let out = '';
  for (let i = 0; i < 9; i++) out += ALPHANUMERIC[digest[i]! % ALPHANUMERIC.length];
  return out;
}

function mistralMessage(m: ChatMessage): Json {
  const role = m.role === 'developer' ? 'system' : m.role;
  const out: Json = { role, content: m.content };
  if (m.role === 'assistant') {
    if (Array.isArray(m.tool_calls) && m.tool_calls.length > 0) {
      out.tool_calls = m.tool_calls.map((tc: ToolCall) => ({
        id: mistralToolCallId(tc.id), type: 'function', function: { name: tc.function.name, arguments: tc.function.arguments },
      }));
    }
    const prefix = (m as { prefix?: unknown }).prefix;
    if (typeof prefix === 'boolean') out.prefix = prefix;
  } else if (m.role === 'tool') {
    if (m.tool_call_id) out.tool_call_id = mistralToolCallId(m.tool_call_id);
    if (m.name) out.name = m.name;
  }
  return out;
}

/** The Mistral chat or embeddings body: only the fields Mistral accepts, OpenAI names translated. */
export function mistralBody(body: OpenAIRequestBody, ctx: TargetContext): Json {
  const src = body as Json;
  const out: Json = { model: ctx.model };
  if (ctx.routeType === 'llm/v1/embeddings') {
    const e = body as EmbeddingsRequest;
    out.input = e.input;
    const copy: Json = { ...src };
    if (copy.output_dimension === undefined && copy.dimensions !== undefined) copy.output_dimension = copy.dimensions;
    for (const k of EMBEDDING_FIELDS) if (copy[k] !== undefined) out[k] = copy[k];
    return out;
  }
  const c = body as ChatRequest;
  out.messages = c.messages.map(mistralMessage);
  const copy: Json = { ...src };
  if (copy.random_seed === undefined && copy.seed !== undefined) copy.random_seed = copy.seed;
  if (copy.max_tokens === undefined && copy.max_completion_tokens !== undefined) copy.max_tokens = copy.max_completion_tokens;
  if (copy.tool_choice === 'required') copy.tool_choice = 'any';
  for (const k of CHAT_FIELDS) if (copy[k] !== undefined && copy[k] !== null) out[k] = copy[k];
  out.stream = ctx.stream;
  return out;
}

/** Message content given as a list of chunks (text, thinking, ...) reduced to its text. */
function textContent(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  return v.map((part) => (isObject(part) && part.type === 'text' && typeof part.text === 'string' ? part.text : '')).join('');
}

function mistralFinish(v: unknown): unknown {
  return v === 'model_length' ? 'length' : v;
}

function generationFailed(ctx: TargetContext): ProviderError {
  return providerError(500, 'Mistral stopped the generation with an error (finish_reason "error")', ctx, 'generation_error');
}

function parseMistralResponse(body: unknown, ctx: TargetContext) {
  const r = parseOpenAIResponse(body, ctx);
  if (ctx.routeType !== 'llm/v1/chat') return r;
  const out = r as unknown as Json;
  out.choices = (out.choices as unknown[]).map((c) => {
    const choice: Json = isObject(c) ? { ...c } : {};
    if (choice.finish_reason === 'error') throw new TranslationError(generationFailed(ctx).body.error.message);
    choice.finish_reason = mistralFinish(choice.finish_reason);
    if (isObject(choice.message)) {
      const message: Json = { ...choice.message, content: textContent(choice.message.content) };
      if (Array.isArray(message.tool_calls)) {
        message.tool_calls = message.tool_calls.map((tc) => {
          const { index: _index, ...rest } = isObject(tc) ? tc : {};
          return { ...rest, type: 'function' };
        });
      }
      choice.message = message;
    }
    return choice;
  });
  return r;
}

/**
 * Mistral's OpenAI-style SSE stream (ends with [DONE]) with Mistral's differences made OpenAI's:
 * tool-call deltas without index/type, finish reasons, content chunks, usage inside the last content chunk.
 */
function mistralStreamTranslator(ctx: TargetContext): StreamTranslator {
  const calls = new Map<number, number>();
  const inner = openaiStreamTranslator(ctx, { inspect: (v) => {
    // An `{"error": ...}` event, or Mistral's own error shape (`{"object": "error", "message", ...}`,
    // no `error` key): read as Mistral's non-stream errors are.
    if (v.error !== undefined || v.object === 'error' || (v.message !== undefined && v.choices === undefined)) {
      const status = typeof v.raw_status_code === 'number' ? v.raw_status_code : 500;
      throw new ProviderStreamError(parseMistralError(status, v, ctx));
    }
  } });
  return {
    push(ev: UpstreamEvent): StreamChunk[] {
      const chunks = inner.push(ev);
      for (const chunk of chunks) {
        const c = chunk as unknown as Json;
        if (ctx.includeUsage) c.usage = null;
        else delete c.usage;
        for (const choice of c.choices as Json[]) {
          if (choice.finish_reason === 'error') throw new ProviderStreamError(generationFailed(ctx));
          choice.finish_reason = mistralFinish(choice.finish_reason);
          const delta = isObject(choice.delta) ? choice.delta : undefined;
          if (!delta) continue;
          if (delta.content !== undefined) delta.content = textContent(delta.content);
          if (!Array.isArray(delta.tool_calls)) continue;
          const index = typeof choice.index === 'number' ? choice.index : 0;
          delta.tool_calls = delta.tool_calls.map((tc) => {
            const call: Json = isObject(tc) ? { ...tc } : {};
            const seen = calls.get(index) ?? 0;
            const fn = isObject(call.function) ? call.function : {};
            const starts = typeof call.id === 'string' || typeof fn.name === 'string';
            if (typeof call.index !== 'number') call.index = starts ? seen : Math.max(seen - 1, 0);
            calls.set(index, Math.max(seen, (call.index as number) + 1));
            if (starts) call.type = 'function';
            return call;
          });
        }
      }
      return chunks;
    },
    end: () => inner.end(),
    usage: () => inner.usage(),
  };
}

/**
 * Mistral errors: `{"object": "error", "message": "...", "type", "param", "code"}`, where `message` may be
 * a validation object (`{"detail": [{"type": "extra_forbidden", "loc": [...], "msg": ...}]}`); gateway
 * errors (401, 429) are `{"message": "..."}`.
 */
export function parseMistralError(status: number, body: unknown, ctx: TargetContext): ProviderError {
  if (!isObject(body) || body.error !== undefined) return parseOpenAIStyleError(status, body, ctx);
  const m = body.message;
  const code = typeof body.code === 'string' ? body.code : typeof body.code === 'number' ? String(body.code) : null;
  const param = typeof body.param === 'string' ? body.param : null;
  if (typeof m === 'string') return providerError(status, m, ctx, code, param);
  if (isObject(m) && Array.isArray(m.detail)) {
    const parts = m.detail.map((d) => {
      if (!isObject(d)) return JSON.stringify(d);
      const loc = Array.isArray(d.loc) ? d.loc.filter((x) => x !== 'body').join('.') : '';
      return `${loc ? `${loc}: ` : ''}${typeof d.msg === 'string' ? d.msg : JSON.stringify(d)}`;
    });
    const first = m.detail.find(isObject);
    return providerError(status, parts.join('; '), ctx, code ?? (typeof first?.type === 'string' ? first.type : null), param);
  }
  if (isObject(m)) return providerError(status, JSON.stringify(m), ctx, code, param);
  return providerError(status, fallbackMessage(status, body), ctx, code, param);
}

function isOllama(ctx: TargetContext): boolean {
  return ctx.options.mistral_format === 'ollama';
}

export const mistralProvider: Provider = {
  name: 'mistral',
  routeTypes: ['llm/v1/chat', 'llm/v1/completions', 'llm/v1/embeddings', 'preserve'],
  // Legacy completions only through Ollama: La Plateforme has no such operation.
  serves: (routeType, options) => routeType !== 'llm/v1/completions' || options.mistral_format === 'ollama',
  framing: (ctx) => (isOllama(ctx) ? 'ndjson' : 'sse'),
  async buildRequest(body, ctx) {
    const o = ctx.options;
    if (ctx.routeType === 'preserve') {
      const url = isOllama(ctx) ? upstreamUrlWithDefaultPath(ctx, '') : resolveUrl(o, BASE, '');
      return applyConfiguredAuth(jsonRequest(url, body), ctx);
    }
    if (isOllama(ctx)) {
      const url = upstreamUrlWithDefaultPath(ctx, OLLAMA_PATHS[ctx.routeType]);
      return applyConfiguredAuth(jsonRequest(url, ollamaRequestBody(body, ctx)), ctx);
    }
    // A backstop for callers that skip `serves` (the config check and prepare.ts refuse this first).
    if (ctx.routeType === 'llm/v1/completions') {
      throw new TranslationError("Mistral's API has no legacy completions; use llm/v1/chat, or mistral_format ollama");
    }
    const path = ctx.routeType === 'llm/v1/embeddings' ? '/v1/embeddings' : '/v1/chat/completions';
    return applyConfiguredAuth(jsonRequest(resolveUrl(o, BASE, path), mistralBody(body, ctx)), ctx);
  },
  parseResponse(body, ctx) {
    return isOllama(ctx) ? parseOllamaResponse(body, ctx) : parseMistralResponse(body, ctx);
  },
  streamTranslator(ctx) {
    return isOllama(ctx) ? ollamaStreamTranslator(ctx) : mistralStreamTranslator(ctx);
  },
  parseError(status, body, ctx) {
    return isOllama(ctx) ? parseOpenAIStyleError(status, body, ctx) : parseMistralError(status, body, ctx);
  },
  nativeUsage: (body, ctx) => (isOllama(ctx) ? ollamaUsage(body) : openaiUsage(body)),
};
