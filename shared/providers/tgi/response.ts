// Text Generation Inference's native answer (`[{generated_text, details}]` or `{generated_text, details}`):
// the generated text, its finish reason and token counts. Facts: router/src/lib.rs (Details).
import type { FinishReason, Usage } from '../../openai/types';
import { isObject, num } from '../core/json';
import { UpstreamFormatError, type TargetContext } from '../core/types';

/** TGI finish reasons (Length, EndOfSequenceToken, StopSequence) into OpenAI's. */
export function tgiFinish(v: unknown): FinishReason {
  return v === 'length' ? 'length' : 'stop';
}


export interface TgiGeneration {
  text: string;
  finish: FinishReason;
  usage?: Usage;
}

/** `[{generated_text, details}]` (the HF API and TGI's POST /) or `{generated_text, details}` (/generate). */
export function parseTgiGeneration(body: unknown, ctx: TargetContext): TgiGeneration {
  const g = Array.isArray(body) ? body[0] : body;
  if (!isObject(g) || typeof g.generated_text !== 'string') {
    throw new UpstreamFormatError(`'generated_text' not in ${ctx.provider} response`);
  }
  const details = isObject(g.details) ? g.details : undefined;
  const out: TgiGeneration = { text: g.generated_text, finish: tgiFinish(details?.finish_reason) };
  const completion = num(details?.generated_tokens);
  const prompt = Array.isArray(details?.prefill) && details.prefill.length > 0 ? details.prefill.length : undefined;
  if (completion !== undefined && prompt !== undefined) {
    out.usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  }
  return out;
}
