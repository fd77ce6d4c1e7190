// From a provider's response to the client's answer, in two steps: first read as much as it takes to
// know whether the answer is usable (a whole JSON body translated; a stream up to its first chunk),
// writing nothing, so that the request can still move on to another target; then write it. A failure
// before the first byte comes back as an AttemptFailed: what it was in nginx's terms, and the answer
// the client gets if no other target serves.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AttemptFailure } from '../balancer/failover-policy';
import { encodeEmbeddings } from '../openai/embeddings-encoding';
import { openAIError, type OpenAIErrorBody } from '../openai/errors';
import type { EmbeddingsList, OpenAIResponseBody, Usage } from '../openai/types';
import { redactSecrets } from '../providers/core/auth';
import { isObject, parseJson } from '../providers/core/json';
import { StreamPipeline } from '../providers/core/stream-pipeline';
import { UpstreamFormatError } from '../providers/core/types';
import { ResponsesSseEncoder, ResponsesStream } from '../responses/stream';
import type { ProviderCall } from './prepare';
import { StreamStats } from './stream-stats';
import { upstreamFailure, UpstreamFailure, type UpstreamResponse } from './upstream-client';

/** Largest provider response read whole (non-streaming answers). */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** Largest error body read (and, in preserve, kept for usage). */
export const MAX_ERROR_BYTES = 1024 * 1024;

/** What the client gets when no target served: OpenAI's error shape, or in preserve the provider's own bytes. */
export type FailedAnswer =
  | { readonly kind: 'json'; readonly status: number; readonly body: OpenAIErrorBody; readonly headers: OutgoingHttpHeaders }
  | { readonly kind: 'raw'; readonly status: number; readonly body: Buffer; readonly headers: OutgoingHttpHeaders };

/** An attempt that produced no usable answer. */
export interface AttemptFailed {
  readonly failure: AttemptFailure;
  readonly answer: FailedAnswer;
  /** As told to the client (and the log line's `error`). */
  readonly message: string;
  /** For the operator only (the log line's `error_detail`): host, error code. */
  readonly detail?: string;
  /** A 429's Retry-After, in ms. */
  readonly retryAfterMs?: number;
}

function jsonFailure(failure: AttemptFailure, status: number, message: string, code: string | null, detail?: string,
  headers: OutgoingHttpHeaders = {}): AttemptFailed {
  return { failure, answer: { kind: 'json', status, body: openAIError(status, message, code), headers }, message, ...(detail ? { detail } : {}) };
}

/** A transport failure (unreachable, reset, timed out): 502 or 504, naming the provider, not its address. */
export function transportFailed(f: UpstreamFailure): AttemptFailed {
  return jsonFailure(f.failure, f.status, f.message, f.status === 504 ? 'timeout' : 'bad_gateway', f.detail);
}

/** Retry-After in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(headers: UpstreamResponse['headers'], now = Date.now()): number | undefined {
  const raw = headers['retry-after'];
  const v = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A provider's error answer (non-2xx), in OpenAI's shape with the provider's status and message. */
export async function providerErrorAnswer(call: ProviderCall, up: UpstreamResponse, headers: OutgoingHttpHeaders): Promise<AttemptFailed> {
  let text = '';
  try {
    text = await up.text(MAX_ERROR_BYTES);
  } catch (e) {
    if (!(e instanceof UpstreamFailure)) throw e;
  }
  const err = call.provider.parseError(up.status, parseJson(text) ?? text, call.ctx);
  const status = call.provider.failoverStatus?.(up.status) ?? up.status;
  const retryAfter = up.status === 429 ? retryAfterMs(up.headers) : undefined;
  return {
    failure: { kind: 'http', status },
    answer: { kind: 'json', status: err.status, body: err.body, headers },
    message: err.body.error.message,
    ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
  };
}

/** preserve: a provider's error passes as it came, scrubbed of credentials. */
export async function preserveErrorAnswer(call: ProviderCall, up: UpstreamResponse, headers: OutgoingHttpHeaders): Promise<AttemptFailed> {
  let text = '';
  try { text = await up.text(MAX_ERROR_BYTES); } catch { /* the status still goes back */ }
  const body = Buffer.from(redactSecrets(text, call.ctx), 'utf8');
  const ct = up.headers['content-type'];
  const retryAfter = up.status === 429 ? retryAfterMs(up.headers) : undefined;
  return {
    failure: { kind: 'http', status: call.provider.failoverStatus?.(up.status) ?? up.status },
    answer: { kind: 'raw', status: up.status, body, headers: { ...headers, ...(ct !== undefined ? { 'content-type': ct } : {}) } },
    message: `provider answered ${up.status}`,
    ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
  };
}

/** A whole JSON answer, translated to OpenAI's format. */
export interface JsonAnswer {
  readonly out: OpenAIResponseBody;
  /** What the provider reported. */
  readonly usage: Usage | undefined;
}

export async function readJsonAnswer(call: ProviderCall, up: UpstreamResponse): Promise<{ ok: true; answer: JsonAnswer } | { ok: false; failed: AttemptFailed }> {
  const { ctx, provider } = call;
  const prefix = `transformation failed from type ${ctx.provider}://${ctx.routeType}`;
  let text: string;
  try {
    text = await up.text(MAX_RESPONSE_BYTES);
  } catch (e) {
    return { ok: false, failed: transportFailed(upstreamFailure(e, call.request.url, ctx.provider)) };
  }
  // An answer the translation cannot read is an invalid response, in nginx's terms.
  const invalid = (why: string): { ok: false; failed: AttemptFailed } => ({
    ok: false, failed: jsonFailure({ kind: 'invalid_header', sent: true }, 500, `${prefix}: ${why}`, null),
  });
  const parsed = parseJson(text);
  if (parsed === undefined) return invalid(`failed to decode ${ctx.routeType} response`);
  let out: OpenAIResponseBody;
  try {
    out = provider.parseResponse(parsed, ctx);
  } catch (e) {
    // An answer the translation cannot read is the provider's fault; one it breaks on, ours: either way
    // the client gets Kong's 500, and the log line says which.
    if (e instanceof UpstreamFormatError) return invalid(redactSecrets(e.message, ctx));
    return invalid(`internal error reading the answer: ${redactSecrets(e instanceof Error ? e.message : String(e), ctx)}`);
  }
  if (ctx.routeType === 'llm/v1/embeddings') out = encodeEmbeddings(out as EmbeddingsList, call.body.encoding_format);
  return { ok: true, answer: { out, usage: (out as { usage?: Usage }).usage } };
}

/** A stream up to its first chunk for the client: the point past which nothing can move elsewhere. */
export interface OpenStream {
  readonly pipeline: StreamPipeline;
  readonly stats: StreamStats;
  /** Client SSE text already produced (the first chunk, maybe more); empty when the stream was empty. */
  readonly first: string;
  /** The rest of the provider's bytes. */
  readonly rest: AsyncIterator<Buffer>;
  /** The upstream already ended (or the pipeline finished) while reading up to the first chunk. */
  readonly done: boolean;
}

export async function openStream(call: ProviderCall, up: UpstreamResponse): Promise<{ ok: true; stream: OpenStream } | { ok: false; failed: AttemptFailed }> {
  const stats = new StreamStats(call.target.logging.log_payloads);
  // A Responses API request answered by a chat stream: the client gets the Responses API's events.
  const encoder = call.responses && call.ctx.routeType === 'llm/v1/chat'
    ? new ResponsesSseEncoder(new ResponsesStream(call.responses, { base: call.ctx.requestId, createdAt: call.ctx.now() }, call.model))
    : undefined;
  const pipeline = new StreamPipeline(call.provider, call.ctx, (chunk) => stats.see(chunk), encoder);
  const rest = up.body[Symbol.asyncIterator]();
  let first = '';
  let done = false;
  try {
    while (first === '') {
      const next = await rest.next();
      if (next.done) {
        first = pipeline.end();
        done = true;
        break;
      }
      first = pipeline.write(next.value);
      if (pipeline.finished) {
        done = true;
        break;
      }
    }
  } catch (e) {
    return { ok: false, failed: transportFailed(upstreamFailure(e, call.request.url, call.ctx.provider)) };
  }
  // Failed before any chunk for the client (an error event first, an unreadable stream): still movable.
  if (pipeline.failure && pipeline.chunks === 0) {
    up.discard();
    const provided = pipeline.failureStatus;
    const status = provided ?? 502;
    const failure: AttemptFailure = provided === undefined
      ? { kind: 'invalid_header', sent: true }
      : { kind: 'http', status: call.provider.failoverStatus?.(provided) ?? provided };
    return { ok: false, failed: { failure, answer: { kind: 'json', status, body: pipeline.failure, headers: {} }, message: pipeline.failure.error.message } };
  }
  return { ok: true, stream: { pipeline, stats, first, rest, done } };
}

/** Writes `data`, waiting for the client to drain; false when the client went away. */
async function write(res: ServerResponse, data: string | Buffer): Promise<boolean> {
  if (res.destroyed) return false;
  if (data.length === 0) return true;
  if (!res.write(data)) {
    await new Promise<void>((resolve) => {
      const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
      res.on('drain', done);
      res.on('close', done);
    });
  }
  return !res.destroyed;
}

/** How a stream ended, for the log line. */
export interface StreamEnd {
  readonly error?: string;
  readonly detail?: string;
  /** When the first chunk reached the socket (Date.now()). */
  readonly firstChunkAt: number | null;
}

/** Writes an open stream: its headers and first chunk, then the rest as it arrives. */
export async function pumpStream(res: ServerResponse, call: ProviderCall, up: UpstreamResponse, s: OpenStream,
  headers: OutgoingHttpHeaders): Promise<StreamEnd> {
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    // nginx (Kong) must not buffer: each chunk goes on to the client as it is written.
    'x-accel-buffering': 'no',
  });
  const firstChunkAt = s.first === '' ? null : Date.now();
  let detail: string | undefined;
  await write(res, s.first);
  if (!s.done) {
    try {
      for (;;) {
        const next = await s.rest.next();
        if (next.done) {
          await write(res, s.pipeline.end());
          break;
        }
        if (!await write(res, s.pipeline.write(next.value))) break;
        if (s.pipeline.finished) {
          // The pipeline ended the stream (an error event): stop reading the provider.
          up.discard();
          break;
        }
      }
    } catch (e) {
      const f = upstreamFailure(e, call.request.url, call.ctx.provider);
      if (!res.destroyed) detail = f.detail;
      await write(res, s.pipeline.fail(new Error(res.destroyed ? 'the client went away' : f.message)));
    }
  }
  if (res.destroyed && !s.pipeline.finished) up.discard();
  res.end();
  const error = s.pipeline.failure?.error.message ?? (res.destroyed && !res.writableFinished ? 'the client went away' : undefined);
  return { firstChunkAt, ...(error !== undefined ? { error } : {}), ...(detail !== undefined ? { detail } : {}) };
}

/** preserve: the provider's 2xx answer, untranslated, streamed through as it arrives; `tap` sees every chunk. */
export async function pumpPassThrough(res: ServerResponse, call: ProviderCall, up: UpstreamResponse, headers: OutgoingHttpHeaders,
  tap?: (chunk: Buffer) => void):
  Promise<{ size: number; whole: unknown; text: string | undefined; firstChunkAt: number | null; error?: string; detail?: string }> {
  const ct = up.headers['content-type'];
  const out: OutgoingHttpHeaders = { ...headers };
  if (ct !== undefined) out['content-type'] = ct;
  const streaming = typeof ct === 'string' && /event-stream|ndjson|stream\+json|eventstream/.test(ct);
  if (streaming) out['x-accel-buffering'] = 'no';
  res.writeHead(up.status, out);
  res.flushHeaders();
  const kept: Buffer[] = [];
  let size = 0;
  let firstChunkAt: number | null = null;
  let error: string | undefined;
  let detail: string | undefined;
  try {
    for await (const chunk of up.body) {
      firstChunkAt ??= Date.now();
      size += chunk.length;
      tap?.(chunk);
      if (!streaming && size <= MAX_ERROR_BYTES) kept.push(chunk);
      if (!await write(res, chunk)) break;
    }
    res.end();
  } catch (e) {
    const f = upstreamFailure(e, call.request.url, call.ctx.provider);
    error = f.message;
    detail = f.detail;
    res.destroy();
  }
  const text = !streaming && size <= MAX_ERROR_BYTES ? Buffer.concat(kept).toString('utf8') : undefined;
  const whole = text !== undefined ? parseJson(text) : undefined;
  return { size, whole, text, firstChunkAt, ...(error !== undefined ? { error } : {}), ...(detail !== undefined ? { detail } : {}) };
}

/** The model an answer names, for the log (`response_model`). */
export function answerModel(v: unknown): string | null {
  return isObject(v) && typeof v.model === 'string' && v.model !== '' ? v.model : null;
}
