// One client stream: upstream bytes → framing → the provider's translator → the client's events. By
// default those are OpenAI's chat server-sent events: the usage chunk when the client asked for one,
// `data: [DONE]` at the end; another client API (the Responses API) brings its own encoder. Every
// failure (an error the provider sends in the stream, a stream that cannot be translated, a stream cut
// short) becomes the encoder's error event: never a silent cut. Memory is bounded by one event.
import type { Usage } from '../../openai/types';
import { openAIError, type OpenAIErrorBody } from '../../openai/errors';
import { redactSecrets } from './auth';
import { createFrameDecoder, type FrameDecoder } from './framing';
import {
  ProviderStreamError, VERBATIM, type Provider, type StreamChunk, type StreamTranslator, type TargetContext, type UpstreamEvent,
  type VerbatimChunk,
} from './types';

const DONE = 'data: [DONE]\n\n';

export function sseData(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

/** How the translated chunks are written for the client. */
export interface ClientStreamEncoder {
  chunk(c: StreamChunk): string;
  /** After the last chunk, with the provider's final usage: the closing text and the chunks it holds. */
  end(usage: Usage | undefined): { text: string; chunks: number };
  /** The stream failed with this error: the closing text. */
  fail(error: OpenAIErrorBody): string;
}

/** OpenAI's chat completion stream: each chunk a `data:` line, the usage chunk if asked, then [DONE]. */
export class ChatSseEncoder implements ClientStreamEncoder {
  private last: { id: string; created: number; model: string; object: string } | undefined;

  constructor(private readonly includeUsage: boolean) {}

  chunk(c: StreamChunk): string {
    this.last = { id: c.id, created: c.created, model: c.model, object: c.object };
    const verbatim = (c as VerbatimChunk)[VERBATIM];
    return verbatim === undefined ? sseData(c) : `data: ${verbatim}\n\n`;
  }

  end(usage: Usage | undefined): { text: string; chunks: number } {
    if (this.includeUsage && usage && this.last) {
      const usageChunk = { id: this.last.id, object: this.last.object, created: this.last.created, model: this.last.model, choices: [], usage };
      return { text: sseData(usageChunk) + DONE, chunks: 1 };
    }
    return { text: DONE, chunks: 0 };
  }

  fail(error: OpenAIErrorBody): string {
    return sseData(error) + DONE;
  }
}

export class StreamPipeline {
  private readonly decoder: FrameDecoder;
  private readonly translator: StreamTranslator;
  private readonly encoder: ClientStreamEncoder;
  private finalUsage: Usage | undefined;
  private closed = false;
  private error: OpenAIErrorBody | undefined;
  private errorStatus: number | undefined;
  /** Chunks written to the client (statistics, and tests). */
  chunks = 0;

  /** `onChunk` sees every chunk written, as an object (statistics without parsing the SSE text back). */
  constructor(provider: Provider, private readonly ctx: TargetContext, private readonly onChunk?: (chunk: StreamChunk) => void,
    encoder?: ClientStreamEncoder) {
    this.decoder = createFrameDecoder(provider.framing(ctx));
    this.translator = provider.streamTranslator(ctx);
    this.encoder = encoder ?? new ChatSseEncoder(ctx.includeUsage);
  }

  /** The provider's usage for this stream: final after end(), partial after a failure. */
  get usage(): Usage | undefined {
    return this.finalUsage ?? this.translator.usage();
  }

  /** The error event sent, if the stream failed. */
  get failure(): OpenAIErrorBody | undefined {
    return this.error;
  }

  /** The provider's own status for an error event it sent; undefined for other failures (a cut or unreadable stream). */
  get failureStatus(): number | undefined {
    return this.errorStatus;
  }

  get finished(): boolean {
    return this.closed;
  }

  /** Upstream bytes in, client SSE text out (often empty). */
  write(bytes: Uint8Array): string {
    if (this.closed) return '';
    this.out = '';
    try {
      this.emit(this.decoder.push(bytes));
    } catch (e) {
      this.out += this.fail(e);
    }
    return this.take();
  }

  /** The upstream ended normally. */
  end(): string {
    if (this.closed) return '';
    this.out = '';
    try {
      this.emit(this.decoder.end());
      const end = this.translator.end();
      this.serialise(end.chunks);
      this.finalUsage = end.usage ?? this.translator.usage();
    } catch (e) {
      this.out += this.fail(e);
      return this.take();
    }
    const closing = this.encoder.end(this.finalUsage);
    this.chunks += closing.chunks;
    this.closed = true;
    this.out += closing.text;
    return this.take();
  }

  /** The stream broke (upstream reset, timeout, untranslatable data): the encoder's error event. */
  fail(err: unknown): string {
    if (this.closed) return '';
    this.closed = true;
    this.errorStatus = err instanceof ProviderStreamError ? err.error.status : undefined;
    this.error = err instanceof ProviderStreamError ? err.error.body
      : openAIError(502, redactSecrets(`upstream stream failed: ${err instanceof Error ? err.message : String(err)}`, this.ctx), 'stream_error');
    return this.encoder.fail(this.error);
  }

  /** Output of the current call, kept even when a later event of the same call fails. */
  private out = '';

  private take(): string {
    const o = this.out;
    this.out = '';
    return o;
  }

  private emit(events: UpstreamEvent[]): void {
    for (const ev of events) this.serialise(this.translator.push(ev));
  }

  private serialise(chunks: StreamChunk[]): void {
    for (const c of chunks) {
      this.onChunk?.(c);
      this.out += this.encoder.chunk(c);
      this.chunks++;
    }
  }
}
