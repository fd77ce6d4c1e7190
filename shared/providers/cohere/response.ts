// Cohere chat (v2, and v1 for configs naming /v1/chat) and embed responses and errors → OpenAI's shapes
// (docs/provider-formats.md §0.2, §0.3, §7).
import type { ChatCompletion, EmbeddingsList, FinishReason, OpenAIResponseBody, TextCompletion, ToolCall, Usage } from '../../openai/types';
import { fallbackMessage, providerError } from '../core/errors';
import { isObject, num } from '../core/json';
import { UpstreamFormatError, type ProviderError, type TargetContext } from '../core/types';
import { contentBesideTools, wholeAnswer } from '../openai-format/answer';

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

/** v2's ERROR and TIMEOUT; v1's ERROR, ERROR_TOXIC, ERROR_LIMIT and USER_CANCEL. */
const FAILURES = new Set(['ERROR', 'TIMEOUT', 'ERROR_TOXIC', 'ERROR_LIMIT', 'USER_CANCEL']);

export function isFailure(reason: unknown): boolean {
  return typeof reason === 'string' && FAILURES.has(reason);
}

/** A failed generation inside a stream: 504 for a timeout, else 500; Cohere's own text when it gives one. */
export function generationFailure(reason: unknown, detail: unknown, ctx: TargetContext): ProviderError {
  return providerError(reason === 'TIMEOUT' ? 504 : 500,
    typeof detail === 'string' && detail !== '' ? detail : `cohere generation failed (${String(reason)})`, ctx);
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

function answer(ctx: TargetContext, id: string, text: string, toolCalls: ToolCall[], finish: FinishReason | null,
  usage: Usage | undefined): ChatCompletion | TextCompletion {
  // Cohere reports no model name: the configured one is used.
  return wholeAnswer({ id, created: ctx.now(), model: ctx.model }, { completions: ctx.routeType === 'llm/v1/completions', logprobs: true },
    { text, toolCalls, content: contentBesideTools(text, toolCalls), finish, usage });
}

/**
 * A v1 chat answer (`text`, `generation_id`, `meta` counts), whichever URL it came from: a v1 upstream
 * behind a v2 URL still gets through. We send v1 no tools, so it carries none.
 */
function parseV1Chat(body: Record<string, unknown>, ctx: TargetContext): ChatCompletion | TextCompletion {
  if (isFailure(body.finish_reason)) throw new UpstreamFormatError(`cohere generation failed (${String(body.finish_reason)})`);
  const id = typeof body.generation_id === 'string' ? body.generation_id : `chatcmpl-${ctx.requestId}`;
  return answer(ctx, id, String(body.text), [], mapFinishReason(body.finish_reason) ?? 'stop', cohereUsage(body.meta));
}

function parseChat(body: Record<string, unknown>, ctx: TargetContext): ChatCompletion | TextCompletion {
  const message = isObject(body.message) ? body.message : null;
  if (!message && typeof body.text === 'string') return parseV1Chat(body, ctx);
  if (!message) throw new UpstreamFormatError("neither 'message' (v2) nor 'text' (v1) in cohere response");
  if (isFailure(body.finish_reason)) throw new UpstreamFormatError(`cohere generation failed (${String(body.finish_reason)})`);
  let text = '';
  if (typeof message.content === 'string') text = message.content;
  else if (Array.isArray(message.content)) {
    for (const c of message.content) if (isObject(c) && c.type === 'text' && typeof c.text === 'string') text += c.text;
  }
  const toolCalls = (Array.isArray(message.tool_calls) ? message.tool_calls : []).map(toolCall).filter((t): t is ToolCall => t !== null);
  // With tool calls Cohere gives its reasoning as `tool_plan` and no content (streamed as content too).
  if (text === '' && typeof message.tool_plan === 'string') text = message.tool_plan;
  const id = typeof body.id === 'string' ? body.id : `chatcmpl-${ctx.requestId}`;
  return answer(ctx, id, text, toolCalls, mapFinishReason(body.finish_reason), cohereUsage(body.usage));
}

/** Float vectors; a client's base64 encoding_format is applied by the proxy (shared/openai/embeddings-encoding.ts). */
function parseEmbed(body: Record<string, unknown>, ctx: TargetContext): EmbeddingsList {
  // v2 answers `embeddings: {float: [[...]]}`; the older float-only shape is a bare array.
  const e = body.embeddings;
  const vectors = Array.isArray(e) ? e : isObject(e) ? e.float : undefined;
  if (!Array.isArray(vectors)) throw new UpstreamFormatError("'embeddings.float' not in cohere embed response");
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
  if (!isObject(body)) throw new UpstreamFormatError(`failed to decode cohere ${ctx.routeType} response`);
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
