// Text Generation Inference's native API (POST / or /generate(_stream), `{inputs, parameters, stream}`),
// spoken by Hugging Face's text-generation task and by llama2 in raw format: the request body.
// Facts: huggingface/text-generation-inference router/src/{lib.rs,validation.rs} (GenerateParameters,
// parameter checks).
import type { ChatRequest, CompletionRequest } from '../../openai/types';
import { num, type Json } from '../core/json';
import type { TargetContext } from '../core/types';
import { stopList } from '../openai-format/request-fields';

/**
 * OpenAI sampling fields as TGI `parameters`. TGI refuses temperature <= 0, top_p outside (0, 1) and
 * top_k <= 0 (validation.rs), where OpenAI's 0 / 1 mean "greedy" / "no filtering": such values are left
 * out (TGI then decodes greedily / does not filter). `details` gives the finish reason and token counts;
 * `decoder_input_details` adds the prompt tokens (`prefill`), which TGI refuses on streams, where the
 * final event's `details.input_length` gives them instead (TGI's own OpenAI layer asks the same way).
 * `return_full_text: false` keeps the prompt out of the answer (the HF API's default is to echo it).
 */
export function tgiParameters(body: ChatRequest | CompletionRequest, ctx: TargetContext): Json {
  const p: Json = {};
  const maxTokens = num(body.max_tokens) ?? num(body.max_completion_tokens);
  if (maxTokens !== undefined) p.max_new_tokens = maxTokens;
  const temperature = num(body.temperature);
  if (temperature !== undefined && temperature > 0) p.temperature = temperature;
  const topP = num(body.top_p);
  if (topP !== undefined && topP > 0 && topP < 1) p.top_p = topP;
  const topK = num(body.top_k);
  if (topK !== undefined && topK > 0) p.top_k = topK;
  const stop = stopList(body.stop);
  if (stop && stop.length > 0) p.stop = stop;
  const seed = num(body.seed);
  if (seed !== undefined) p.seed = seed;
  for (const k of ['frequency_penalty', 'repetition_penalty'] as const) {
    const v = num(body[k]);
    if (v !== undefined) p[k] = v;
  }
  p.return_full_text = false;
  p.details = true;
  if (!ctx.stream) p.decoder_input_details = true;
  return p;
}

export function tgiGenerateBody(inputs: string, body: ChatRequest | CompletionRequest, ctx: TargetContext): Json {
  return { inputs, parameters: tgiParameters(body, ctx), stream: ctx.stream };
}
