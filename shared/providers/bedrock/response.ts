// Bedrock's answers → OpenAI's: Converse for chat and legacy completions, InvokeModel for embeddings
// (embeddings.ts). The finish reason and usage readers are shared with the stream (stream.ts).
import type { ChatCompletion, FinishReason, OpenAIResponseBody, TextCompletion, ToolCall, Usage } from '../../openai/types';
import { isObject, num } from '../core/json';
import { UpstreamFormatError, type TargetContext } from '../core/types';
import { wholeAnswer } from '../openai-format/answer';
import { parseEmbeddings } from './embeddings';

/** docs/provider-formats.md §0.2. */
export function finishReason(stopReason: unknown): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    default: // end_turn, stop_sequence, anything new
      return 'stop';
  }
}

/**
 * inputTokens counts the tokens neither read from nor written to the prompt cache, so OpenAI's
 * prompt_tokens is their sum with both cache counts; cached reads are reported as cached_tokens.
 */
export function mapUsage(u: unknown): Usage | undefined {
  if (!isObject(u) || num(u.inputTokens) === undefined) return undefined;
  const read = num(u.cacheReadInputTokens);
  const write = num(u.cacheWriteInputTokens);
  const prompt = u.inputTokens as number + (read ?? 0) + (write ?? 0);
  const completion = num(u.outputTokens) ?? 0;
  const total = read !== undefined || write !== undefined ? prompt + completion : num(u.totalTokens) ?? prompt + completion;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: total,
    ...(read !== undefined ? { prompt_tokens_details: { cached_tokens: read } } : {}),
  };
}

function parseConverse(body: unknown, ctx: TargetContext): ChatCompletion | TextCompletion {
  if (!isObject(body)) throw new UpstreamFormatError('failed to decode bedrock response');
  const message = isObject(body.output) ? body.output.message : undefined;
  const content = isObject(message) ? message.content : undefined;
  if (!Array.isArray(content)) throw new UpstreamFormatError("'output.message.content' not in bedrock response");
  let text = '';
  let sawText = false;
  const toolCalls: ToolCall[] = [];
  for (const block of content) {
    if (!isObject(block)) continue;
    if (typeof block.text === 'string') {
      text += block.text;
      sawText = true;
    } else if (isObject(block.toolUse)) {
      const t = block.toolUse;
      if (typeof t.toolUseId !== 'string' || typeof t.name !== 'string') throw new UpstreamFormatError('invalid toolUse block in bedrock response');
      toolCalls.push({ id: t.toolUseId, type: 'function', function: { name: t.name, arguments: JSON.stringify(t.input ?? {}) } });
    }
    // reasoningContent, citations, guard content and other blocks have no OpenAI chat field.
  }
  const finish = finishReason(body.stopReason);
  const usage = mapUsage(body.usage);
  const completions = ctx.routeType === 'llm/v1/completions';
  return wholeAnswer({ id: `${completions ? 'cmpl' : 'chatcmpl'}-${ctx.requestId}`, created: ctx.now(), model: ctx.model }, { completions },
    { text, toolCalls, content: sawText || toolCalls.length === 0 ? text : null, finish, usage });
}

export function parseResponse(body: unknown, ctx: TargetContext): OpenAIResponseBody {
  switch (ctx.routeType) {
    // preserve: the client speaks Bedrock's own format and gets Bedrock's response untouched.
    case 'preserve': return body as OpenAIResponseBody;
    case 'llm/v1/embeddings': return parseEmbeddings(body, ctx);
    default: return parseConverse(body, ctx);
  }
}

