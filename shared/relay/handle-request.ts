// One handed-over request, start to end: take the token's context, read and check the body, call the
// provider, and answer: a translated JSON response, a translated stream written chunk by chunk as it
// arrives, the provider's own bytes (preserve), or an OpenAI-style error. Every outcome is recorded
// (request-log.ts). Nothing waits past the provider timeouts, and the provider call is abandoned as
// soon as the client goes away.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { parseJsonObject } from '../kong/read-json-body';
import { encodeEmbeddings } from '../openai/embeddings-encoding';
import type { EmbeddingsList, OpenAIResponseBody, Usage } from '../openai/types';
import { isObject, num, parseJson } from '../providers/json';
import { redactSecrets } from '../providers/auth';
import { StreamPipeline } from '../providers/stream-pipeline';
import { TranslationError, type TargetContext } from '../providers/types';
import type { ProviderTimeouts, RelayContext } from './context';
import { NO_OPTIONS, prepareCall, type ProviderCall } from './prepare';
import type { RequestLog, RequestOutcome } from './request-log';
import { passedHeaders, sendError, sendJson, type ErrorDetails } from './respond';
import { StreamStats } from './stream-stats';
import { upstreamFailure, UpstreamFailure, type UpstreamClient, type UpstreamResponse } from './upstream-client';
import { NO_USAGE, promptChars, usageFigures } from './usage';

/** Largest provider response read whole (non-streaming answers, error bodies). */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const MAX_ERROR_BYTES = 1024 * 1024;

export interface HandlerDeps {
  upstream: UpstreamClient;
  log: RequestLog;
  env: Readonly<Record<string, string | undefined>>;
  /** Provider timeouts when the context carries none. */
  defaultTimeouts: ProviderTimeouts;
  warn(message: string): void;
}

type ReadBody = { ok: true; bytes: Buffer } | { ok: false; size: number };

/** Reads the body; past `max` bytes keeps counting without keeping (a clear 413 after, not a reset). */
function readBody(req: IncomingMessage, max: number): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= max) parts.push(c);
    });
    req.on('end', () => resolve(size > max ? { ok: false, size } : { ok: true, bytes: Buffer.concat(parts) }));
    req.on('error', reject);
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Token counts in a provider's own response format (preserve mode passes it through untranslated). */
export function usageInProviderBody(v: unknown): Usage | undefined {
  if (!isObject(v)) return undefined;
  const pick = (p: unknown, c: unknown): Usage | undefined => {
    const prompt = num(p);
    if (prompt === undefined) return undefined;
    const completion = num(c) ?? 0;
    return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  };
  const u = isObject(v.usage) ? v.usage : undefined;
  const meta = isObject(v.meta) && isObject(v.meta.billed_units) ? v.meta.billed_units : undefined;
  const billed = u && isObject(u.billed_units) ? u.billed_units : undefined;
  const gem = isObject(v.usageMetadata) ? v.usageMetadata : undefined;
  return (u && (pick(u.prompt_tokens, u.completion_tokens) ?? pick(u.input_tokens, u.output_tokens) ?? pick(u.inputTokens, u.outputTokens)))
    ?? (gem && pick(gem.promptTokenCount, gem.candidatesTokenCount))
    ?? (meta && pick(meta.input_tokens, meta.output_tokens))
    ?? (billed && pick(billed.input_tokens, billed.output_tokens))
    ?? pick(v.prompt_eval_count, v.eval_count);
}

function completionChars(out: OpenAIResponseBody): number {
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

/** Enough of a TargetContext to scrub the config's and the environment's credentials from a text. */
function scrubContext(rc: RelayContext, env: Readonly<Record<string, string | undefined>>): TargetContext {
  return {
    provider: rc.target.model.provider, routeType: rc.target.route_type, model: '', stream: false, includeUsage: false,
    options: NO_OPTIONS, auth: rc.target.auth, env, now: () => Math.floor(Date.now() / 1000), requestId: '',
  };
}

export class RequestHandler {
  constructor(private readonly deps: HandlerDeps) {}

  async handle(rc: RelayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = header(req, 'x-kong-request-id') ?? randomUUID().replace(/-/g, '');
    const outcome: RequestOutcome = {
      rc, requestId, target: rc.target, requestModel: rc.target.model.name ?? '', responseModel: null, called: false,
      status: 0, stream: false, llmLatency: -1, firstChunk: null, usage: null,
      // Replaced by the call's own once prepared; until then it scrubs the config's credentials.
      ctx: scrubContext(rc, this.deps.env),
    };
    try {
      await this.run(rc, req, res, outcome);
    } catch (e) {
      // A bug, not a provider failure: the client still gets an answer, the log gets the reason.
      const message = e instanceof Error ? e.message : String(e);
      this.deps.warn(`relay: unexpected error in request ${requestId}: ${redactSecrets(message, outcome.ctx)}`);
      if (!res.headersSent) {
        outcome.status = 500;
        await sendError(req, res, 500, 'An unexpected error occurred in the AI relay').catch(() => {});
      } else {
        res.destroy();
      }
      outcome.error ??= 'unexpected error';
    } finally {
      if (outcome.status === 0) outcome.status = res.statusCode;
      this.deps.log.record(outcome);
    }
  }

  private async fail(req: IncomingMessage, res: ServerResponse, o: RequestOutcome, status: number, message: string,
    details: ErrorDetails = {}): Promise<void> {
    o.status = status;
    o.error = message;
    await sendError(req, res, status, message, details);
  }

  /** A transport failure: the client learns which provider failed, the log also where it lives. */
  private upstreamFailed(req: IncomingMessage, res: ServerResponse, o: RequestOutcome, f: UpstreamFailure): Promise<void> {
    o.errorDetail = f.detail;
    return this.fail(req, res, o, f.status, f.message, { code: f.status === 504 ? 'timeout' : 'bad_gateway' });
  }

  private async run(rc: RelayContext, req: IncomingMessage, res: ServerResponse, o: RequestOutcome): Promise<void> {
    const read = await readBody(req, rc.maxRequestBodySize);
    if (!read.ok) {
      return this.fail(req, res, o, 413, `request body is ${read.size} bytes, over the limit of ${rc.maxRequestBodySize} bytes`, { code: 'request_too_large' });
    }
    const parsed = parseJsonObject(read.bytes, 0);
    if (!parsed.ok) return this.fail(req, res, o, parsed.status, parsed.message);
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    const prepared = await prepareCall(rc, { headers: req.headers, query, body: parsed.body }, o.requestId, this.deps.env);
    if (!prepared.ok) {
      if (prepared.cause !== undefined) {
        const why = prepared.cause instanceof Error ? prepared.cause.message : String(prepared.cause);
        this.deps.warn(`relay: request ${o.requestId}: ${prepared.message}: ${redactSecrets(why, o.ctx)}`);
      }
      return this.fail(req, res, o, prepared.status, prepared.message, { code: prepared.code ?? null, param: prepared.param ?? null });
    }
    const call = prepared.call;
    Object.assign(o, { target: call.target, requestModel: call.model, stream: call.stream, ctx: call.ctx });
    if (call.target.logging.log_payloads) o.payload = { request: call.request.body };

    const abort = new AbortController();
    const onClose = () => { if (!res.writableFinished) abort.abort(); };
    res.on('close', onClose);
    let up: UpstreamResponse;
    o.called = true;
    o.usage = NO_USAGE; // until the answer says otherwise
    try {
      up = await this.deps.upstream.send(call.request, call.ctx.provider, rc.timeouts ?? this.deps.defaultTimeouts, abort.signal, !call.stream);
    } catch (e) {
      o.usage = NO_USAGE;
      return this.upstreamFailed(req, res, o, upstreamFailure(e, call.request.url, call.ctx.provider));
    }
    o.llmLatency = Date.now() - rc.startedAt;
    const headers = passedHeaders(up.headers);
    const debug = header(req, 'kong-debug') !== undefined;
    if (call.ctx.routeType === 'preserve') return this.passThrough(res, o, call, up, headers, debug);
    if (up.status < 200 || up.status > 299) return this.providerError(req, res, o, call, up, headers);
    if ((rc.modelNameHeader || debug) && call.model !== '') headers['x-kong-llm-model'] = `${call.target.model.provider}/${call.model}`;
    if (call.stream) return this.stream(res, o, call, up, headers);
    return this.json(req, res, o, call, up, headers);
  }

  private async providerError(req: IncomingMessage, res: ServerResponse, o: RequestOutcome, call: ProviderCall,
    up: UpstreamResponse, headers: OutgoingHttpHeaders): Promise<void> {
    let text: string;
    try {
      text = await up.text(MAX_ERROR_BYTES);
    } catch (e) {
      text = '';
      if (!(e instanceof UpstreamFailure)) throw e;
    }
    const body = parseJson(text) ?? text;
    const err = call.provider.parseError(up.status, body, call.ctx);
    o.status = err.status;
    o.error = err.body.error.message;
    o.usage = NO_USAGE;
    if (call.target.logging.log_payloads) o.payload = { ...o.payload, response: JSON.stringify(err.body) };
    await sendJson(req, res, err.status, err.body, headers);
  }

  private async json(req: IncomingMessage, res: ServerResponse, o: RequestOutcome, call: ProviderCall,
    up: UpstreamResponse, headers: OutgoingHttpHeaders): Promise<void> {
    const { ctx, provider } = call;
    const prefix = `transformation failed from type ${ctx.provider}://${ctx.routeType}`;
    let text: string;
    try {
      text = await up.text(MAX_RESPONSE_BYTES);
    } catch (e) {
      return this.upstreamFailed(req, res, o, upstreamFailure(e, call.request.url, ctx.provider));
    }
    const parsed = parseJson(text);
    if (parsed === undefined) return this.fail(req, res, o, 500, `${prefix}: failed to decode ${ctx.routeType} response`);
    let out: OpenAIResponseBody;
    try {
      out = provider.parseResponse(parsed, ctx);
    } catch (e) {
      if (e instanceof TranslationError) return this.fail(req, res, o, 500, `${prefix}: ${redactSecrets(e.message, ctx)}`);
      throw e;
    }
    if (ctx.routeType === 'llm/v1/embeddings') out = encodeEmbeddings(out as EmbeddingsList, call.body.encoding_format);
    o.responseModel = typeof out.model === 'string' && out.model !== '' ? out.model : null;
    o.usage = usageFigures((out as { usage?: Usage }).usage, promptChars(call.body), completionChars(out),
      ctx.routeType !== 'llm/v1/embeddings');
    o.status = 200;
    if (call.target.logging.log_payloads) o.payload = { ...o.payload, response: JSON.stringify(out) };
    await sendJson(req, res, 200, out, headers);
  }

  private async stream(res: ServerResponse, o: RequestOutcome, call: ProviderCall, up: UpstreamResponse,
    headers: OutgoingHttpHeaders): Promise<void> {
    const stats = new StreamStats(call.target.logging.log_payloads);
    const pipeline = new StreamPipeline(call.provider, call.ctx, (chunk) => stats.see(chunk));
    res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      // nginx (Kong) must not buffer: each chunk goes on to the client as it is written.
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    o.status = 200;
    const write = async (text: string): Promise<void> => {
      if (text === '' || res.destroyed) return;
      if (o.firstChunk === null) o.firstChunk = Date.now() - o.rc.startedAt;
      if (!res.write(text)) {
        await new Promise<void>((resolve) => {
          const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
          res.on('drain', done);
          res.on('close', done);
        });
      }
    };
    try {
      for await (const chunk of up.body) {
        await write(pipeline.write(chunk));
        if (pipeline.finished) {
          // The pipeline ended the stream (an error event): stop reading the provider.
          up.discard();
          break;
        }
      }
      await write(pipeline.end());
    } catch (e) {
      const f = upstreamFailure(e, call.request.url, call.ctx.provider);
      if (!res.destroyed) o.errorDetail = f.detail;
      await write(pipeline.fail(new Error(res.destroyed ? 'the client went away' : f.message)));
    }
    res.end();
    o.responseModel = stats.model;
    o.usage = usageFigures(pipeline.usage, promptChars(call.body), stats.completionChars, call.ctx.routeType !== 'llm/v1/embeddings');
    if (pipeline.failure) o.error = pipeline.failure.error.message;
    if (res.destroyed && !res.writableFinished) o.error ??= 'the client went away';
    if (call.target.logging.log_payloads) o.payload = { ...o.payload, response: stats.combined() };
  }

  /** preserve: the provider's answer, untranslated, streamed through as it arrives. */
  private async passThrough(res: ServerResponse, o: RequestOutcome, call: ProviderCall,
    up: UpstreamResponse, headers: OutgoingHttpHeaders, debug: boolean): Promise<void> {
    const ct = up.headers['content-type'];
    const out: OutgoingHttpHeaders = { ...headers };
    if (ct !== undefined) out['content-type'] = ct;
    const ok = up.status >= 200 && up.status <= 299;
    const model = typeof call.body.model === 'string' ? call.body.model : call.model;
    if (ok && (o.rc.modelNameHeader || debug) && model !== '') out['x-kong-llm-model'] = `${call.target.model.provider}/${model}`;
    o.status = up.status;
    if (!ok) {
      // Error bodies are small: read whole, scrubbed of credentials before they reach the client.
      let text = '';
      try { text = await up.text(MAX_ERROR_BYTES); } catch { /* the status still goes back */ }
      o.error = `provider answered ${up.status}`;
      const body = Buffer.from(redactSecrets(text, call.ctx), 'utf8');
      res.writeHead(up.status, { ...out, 'content-length': body.length });
      res.end(body);
      o.usage = NO_USAGE;
      return;
    }
    const streaming = typeof ct === 'string' && /event-stream|ndjson|stream\+json|eventstream/.test(ct);
    if (streaming) out['x-accel-buffering'] = 'no';
    res.writeHead(up.status, out);
    res.flushHeaders();
    const kept: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of up.body) {
        if (o.firstChunk === null) o.firstChunk = Date.now() - o.rc.startedAt;
        size += chunk.length;
        if (!streaming && size <= MAX_ERROR_BYTES) kept.push(chunk);
        if (!res.write(chunk)) await new Promise((r) => { res.once('drain', r); res.once('close', r); });
      }
      res.end();
    } catch (e) {
      const f = upstreamFailure(e, call.request.url, call.ctx.provider);
      o.error = f.message;
      o.errorDetail = f.detail;
      res.destroy();
    }
    const whole = !streaming && size <= MAX_ERROR_BYTES ? parseJson(Buffer.concat(kept).toString('utf8')) : undefined;
    o.responseModel = isObject(whole) && typeof whole.model === 'string' ? whole.model : null;
    const reported = usageInProviderBody(whole);
    // Without counts in the body, the bytes are all there is to estimate from (marked as estimated).
    o.usage = usageFigures(reported, promptChars(call.body), reported ? 0 : size, true);
    if (call.target.logging.log_payloads && !streaming) o.payload = { ...o.payload, response: Buffer.concat(kept).toString('utf8') };
  }
}
