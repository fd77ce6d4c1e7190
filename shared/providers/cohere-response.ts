// Cohere v2 chat and embed responses and errors → OpenAI's shapes (provider-formats.md §0.2, §0.3, §7).
import type { ChatCompletion, EmbeddingsList, FinishReason, OpenAIResponseBody, TextCompletion, ToolCall, Usage } from '../openai/types';
import { fallbackMessage, providerError } from './errors';
import { TranslationError, type ProviderError, type TargetContext } from './types';
import { isObject, num } from './json';

/** COMPLETE, STOP_SEQUENCE → stop; MAX_TOKENS → length; TOOL_CALL → tool_calls. ERROR and TIMEOUT are failures. */
export function mapFinishReason(reason: unknown): FinishReason | null {
  switch (reason) {
    case 'MAX_TOKENS': return 'length';
    case 'TOOL_CALL': return 'tool_calls';
    case null:
    case undefined: return null;
    default: return 'stop';
  }
}

export function isFailure(reason: unknown): boolean {
  return reason === 'ERROR' || reason === 'TIMEOUT';
}

/**
 * `usage.tokens` (what the model processed) is preferred; `usage.billed_units` (smaller: it leaves out
 * Cohere's own preamble) is the fallback. `cached_tokens` → `prompt_tokens_details.cached_tokens`.
 */
export function cohereUsage(usage: unknown): Usage | undefined {
  if (!isObject(usage)) return undefined;
  const tokens = isObject(usage.tokens) ? usage.tokens : {};
  const billed = isObject(usage.billed_units) ? usage.billed_units : {};
  const input = num(tokens.input_tokens) ?? num(billed.input_tokens);
  const output = num(tokens.output_tokens) ?? num(billed.output_tokens);
  if (input === undefined && output === undefined) return undefined;
  const u: Usage = { prompt_tokens: input ?? 0, completion_tokens: output ?? 0, total_tokens: (input ?? 0) + (output ?? 0) };
  const cached = num(usage.cached_tokens);
  if (cached !== undefined) u.prompt_tokens_details = { cached_tokens: cached };
  return u;
}

function toolCall(v: unknown): ToolCall | null {
  if (!isObject(v) || !isObject(v.function)) return null;
  const args = v.function.arguments;
  return { id: String(v.id), type: 'function',
    function: { name: String(v.function.name), arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}) } };
}

function parseChat(body: Record<string, unknown>, ctx: TargetContext): ChatCompletion | TextCompletion {
  const message = isObject(body.message) ? body.message : null;
  if (!message) throw new TranslationError("'message' not in cohere response");
  if (isFailure(body.finish_reason)) throw new TranslationError(`cohere generation failed (${String(body.finish_reason)})`);
  let text = '';
  if (typeof message.content === 'string') text = message.content;
  else if (Array.isArray(message.content)) {
    for (const c of message.content) if (isObject(c) && c.type === 'text' && typeof c.text === 'string') text += c.text;
  }
  const toolCalls = (Array.isArray(message.tool_calls) ? message.tool_calls : []).map(toolCall).filter((t): t is ToolCall => t !== null);
  // With tool calls Cohere gives its reasoning as `tool_plan` and no content (streamed as content too).
  if (text === '' && typeof message.tool_plan === 'string') text = message.tool_plan;
  const id = typeof body.id === 'string' ? body.id : `chatcmpl-${ctx.requestId}`;
  const finish = mapFinishReason(body.finish_reason);
  const usage = cohereUsage(body.usage);
  const created = ctx.now();
  if (ctx.routeType === 'llm/v1/completions') {
    const out: TextCompletion = { id, object: 'text_completion', created, model: ctx.model,
      choices: [{ index: 0, text, finish_reason: finish, logprobs: null }] };
    if (usage) out.usage = usage;
    return out;
  }
  const msg: ChatCompletion['choices'][number]['message'] = {
    role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text,
  };
  if (toolCalls.length > 0) msg.tool_calls = toolCalls;
  // Cohere reports no model name: the configured one is used.
  const out: ChatCompletion = { id, object: 'chat.completion', created, model: ctx.model,
    choices: [{ index: 0, message: msg, finish_reason: finish, logprobs: null }] };
  if (usage) out.usage = usage;
  return out;
}

/** Float vectors; a client's base64 encoding_format is applied by the proxy (shared/openai/embeddings-encoding.ts). */
function parseEmbed(body: Record<string, unknown>, ctx: TargetContext): EmbeddingsList {
  // v2 answers `embeddings: {float: [[...]]}`; the older float-only shape is a bare array.
  const e = body.embeddings;
  const vectors = Array.isArray(e) ? e : isObject(e) ? e.float : undefined;
  if (!Array.isArray(vectors)) throw new TranslationError("'embeddings.float' not in cohere embed response");
  const meta = isObject(body.meta) ? body.meta : {};
  const tokens = isObject(meta.tokens) ? meta.tokens : {};
  const billed = isObject(meta.billed_units) ? meta.billed_units : {};
  const input = num(tokens.input_tokens) ?? num(billed.input_tokens) ?? 0;
  return {
    object: 'list',
    data: vectors.map((vec, index) => ({
      object: 'embedding', index,
      embedding: vec as number[],
    })),
    model: ctx.model,
    usage: { prompt_tokens: input, total_tokens: input },
  };
}

export function parseCohereResponse(body: unknown, ctx: TargetContext): OpenAIResponseBody {
  if (!isObject(body)) throw new TranslationError(`failed to decode cohere ${ctx.routeType} response`);
  return ctx.routeType === 'llm/v1/embeddings' ? parseEmbed(body, ctx) : parseChat(body, ctx);
}

/** Cohere errors are `{"message": "..."}` (v2 may add an `id`); statuses include 498 and 499. */
export function parseCohereError(status: number, body: unknown, ctx: TargetContext): ProviderError {
  if (isObject(body) && typeof body.message === 'string') return providerError(status, body.message, ctx);
  if (isObject(body) && isObject(body.error) && typeof body.error.message === 'string') {
    return providerError(status, body.error.message, ctx);
  }
  return providerError(status, fallbackMessage(status, body), ctx);
}
