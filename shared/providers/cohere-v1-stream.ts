// Cohere v1's chat stream (NDJSON: stream-start, text-generation, ..., stream-end with the whole
// response and its `meta` counts) → OpenAI chunks; the events Kong's driver reads
// (kong/llm/drivers/cohere.lua `handle_stream_event`). Facts: provider-formats.md §7 (v1).
import type { Usage } from '../openai/types';
import { providerError } from './errors';
import { cohereUsage, generationFailure, isFailure, mapFinishReason } from './cohere-response';
import { cohereChunk } from './cohere-stream';
import { eventJson, isObject } from './json';
import {
  ProviderStreamError, TranslationError, type StreamChunk, type StreamTranslator, type TargetContext, type UpstreamEvent,
} from './types';

export function cohereV1StreamTranslator(ctx: TargetContext): StreamTranslator {
  let id = `chatcmpl-${ctx.requestId}`;
  const created = ctx.now();
  let usage: Usage | undefined;
  let ended = false;

  return {
    push(ev: UpstreamEvent): StreamChunk[] {
      if (ended) return [];
      const v = eventJson(ev.data, 'cohere');
      if (!isObject(v)) return [];
      switch (v.event_type) {
        case 'stream-start':
          if (typeof v.generation_id === 'string') id = v.generation_id;
          return ctx.routeType === 'llm/v1/completions' ? [] : [cohereChunk(ctx, id, created, { role: 'assistant', content: '' }, null)];
        case 'text-generation':
          return typeof v.text === 'string' && v.text !== '' ? [cohereChunk(ctx, id, created, { content: v.text }, null)] : [];
        case 'stream-end': {
          const response = isObject(v.response) ? v.response : {};
          usage = cohereUsage(response.meta) ?? usage;
          if (isFailure(v.finish_reason)) throw new ProviderStreamError(generationFailure(v.finish_reason, undefined, ctx));
          ended = true;
          return [cohereChunk(ctx, id, created, {}, mapFinishReason(v.finish_reason) ?? 'stop')];
        }
        case undefined:
          // An error body sent as a line of the stream.
          if (typeof v.message === 'string') throw new ProviderStreamError(providerError(500, v.message, ctx));
          return [];
        default:
          return []; // search-queries-generation, search-results, citation-generation (no tools are sent)
      }
    },
    end() {
      if (!ended) throw new TranslationError('cohere stream ended before stream-end');
      return { chunks: [], usage };
    },
    usage: () => usage,
  };
}
