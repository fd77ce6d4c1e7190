// Anthropic Messages responses and errors → OpenAI's shapes (docs/provider-formats.md §0.2, §0.3, §3).
import type { ChatCompletion, FinishReason, TextCompletion, ToolCall, Usage } from '../../openai/types';
import { fallbackMessage, providerError } from '../core/errors';
import { isObject, num } from '../core/json';
import { UpstreamFormatError, type ProviderError, type TargetContext } from '../core/types';
import { RESPONSE_FORMAT_TOOL } from './request';
import { contentBesideTools, wholeAnswer } from '../openai-format/answer';

/**
 * `stop_reason` → OpenAI `finish_reason` (Kong passes the raw value through; OpenAI clients only know
 * the four below). `tool_use` is `stop` when the only tool used was the gateway's JSON-output tool.
 */
export function mapStopReason(reason: unknown, realToolCalls: boolean): FinishReason | null {
  switch (reason) {
    case null:
    case undefined:
      return null;
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return realToolCalls ? 'tool_calls' : 'stop';
    case 'refusal':
      return 'content_filter';
    default: // end_turn, stop_sequence, pause_turn
      return 'stop';
  }
}

/** Token counts as Anthropic reports them, merged field by field (a stream reports them in two places). */
export interface AnthropicCounts {
  input?: number;
  output?: number;
  cacheCreation?: number;
  cacheRead?: number;
}

export function mergeCounts(into: AnthropicCounts, usage: unknown): void {
  if (!isObject(usage)) return;
  const set = (k: keyof AnthropicCounts, v: unknown) => {
    const n = num(v);
    if (n !== undefined) into[k] = n;
  };
  set('input', usage.input_tokens);
  set('output', usage.output_tokens);
  set('cacheCreation', usage.cache_creation_input_tokens);
  set('cacheRead', usage.cache_read_input_tokens);
}

/**
 * Anthropic's `input_tokens` excludes cached tokens: the prompt is input + cache writes + cache reads,
 * and the cache reads are OpenAI's `cached_tokens`.
 */
export function toUsage(c: AnthropicCounts): Usage | undefined {
  if (c.input === undefined && c.output === undefined) return undefined;
  const prompt = (c.input ?? 0) + (c.cacheCreation ?? 0) + (c.cacheRead ?? 0);
  const completion = c.output ?? 0;
  const u: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (c.cacheRead !== undefined) u.prompt_tokens_details = { cached_tokens: c.cacheRead };
  return u;
}

export function parseAnthropicResponse(body: unknown, ctx: TargetContext): ChatCompletion | TextCompletion {
  if (!isObject(body) || !Array.isArray(body.content)) throw new UpstreamFormatError("'content' not in anthropic response");
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const block of body.content) {
    if (!isObject(block)) continue;
    if (block.type === 'text' && typeof block.text === 'string') {
      // Blocks are one continuous text (split only around citations): joined as a stream would be.
      text += block.text;
    } else if (block.type === 'tool_use') {
      const args = JSON.stringify(block.input ?? {});
      if (block.name === RESPONSE_FORMAT_TOOL) text += args;
      else toolCalls.push({ id: String(block.id), type: 'function', function: { name: String(block.name), arguments: args } });
    }
    // thinking, redacted_thinking and server tool blocks have no OpenAI equivalent: dropped.
  }
  const counts: AnthropicCounts = {};
  mergeCounts(counts, body.usage);
  const usage = toUsage(counts);
  const id = typeof body.id === 'string' ? body.id : `chatcmpl-${ctx.requestId}`;
  const model = typeof body.model === 'string' ? body.model : ctx.model;
  const finish = mapStopReason(body.stop_reason, toolCalls.length > 0);
  return wholeAnswer({ id, created: ctx.now(), model }, { completions: ctx.routeType === 'llm/v1/completions', logprobs: true },
    { text, toolCalls, content: contentBesideTools(text, toolCalls), finish, usage });
}

/** Anthropic's error types and the HTTP status each comes with (for errors sent inside a stream). */
const ERROR_STATUS: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

export function statusForErrorType(type: unknown): number {
  return (typeof type === 'string' ? ERROR_STATUS[type] : undefined) ?? 500;
}

/**
 * `{"type":"error","error":{"type","message"},"request_id"}` → OpenAI's error shape. The status is
 * kept (529 overloaded stays 529, distinct from 429 rate limits); Anthropic's error type becomes `code`.
 */
export function parseAnthropicError(status: number, body: unknown, ctx: TargetContext): ProviderError {
  const e = isObject(body) ? body.error : undefined;
  if (isObject(e) && typeof e.message === 'string') {
    return providerError(status, e.message, ctx, typeof e.type === 'string' ? e.type : null);
  }
  if (isObject(body) && typeof body.message === 'string') return providerError(status, body.message, ctx);
  return providerError(status, fallbackMessage(status, body), ctx);
}
