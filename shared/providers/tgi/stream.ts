// Text Generation Inference's token stream (POST /generate_stream, or / with "stream": true) into OpenAI
// chunks. Facts: router/src/lib.rs (StreamResponse, StreamDetails.input_length).
import type { FinishReason, Usage } from '../../openai/types';
import { providerError } from '../core/errors';
import { eventJson, isObject, num } from '../core/json';
import {
  ProviderStreamError, UpstreamFormatError, type StreamChunk, type StreamTranslator, type TargetContext, type UpstreamEvent,
} from '../core/types';
import { streamChunk, type ChunkDelta } from '../openai-format/chunk';
import { tgiErrorStatus } from './errors';
import { tgiFinish } from './response';

/**
 * TGI's token stream (`data: {"index", "token": {"text", "special"}, "generated_text": null, "details": null}`,
 * the last event with `generated_text` and `details {finish_reason, generated_tokens, input_length}`; no
 * [DONE]) into chat or text-completion chunks. Special tokens (`</s>`) are not text. `trimStart` drops the
 * answer's leading whitespace (Llama-2 answers start with a space; Kong trims the non-streamed text too).
 */
export function tgiTokenStreamTranslator(ctx: TargetContext, opts: { trimStart: boolean }): StreamTranslator {
  const chat = ctx.routeType !== 'llm/v1/completions';
  const id = chat ? `chatcmpl-${ctx.requestId}` : `cmpl-${ctx.requestId}`;
  const created = ctx.now();
  const model = ctx.model;
  let usage: Usage | undefined;
  let done = false;
  let first = true;
  let leading = opts.trimStart;

  const shape = { completions: !chat };
  const chunk = (text: string, finish: FinishReason | null): StreamChunk => {
    const delta: ChunkDelta = chat && first ? { role: 'assistant', content: text } : { content: text };
    first = false;
    return streamChunk({ id, created, model }, shape, delta, finish);
  };

  return {
    push(ev: UpstreamEvent): StreamChunk[] {
      if (done) return [];
      const v = eventJson(ev.data, ctx.provider);
      if (!isObject(v)) throw new UpstreamFormatError(`unexpected ${ctx.provider} stream event`);
      if (v.error !== undefined) {
        const message = typeof v.error === 'string' ? v.error : JSON.stringify(v.error);
        throw new ProviderStreamError(providerError(tgiErrorStatus(v.error_type), message, ctx,
          typeof v.error_type === 'string' ? v.error_type : null));
      }
      const out: StreamChunk[] = [];
      const token = isObject(v.token) ? v.token : undefined;
      let text = token && token.special !== true && typeof token.text === 'string' ? token.text : '';
      if (leading) {
        text = text.replace(/^\s+/, '');
        if (text !== '') leading = false;
      }
      if (text !== '' || (first && chat)) out.push(chunk(text, null));
      if (v.generated_text !== null && v.generated_text !== undefined) {
        done = true;
        const details = isObject(v.details) ? v.details : undefined;
        const completion = num(details?.generated_tokens);
        // input_length in current TGI; prompt_tokens in some 1.x releases.
        const prompt = num(details?.input_length) ?? num(details?.prompt_tokens);
        if (completion !== undefined && prompt !== undefined) {
          usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
        }
        out.push(streamChunk({ id, created, model }, shape, {}, tgiFinish(details?.finish_reason)));
      }
      return out;
    },
    end() {
      if (!done) throw new UpstreamFormatError(`${ctx.provider} stream ended before its final event (generated_text)`);
      return usage ? { chunks: [], usage } : { chunks: [] };
    },
    usage: () => usage,
  };
}
