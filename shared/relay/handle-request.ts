// One handed-over request, start to end: read and check the body, then attempt targets until one gives
// an answer that can be written (ai-proxy has one target; ai-proxy-advanced asks its balancer, moving on
// as failover_criteria allow, hedging when configured), write it, and record everything (request-log.ts,
// the balancer). The first byte written to the client is the point of no return: before it, a failure
// moves on to the next target; after it, a stream ends with an error event. Nothing waits past the
// provider timeouts, and every provider call is abandoned as soon as the client goes away.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseJsonObject } from '../kong/read-json-body';
import type { OpenAIResponseBody } from '../openai/types';
import { redactSecrets } from '../providers/core/auth';
import { getProvider } from '../providers/core/registry';
import { NO_OPTIONS, type TargetContext } from '../providers/core/types';
import { chatToResponse } from '../responses/from-chat';
import { sendNativeError } from '../native/errors';
import {
  answerModel, openStream, preserveErrorAnswer, providerErrorAnswer, pumpPassThrough, pumpStream, readJsonAnswer,
  transportFailed, type AttemptFailed, type FailedAnswer,
} from './answers';
import { startAttempt, withHedge, type Attempt, type AttemptResponse } from './attempt';
import type { ProviderTimeouts, RelayContext, TargetConfig } from './context';
import { prepareCall, providerRouteType, type ClientRequest, type ProviderCall } from './prepare';
import type { AttemptRecord, RequestLog, RequestOutcome } from './request-log';
import { passedHeaders, sendError, sendJson, type ErrorDetails } from './respond';
import type { UpstreamClient, UpstreamResponse } from './upstream-client';
import { completionChars, NO_USAGE, promptChars, usageFigures, cost, type UsageFigures } from './usage';
import { passThroughTap } from './usage-tap';

export interface HandlerDeps {
  upstream: UpstreamClient;
  log: RequestLog;
  env: Readonly<Record<string, string | undefined>>;
  /** Provider timeouts when the context carries none. */
  defaultTimeouts: ProviderTimeouts;
  warn(message: string): void;
}

type ReadBody = { ok: true; bytes: Buffer } | { ok: false; size: number };

/**
 * Reads the body. A declared length over `max` is refused at once, the body discarded as it comes; past
 * `max` bytes of an undeclared length it keeps counting without keeping. Either way Kong may finish
 * sending (a clear 413, not a reset that nginx would turn into a 502).
 */
function readBody(req: IncomingMessage, max: number): Promise<ReadBody> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    req.resume();
    return Promise.resolve({ ok: false, size: declared });
  }
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

/** Enough of a TargetContext to scrub the configured credentials from a text before a call exists. */
function scrubContext(targets: readonly TargetConfig[], env: Readonly<Record<string, string | undefined>>): TargetContext {
  const t = targets[0]!;
  return {
    provider: t.model.provider, routeType: providerRouteType(getProvider(t.model.provider), t.route_type), model: '', stream: false, includeUsage: false,
    options: NO_OPTIONS, auth: t.auth, env, now: () => Math.floor(Date.now() / 1000), requestId: '',
  };
}

/** Kong's tried_targets fields for a call's URL (the path, never the query). */
function where(url: string): Pick<AttemptRecord, 'host' | 'port' | 'upstream_scheme' | 'upstream_uri'> {
  try {
    const u = new URL(url);
    const scheme = u.protocol.replace(':', '');
    return { host: u.hostname, port: Number(u.port) || (scheme === 'https' ? 443 : 80), upstream_scheme: scheme, upstream_uri: u.pathname };
  } catch {
    return {};
  }
}

/** An answer to write once no attempt is left to make. */
type Final = { readonly failed: AttemptFailed; readonly index: number | null; readonly call: ProviderCall | null };

export class RequestHandler {
  constructor(private readonly deps: HandlerDeps) {}

  async handle(rc: RelayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = header(req, 'x-kong-request-id') ?? randomUUID().replace(/-/g, '');
    const first = rc.targets[0]!;
    const outcome: RequestOutcome = {
      rc, requestId, target: first, targetIndex: null, requestModel: first.model.name ?? '', responseModel: null, called: false,
      status: 0, stream: false, llmLatency: -1, firstChunk: null, usage: null, attempts: [],
      // Replaced by the call's own once prepared; until then it scrubs the configured credentials.
      ctx: scrubContext(rc.targets, this.deps.env),
    };
    try {
      await this.run(rc, req, res, outcome);
    } catch (e) {
      // A bug, not a provider failure: the client still gets an answer, the log gets the reason.
      const message = e instanceof Error ? e.message : String(e);
      this.deps.warn(`relay: unexpected error in request ${requestId}: ${redactSecrets(message, outcome.ctx)}`);
      if (!res.headersSent) {
        outcome.status = 500;
        const message500 = 'An unexpected error occurred in the AI relay';
        const sent = rc.llmFormat ? sendNativeError(req, res, rc.llmFormat, 500, message500) : sendError(req, res, 500, message500);
        await sent.catch(() => {});
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
    if (o.rc.llmFormat) return sendNativeError(req, res, o.rc.llmFormat, status, message, details.headers);
    await sendError(req, res, status, message, details);
  }

  private async run(rc: RelayContext, req: IncomingMessage, res: ServerResponse, o: RequestOutcome): Promise<void> {
    const read = await readBody(req, rc.maxRequestBodySize);
    if (!read.ok) {
      return this.fail(req, res, o, 413, `request body is ${read.size} bytes, over the limit of ${rc.maxRequestBodySize} bytes`, { code: 'request_too_large' });
    }
    const parsed = parseJsonObject(read.bytes, 0);
    if (!parsed.ok) return this.fail(req, res, o, parsed.status, parsed.message);
    const client: ClientRequest = {
      headers: req.headers,
      query: new URLSearchParams((req.url ?? '').split('?')[1] ?? ''),
      body: parsed.body,
    };

    // Every provider call ends as soon as the client goes away.
    const live = new Set<Attempt>();
    let clientGone = false;
    res.on('close', () => {
      if (res.writableFinished) return;
      clientGone = true;
      for (const a of live) a.abort.abort();
    });

    const router = rc.router;
    let candidates: readonly number[] | undefined;
    if (rc.semantic) {
      const match = await rc.semantic.route(client.body);
      if (!match.ok) {
        if (match.detail) o.errorDetail = match.detail;
        return this.fail(req, res, o, match.status, match.message);
      }
      candidates = match.candidates;
    }
    const hashKey = router?.hashHeader ? header(req, router.hashHeader) : undefined;
    const maxAttempts = router ? Math.min(1 + router.retries, rc.targets.length) : 1;
    const tried = new Set<number>();
    let unavailable: { reason: 'tried' | 'unavailable'; retryAfterMs?: number } | undefined;
    const choose = (): number | undefined => {
      if (!router) return tried.size === 0 ? 0 : undefined;
      if (tried.size >= maxAttempts) return undefined;
      const c = router.choose(tried, hashKey, candidates, Date.now());
      if (c.index === undefined && tried.size === 0) unavailable = c;
      return c.index;
    };
    let final: Final | undefined;
    const timeouts = rc.timeouts ?? this.deps.defaultTimeouts;

    for (let index = choose(); index !== undefined; index = choose()) {
      tried.add(index);
      const target = rc.targets[index]!;
      const prepared = await prepareCall(target, rc, client, o.requestId, this.deps.env);
      if (!prepared.ok) {
        if (prepared.cause !== undefined) {
          // A bug gets its stack in the log (never in the answer); a credential failure its reason.
          const cause = prepared.cause instanceof Error ? (prepared.why === 'internal' ? prepared.cause.stack ?? prepared.cause.message : prepared.cause.message) : String(prepared.cause);
          this.deps.warn(`relay: request ${o.requestId}: ${prepared.message}: ${redactSecrets(cause, o.ctx)}`);
        }
        // The client's own mistake: every target would say the same.
        if (prepared.why === 'client') {
          return this.fail(req, res, o, prepared.status, prepared.message, { code: prepared.code ?? null, param: prepared.param ?? null });
        }
        const failed: AttemptFailed = {
          // A target that cannot express the request is passed over without counting against it; one
          // whose credential cannot be had failed before anything was sent.
          failure: { kind: 'error', sent: false },
          answer: { kind: 'json', status: prepared.status, body: { error: { message: prepared.message, type: prepared.status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code: null } }, headers: {} },
          message: prepared.message,
        };
        const notTheTargets = prepared.why === 'translation' || prepared.why === 'internal';
        this.record(o, rc, index, target, Date.now(), failed, notTheTargets);
        final = { failed, index, call: null };
        if (notTheTargets || router?.mayTryNext(failed.failure)) continue;
        break;
      }
      const call = prepared.call;
      this.attribute(o, call, router ? index : null);
      const attempt = startAttempt(this.deps.upstream, call, index, timeouts, live);
      const raced = await withHedge(attempt, router?.hedgeDelayMs ?? null, async () => {
        const h = choose();
        if (h === undefined) return undefined;
        tried.add(h);
        const p = await prepareCall(rc.targets[h]!, rc, client, o.requestId, this.deps.env);
        return p.ok ? startAttempt(this.deps.upstream, p.call, h, timeouts, live) : undefined;
      });
      // The hedge that lost is abandoned at once; its record joins the request's before the log line.
      const settling = raced.loser ? this.settleLoser(o, rc, raced.loser.attempt, raced.loser.result) : undefined;
      const served = await this.serve(req, res, o, rc, raced.winner, raced.result);
      await settling;
      if (served === undefined) return;
      final = { failed: served, index: raced.winner.index, call: raced.winner.call };
      if (clientGone || !router?.mayTryNext(served.failure)) break;
    }

    if (final) return this.writeFailed(req, res, o, final);
    // No target could take the request at all (circuits open, rate-limited).
    o.usage = NO_USAGE;
    if (unavailable?.retryAfterMs !== undefined) {
      const seconds = Math.max(1, Math.ceil(unavailable.retryAfterMs / 1000));
      return this.fail(req, res, o, 429, 'every target is rate-limited by its provider; retry later', { code: 'rate_limited', headers: { 'retry-after': String(seconds) } });
    }
    return this.fail(req, res, o, 500, 'no target is available: every target of this route is failing (circuit open)', { code: 'no_target_available' });
  }

  /** The request's outcome is this call's: the target, model and credentials (to scrub) the log names. */
  private attribute(o: RequestOutcome, call: ProviderCall, index: number | null): void {
    Object.assign(o, { target: call.target, targetIndex: index, requestModel: call.model, stream: call.stream, ctx: call.ctx, called: true });
    o.payload = call.target.logging.log_payloads ? { request: call.request.body } : undefined;
  }

  /** The hedge that lost: abandoned if still running, recorded as it ended otherwise. */
  private async settleLoser(o: RequestOutcome, rc: RelayContext, a: Attempt, result: Promise<AttemptResponse>): Promise<void> {
    a.abort.abort();
    const r = await result;
    if (r.ok) {
      r.up.discard();
      this.recordAttempt(o, rc, a, undefined, true, 'hedge lost');
    } else if (r.failure.code === 'ABORTED') {
      this.recordAttempt(o, rc, a, undefined, true, 'hedge lost');
    } else {
      this.recordAttempt(o, rc, a, transportFailed(r.failure));
    }
  }

  /**
   * Serves an attempt's response: writes it and returns undefined, or returns what failed before the
   * first byte (the loop may move on).
   */
  private async serve(req: IncomingMessage, res: ServerResponse, o: RequestOutcome, rc: RelayContext, a: Attempt,
    r: AttemptResponse): Promise<AttemptFailed | undefined> {
    const call = a.call;
    this.attribute(o, call, rc.router ? a.index : null);
    if (!r.ok) {
      const failed = transportFailed(r.failure);
      this.recordAttempt(o, rc, a, failed);
      return failed;
    }
    const up = r.up;
    o.llmLatency = Date.now() - rc.startedAt;
    const headers = passedHeaders(up.headers, (v) => redactSecrets(v, call.ctx));
    const ok = up.status >= 200 && up.status <= 299;
    const debug = header(req, 'kong-debug') !== undefined;
    const preserve = call.ctx.routeType === 'preserve';
    if (!ok) {
      const failed = preserve ? await preserveErrorAnswer(call, up, headers) : await providerErrorAnswer(call, up, headers);
      this.recordAttempt(o, rc, a, failed);
      return failed;
    }
    const model = preserve && typeof call.body.model === 'string' ? call.body.model : call.model;
    if ((rc.modelNameHeader || debug) && model !== '') headers['x-kong-llm-model'] = `${call.target.model.provider}/${model}`;
    if (preserve) return this.servePassThrough(res, o, rc, a, up, headers);
    if (call.stream) {
      const opened = await openStream(call, up);
      if (!opened.ok) {
        this.recordAttempt(o, rc, a, opened.failed);
        return opened.failed;
      }
      o.status = 200;
      const end = await pumpStream(res, call, up, opened.stream, headers);
      const { pipeline, stats } = opened.stream;
      if (end.firstChunkAt !== null) o.firstChunk = end.firstChunkAt - rc.startedAt;
      o.responseModel = stats.model;
      o.usage = usageFigures(pipeline.usage, promptChars(call.body), stats.completionChars, call.ctx.routeType !== 'llm/v1/embeddings');
      if (end.error !== undefined) o.error = end.error;
      if (end.detail !== undefined) o.errorDetail = end.detail;
      if (call.target.logging.log_payloads) o.payload = { ...o.payload, response: stats.combined() };
      this.recordAttempt(o, rc, a, undefined, end.error === 'the client went away', undefined, o.usage);
      return undefined;
    }
    const read = await readJsonAnswer(call, up);
    if (!read.ok) {
      this.recordAttempt(o, rc, a, read.failed);
      return read.failed;
    }
    const out: OpenAIResponseBody = read.answer.out;
    o.responseModel = answerModel(out);
    o.usage = usageFigures(read.answer.usage, promptChars(call.body), completionChars(out), call.ctx.routeType !== 'llm/v1/embeddings');
    o.status = 200;
    // A Responses API request answered by chat: the client gets the response the answer stands for.
    const sent = call.responses && out.object === 'chat.completion'
      ? chatToResponse(out, call.responses, { base: call.ctx.requestId, createdAt: call.ctx.now() })
      : out;
    if (call.target.logging.log_payloads) o.payload = { ...o.payload, response: JSON.stringify(sent) };
    this.recordAttempt(o, rc, a, undefined, false, undefined, o.usage);
    await sendJson(req, res, 200, sent, headers);
    return undefined;
  }

  private async servePassThrough(res: ServerResponse, o: RequestOutcome, rc: RelayContext, a: Attempt, up: UpstreamResponse,
    headers: ReturnType<typeof passedHeaders>): Promise<undefined> {
    const call = a.call;
    o.status = up.status;
    // A stream passing through unchanged: its usage is read off the bytes on their way.
    const tap = passThroughTap(rc.llmFormat, call.responses !== undefined, call.stream);
    const r = await pumpPassThrough(res, call, up, headers, tap && ((chunk) => tap.push(chunk)));
    if (r.firstChunkAt !== null) o.firstChunk = r.firstChunkAt - rc.startedAt;
    if (r.error !== undefined) o.error = r.error;
    if (r.detail !== undefined) o.errorDetail = r.detail;
    o.responseModel = answerModel(r.whole) ?? tap?.model ?? null;
    const reported = call.provider.nativeUsage?.(r.whole, call.ctx) ?? tap?.usage;
    // Without counts in the body, the bytes are all there is to estimate from (marked as estimated).
    o.usage = usageFigures(reported, promptChars(call.body), reported ? 0 : r.size, true);
    if (call.target.logging.log_payloads && r.text !== undefined) o.payload = { ...o.payload, response: r.text };
    this.recordAttempt(o, rc, a, undefined, false, undefined, o.usage);
    return undefined;
  }

  private async writeFailed(req: IncomingMessage, res: ServerResponse, o: RequestOutcome, f: Final): Promise<void> {
    const a: FailedAnswer = f.failed.answer;
    o.status = a.status;
    o.error = f.failed.message;
    if (f.failed.detail !== undefined) o.errorDetail = f.failed.detail;
    o.usage = NO_USAGE;
    if (f.call?.target.logging.log_payloads && a.kind === 'json') o.payload = { ...o.payload, response: JSON.stringify(a.body) };
    if (res.headersSent || res.destroyed) return;
    if (a.kind === 'json' && o.rc.llmFormat) return sendNativeError(req, res, o.rc.llmFormat, a.status, f.failed.message, a.headers);
    if (a.kind === 'json') {
      await sendJson(req, res, a.status, a.body, a.headers);
      return;
    }
    res.writeHead(a.status, { ...a.headers, 'content-length': a.body.length });
    res.end(a.body);
  }

  private recordAttempt(o: RequestOutcome, rc: RelayContext, a: Attempt, failed: AttemptFailed | undefined, abandoned = false,
    note?: string, usage: UsageFigures = NO_USAGE): void {
    this.record(o, rc, a.index, a.call.target, a.startedAt, failed, abandoned, note, usage, a.call.request.url);
  }

  /** One attempt's end: the log line's tried targets, and the balancer's algorithm, breaker and metrics. */
  private record(o: RequestOutcome, rc: RelayContext, index: number, target: TargetConfig, startedAt: number,
    failed: AttemptFailed | undefined, abandoned = false, note?: string, usage: UsageFigures = NO_USAGE, url?: string): void {
    const endedAt = Date.now();
    const options = target.model.options;
    const spent = cost(usage, options?.input_cost ?? null, options?.output_cost ?? null);
    const rec: AttemptRecord = {
      target: index,
      provider: target.model.provider,
      model: target.model.name,
      ...(url ? where(url) : {}),
      status: failed ? failed.answer.status : abandoned ? 0 : o.status || 200,
      latency: endedAt - startedAt,
      ...(failed ? { error: failed.message } : note ? { error: note } : {}),
    };
    o.attempts.push(rec);
    rc.router?.ended({
      target: index, startedAt, endedAt, ...(failed ? { failure: failed.failure } : {}), ...(abandoned ? { abandoned } : {}),
      ...(failed?.retryAfterMs !== undefined ? { retryAfterMs: failed.retryAfterMs } : {}),
      promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, totalTokens: usage.total_tokens, cost: spent,
    });
  }
}
