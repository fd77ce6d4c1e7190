// OpenAI's stream format from an OpenAI-format upstream (OpenAI, Azure, Mistral): chunks pass through,
// usage is captured for the pipeline, `[DONE]` ends the stream.
import type { ChatCompletionChunk, Usage } from '../../openai/types';
import { parseOpenAIStyleError } from '../core/errors';
import { eventJson, isObject, type Json } from '../core/json';
import {
  ProviderStreamError, UpstreamFormatError, VERBATIM, type StreamChunk, type StreamTranslator, type TargetContext,
  type UpstreamEvent, type VerbatimChunk,
} from '../core/types';

/** An OpenAI `usage` object, completion and total filled in when the server leaves them out. */
export function streamUsage(v: unknown): Usage | undefined {
  if (!isObject(v) || typeof v.prompt_tokens !== 'number') return undefined;
  const completion = typeof v.completion_tokens === 'number' ? v.completion_tokens : 0;
  return { ...(v as object), prompt_tokens: v.prompt_tokens, completion_tokens: completion,
    total_tokens: typeof v.total_tokens === 'number' ? v.total_tokens : v.prompt_tokens + completion } as Usage;
}

export interface OpenAIStreamOptions {
  /** Sees every JSON event first (OpenAI-format providers read their own extra fields there, or throw their own errors). */
  inspect?: (event: Json) => void;
  /**
   * The caller does not change the chunks: an event that needs no change is passed on as the provider's
   * own text (VERBATIM), not serialised again.
   */
  verbatim?: boolean;
  /** Edits each chunk before it is passed on (Azure's and Mistral's differences made OpenAI's). */
  edit?: (chunk: Json) => void;
}

/**
 * An OpenAI-format SSE stream: chunks pass through, the usage-only chunk is captured for the pipeline,
 * `usage` fields dropped when the client did not ask for usage, `[DONE]` marks the normal end, an
 * `{"error": ...}` payload becomes a ProviderStreamError. No event is parsed twice.
 */
export function openaiStreamTranslator(ctx: TargetContext, o: OpenAIStreamOptions = {}): StreamTranslator {
  let usage: Usage | undefined;
  let done = false;
  let sawChunk = false;
  return {
    push(ev: UpstreamEvent): StreamChunk[] {
      if (ev.data === '[DONE]') { done = true; return []; }
      const v = eventJson(ev.data, ctx.provider);
      if (!isObject(v)) return [];
      o.inspect?.(v);
      if (v.error !== undefined || ev.event === 'error') {
        throw new ProviderStreamError(parseOpenAIStyleError(500, v, ctx));
      }
      const u = streamUsage(v.usage);
      if (u) usage = u;
      if (!Array.isArray(v.choices) || v.choices.length === 0) return [];
      sawChunk = true;
      const unchanged = ctx.includeUsage || v.usage === undefined;
      // The provider's chunk is passed on as sent: only its `choices` list is checked.
      if (o.verbatim && unchanged && ev.data.indexOf('\n') === -1 && ev.data.indexOf('\r') === -1) {
        const chunk = v as unknown as VerbatimChunk;
        chunk[VERBATIM] = ev.data;
        return [chunk];
      }
      const chunk: Json = { ...v };
      if (!ctx.includeUsage) delete chunk.usage;
      o.edit?.(chunk);
      // As above: the provider's chunk, `usage` taken out, and whatever `edit` made OpenAI's.
      return [chunk as unknown as ChatCompletionChunk];
    },
    end() {
      if (!done && !sawChunk) throw new UpstreamFormatError(`${ctx.provider} stream ended before any data`);
      if (!done) throw new UpstreamFormatError(`${ctx.provider} stream ended before [DONE]`);
      return { chunks: [], usage };
    },
    usage: () => usage,
  };
}
