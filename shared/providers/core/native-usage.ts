// Token counts in providers' own response bodies, for `preserve`, where the answer passes through
// untranslated but its usage still counts. One reader per wire format; each provider names its own
// (Provider.nativeUsage).
import type { Usage } from '../../openai/types';
import { isObject, num } from './json';

function counts(prompt: unknown, completion: unknown): Usage | undefined {
  const p = num(prompt);
  if (p === undefined) return undefined;
  const c = num(completion) ?? 0;
  return { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
}

/**
 * OpenAI and the OpenAI-compatible APIs: `usage.prompt_tokens` / `completion_tokens`; a Responses API
 * response (`object: "response"`) says `input_tokens` / `output_tokens`.
 */
export function openaiUsage(v: unknown): Usage | undefined {
  if (!isObject(v) || !isObject(v.usage)) return undefined;
  return v.object === 'response' ? counts(v.usage.input_tokens, v.usage.output_tokens) : counts(v.usage.prompt_tokens, v.usage.completion_tokens);
}

/** Anthropic's Messages API: `usage.input_tokens` / `output_tokens`. */
export function anthropicUsage(v: unknown): Usage | undefined {
  return isObject(v) && isObject(v.usage) ? counts(v.usage.input_tokens, v.usage.output_tokens) : undefined;
}

/** Bedrock Converse: `usage.inputTokens` / `outputTokens`. */
export function bedrockUsage(v: unknown): Usage | undefined {
  return isObject(v) && isObject(v.usage) ? counts(v.usage.inputTokens, v.usage.outputTokens) : undefined;
}

/** Gemini: `usageMetadata.promptTokenCount` / `candidatesTokenCount`. */
export function geminiUsage(v: unknown): Usage | undefined {
  return isObject(v) && isObject(v.usageMetadata) ? counts(v.usageMetadata.promptTokenCount, v.usageMetadata.candidatesTokenCount) : undefined;
}

/** Cohere: v2 `usage.billed_units`, v1 `meta.billed_units` (input_tokens / output_tokens). */
export function cohereUsage(v: unknown): Usage | undefined {
  if (!isObject(v)) return undefined;
  const billed = isObject(v.usage) && isObject(v.usage.billed_units) ? v.usage.billed_units
    : isObject(v.meta) && isObject(v.meta.billed_units) ? v.meta.billed_units : undefined;
  return billed ? counts(billed.input_tokens, billed.output_tokens) : undefined;
}

/** Ollama: `prompt_eval_count` / `eval_count`. */
export function ollamaUsage(v: unknown): Usage | undefined {
  return isObject(v) ? counts(v.prompt_eval_count, v.eval_count) : undefined;
}
