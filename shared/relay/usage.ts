// Token counts, cost and time per token for one request, with Kong's field names and formulas
// (kong/llm/plugin/observability.lua, serialize-analytics.lua): total = prompt + completion; cost =
// (prompt × input_cost + completion × output_cost) / 1e6, 0 unless both prices are set;
// time_per_token = llm_latency / completion_tokens (0 without completion tokens). Where the provider
// reports no count, the count is estimated (about 4 characters a token) and marked as estimated:
// never a 0 that only means "unknown".
import type { OpenAIResponseBody, Usage } from '../openai/types';
import { isObject } from '../providers/core/json';

export interface UsageFigures {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  estimated: { prompt: boolean; completion: boolean };
}

/** A failed call: nothing was generated, and nothing is guessed about what the provider billed. */
export const NO_USAGE: UsageFigures = Object.freeze({
  prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, estimated: Object.freeze({ prompt: false, completion: false }),
}) as UsageFigures;

export function estimateTokens(chars: number): number {
  return chars > 0 ? Math.ceil(chars / 4) : 0;
}

function contentChars(content: unknown): number {
  if (typeof content === 'string') return content.length;
  if (Array.isArray(content)) {
    return content.reduce((n: number, p: unknown) => {
      const part = p as { type?: unknown; text?: unknown } | null;
      return n + (part && part.type === 'text' && typeof part.text === 'string' ? part.text.length : 0);
    }, 0);
  }
  return 0;
}

/** Characters of prompt text in a request body: messages' text, a completion prompt, embedding input. */
export function promptChars(body: Readonly<Record<string, unknown>>): number {
  let n = 0;
  if (Array.isArray(body.messages)) {
    for (const m of body.messages as Array<{ content?: unknown; tool_calls?: unknown } | null>) {
      n += contentChars(m?.content);
      if (m?.tool_calls !== undefined) n += JSON.stringify(m.tool_calls).length;
    }
  }
  if (typeof body.prompt === 'string') n += body.prompt.length;
  const input = body.input;
  if (typeof input === 'string') n += input.length;
  else if (Array.isArray(input)) for (const x of input) if (typeof x === 'string') n += x.length;
  if (Array.isArray(body.tools)) n += JSON.stringify(body.tools).length;
  return n;
}

/** The provider's counts where it gave them, estimates (marked) where it did not. */
export function usageFigures(reported: Usage | undefined, promptTextChars: number, completionTextChars: number,
  completionExpected: boolean): UsageFigures {
  const promptKnown = reported !== undefined && typeof reported.prompt_tokens === 'number';
  const completionKnown = reported !== undefined && typeof reported.completion_tokens === 'number'
    && (reported.completion_tokens > 0 || !completionExpected || completionTextChars === 0);
  const prompt = promptKnown ? reported.prompt_tokens : estimateTokens(promptTextChars);
  const completion = completionKnown ? reported!.completion_tokens : estimateTokens(completionTextChars);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    estimated: { prompt: !promptKnown && prompt > 0, completion: !completionKnown && completion > 0 },
  };
}

export function cost(u: UsageFigures, inputCost: number | null, outputCost: number | null): number {
  if (!inputCost || !outputCost) return 0;
  return (u.prompt_tokens * inputCost + u.completion_tokens * outputCost) / 1e6;
}

export function timePerToken(llmLatency: number, completionTokens: number): number {
  return completionTokens > 0 ? llmLatency / completionTokens : 0;
}

/** Characters of answer text in a (non-streamed) response: message or completion text, tool calls. */
export function completionChars(out: OpenAIResponseBody): number {
  const choices = (out as { choices?: unknown }).choices;
  if (!Array.isArray(choices)) return 0;
  let n = 0;
  for (const c of choices) {
    if (!isObject(c)) continue;
    if (typeof c.text === 'string') n += c.text.length;
    const m = isObject(c.message) ? c.message : undefined;
    if (typeof m?.content === 'string') n += m.content.length;
    if (m && Array.isArray(m.tool_calls)) n += JSON.stringify(m.tool_calls).length;
  }
  return n;
}
