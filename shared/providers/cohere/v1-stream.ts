// Cohere v1's chat stream (NDJSON: stream-start, text-generation, ..., stream-end with the whole
// response and its `meta` counts) → OpenAI chunks; the events Kong's driver reads
// (kong/llm/drivers/cohere.lua `handle_stream_event`). Facts: docs/provider-formats.md §7 (v1).
import type { FinishReason, Usage } from '../../openai/types';
import { providerError } from '../core/errors';
import { eventJson, isObject } from '../core/json';
import {
  ProviderStreamError, UpstreamFormatError, type StreamChunk, type StreamTranslator, type TargetContext, type UpstreamEvent,
} from '../core/types';
import { streamChunk, type ChunkDelta } from '../openai-format/chunk';
import { cohereUsage, generationFailure, isFailure, mapFinishReason } from './response';
import { cohereChunkShape } from './stream';

export function cohereV1StreamTranslator(ctx: TargetContext): StreamTranslator {
  let id = `chatcmpl-${ctx.requestId}`;
  const created = ctx.now();
  let usage: Usage | undefined;
  let ended = false;
  const shape = cohereChunkShape(ctx);
  const chunk = (delta: ChunkDelta, finish: FinishReason | null = null): StreamChunk =>
    streamChunk({ id, created, model: ctx.model }, shape, delta, finish);

  return {
    push(ev: UpstreamEvent): StreamChunk[] {
      if (ended) return [];
      const v = eventJson(ev.data, 'cohere');
      if (!isObject(v)) return [];
      switch (v.event_type) {
        case 'stream-start':
          if (typeof v.generation_id === 'string') id = v.generation_id;
          return ctx.routeType === 'llm/v1/completions' ? [] : [chunk({ role: 'assistant', content: '' })];
        case 'text-generation':
          return typeof v.text === 'string' && v.text !== '' ? [chunk({ content: v.text })] : [];
        case 'stream-end': {
          const response = isObject(v.response) ? v.response : {};
          usage = cohereUsage(response.meta) ?? usage;
          if (isFailure(v.finish_reason)) throw new ProviderStreamError(generationFailure(v.finish_reason, undefined, ctx));
          ended = true;
          return [chunk({}, mapFinishReason(v.finish_reason) ?? 'stop')];
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
      if (!ended) throw new UpstreamFormatError('cohere stream ended before stream-end');
      return { chunks: [], usage };
    },
    usage: () => usage,
  };
}
