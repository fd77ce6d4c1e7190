// Token counts of a stream that passes through unchanged (native formats; the Responses API to openai
// and azure): the bytes the client gets are also decoded through the provider's framing
// (shared/providers/core/framing.ts: SSE, or AWS event-stream for Bedrock) and the usage picked from the
// provider's own events. Nothing is kept but the counts and the framing's one pending event, so memory
// stays bounded whatever the stream's length. A stream the tap cannot read is still passed on: the tap
// stops and the counts are estimated.
import type { Usage } from '../openai/types';
import { createFrameDecoder, type FrameDecoder } from '../providers/core/framing';
import { isObject, num, parseJson } from '../providers/core/json';
import type { UpstreamEvent } from '../providers/core/types';
import type { NativeFormat } from '../native/formats';

interface Counts { prompt?: number; completion?: number; model?: string }

/** Gemini: every chunk may carry `usageMetadata`, the last one the totals. */
function geminiEvent(v: Record<string, unknown>, c: Counts): void {
  if (typeof v.modelVersion === 'string') c.model = v.modelVersion;
  const u = v.usageMetadata;
  if (!isObject(u)) return;
  c.prompt = num(u.promptTokenCount) ?? c.prompt;
  c.completion = num(u.candidatesTokenCount) ?? c.completion;
}

/** Bedrock ConverseStream: the `metadata` event's `usage`. */
function bedrockEvent(v: Record<string, unknown>, c: Counts, e: UpstreamEvent): void {
  if (e.event !== 'metadata' || !isObject(v.usage)) return;
  c.prompt = num(v.usage.inputTokens) ?? c.prompt;
  c.completion = num(v.usage.outputTokens) ?? c.completion;
}

/** Anthropic: `message_start.message.usage` (input, first output count), then `message_delta.usage` (output so far). */
function anthropicEvent(v: Record<string, unknown>, c: Counts): void {
  if (v.type === 'message_start' && isObject(v.message)) {
    if (typeof v.message.model === 'string') c.model = v.message.model;
    const u = v.message.usage;
    if (isObject(u)) {
      c.prompt = num(u.input_tokens) ?? c.prompt;
      c.completion = num(u.output_tokens) ?? c.completion;
    }
  } else if (v.type === 'message_delta' && isObject(v.usage)) {
    c.prompt = num(v.usage.input_tokens) ?? c.prompt;
    c.completion = num(v.usage.output_tokens) ?? c.completion;
  }
}

/** The Responses API: the event that closes the response carries all of it, usage and model. */
const RESPONSES_CLOSING = new Set(['response.completed', 'response.incomplete', 'response.failed']);

function responsesEvent(v: Record<string, unknown>, c: Counts): void {
  const r = v.response;
  if (!isObject(r)) return;
  if (typeof r.model === 'string') c.model = r.model;
  if (!isObject(r.usage)) return;
  c.prompt = num(r.usage.input_tokens) ?? c.prompt;
  c.completion = num(r.usage.output_tokens) ?? c.completion;
}

/** The streams a tap reads: the native formats, and OpenAI's Responses API. */
export type TappedFormat = NativeFormat | 'openai-responses';

/** Reads the usage off a passing stream's bytes; `usage` and `model` hold what it has seen so far. */
export class UsageTap {
  private decoder: FrameDecoder | undefined;
  private ended = false;
  private readonly c: Counts = {};

  constructor(private readonly format: TappedFormat) {
    this.decoder = createFrameDecoder(format === 'bedrock' ? 'aws-eventstream' : 'sse');
  }

  /** Bytes on their way to the client. */
  push(chunk: Uint8Array): void {
    this.read((d) => d.push(chunk));
  }

  /** The counts the stream reported (undefined: none); the first read takes what the framing still held. */
  get usage(): Usage | undefined {
    if (!this.ended) {
      this.ended = true;
      this.read((d) => d.end());
    }
    const { prompt, completion } = this.c;
    if (prompt === undefined) return undefined;
    return { prompt_tokens: prompt, completion_tokens: completion ?? 0, total_tokens: prompt + (completion ?? 0) };
  }

  /** The model the stream names (Anthropic's message_start, Gemini's modelVersion, the closing response's). */
  get model(): string | undefined {
    return this.c.model;
  }

  private read(decode: (d: FrameDecoder) => UpstreamEvent[]): void {
    if (!this.decoder) return;
    let events: UpstreamEvent[];
    try {
      events = decode(this.decoder);
    } catch {
      // Unreadable framing: the client still gets every byte; the counts stop here.
      this.decoder = undefined;
      return;
    }
    for (const e of events) {
      if (e.exception) continue;
      // Only the closing event of a Responses API stream counts: the deltas are not parsed.
      if (this.format === 'openai-responses' && (e.event === undefined || !RESPONSES_CLOSING.has(e.event))) continue;
      const v = parseJson(e.data);
      if (!isObject(v)) continue;
      if (this.format === 'gemini') geminiEvent(v, this.c);
      else if (this.format === 'bedrock') bedrockEvent(v, this.c, e);
      else if (this.format === 'anthropic') anthropicEvent(v, this.c);
      else responsesEvent(v, this.c);
    }
  }
}

/** The tap for a pass-through stream: a native route's, or a Responses API stream passed to its provider. */
export function passThroughTap(format: NativeFormat | undefined, responsesApi: boolean, stream: boolean): UsageTap | undefined {
  if (!stream) return undefined;
  if (format !== undefined) return new UsageTap(format);
  return responsesApi ? new UsageTap('openai-responses') : undefined;
}
