// Calls providers with undici over pooled keep-alive connections: one Agent per connect timeout (in
// practice one), the read timeout applied to the response headers and to every pause in the body, the
// call abandoned when the client goes away. Transport failures become OpenAI-style 502 / 504 errors
// that name the provider's host, never its URL (a query may carry a key).
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import type { UpstreamRequest } from '../providers/types';
import type { ProviderTimeouts } from './context';
import type { AttemptFailure } from '../balancer/failover-policy';

/** A failure before or while reading the provider's response. */
export class UpstreamFailure extends Error {
  /**
   * `message` is for the client (it names the provider, not its address); `detail` for the operator's
   * log (host and error code).
   */
  constructor(readonly status: 502 | 504, message: string, readonly code: string, readonly detail: string) {
    super(message);
  }

  /** The failure in nginx's terms (failover_criteria), and whether the provider may have got the request. */
  get failure(): AttemptFailure {
    if (this.status === 504) return { kind: 'timeout', sent: !NOT_SENT.has(this.code) };
    if (this.code.startsWith('HPE_') || this.code === 'UND_ERR_INFO') return { kind: 'invalid_header', sent: true };
    return { kind: 'error', sent: !NOT_SENT.has(this.code) };
  }
}

/**
 * Failures that happen before the request is written: nothing reached the provider, so it can go to
 * another target even without `non_idempotent`. A reset is counted as sent: it may come after.
 */
const NOT_SENT: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
  'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'SELF_SIGNED_CERT_IN_CHAIN']);

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body, decompressed. */
  body: AsyncIterable<Buffer>;
  /** Reads the whole (decompressed) body, failing past `max` bytes. */
  text(max: number): Promise<string>;
  /** Abandons the body (the connection is closed, not reused). */
  discard(): void;
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

function host(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the provider';
  }
}

/** A transport error as the client sees it: 504 past a timeout, 502 otherwise. */
export function upstreamFailure(e: unknown, url: string, provider: string): UpstreamFailure {
  if (e instanceof UpstreamFailure) return e;
  const err = e as { code?: unknown; name?: unknown; cause?: { code?: unknown }; message?: string };
  // An abandoned call (the client went away, a hedge lost): a DOMException's code is a number.
  const aborted = err.name === 'AbortError' || err.code === 'UND_ERR_ABORTED';
  const raw = aborted ? 'ABORTED' : err.code ?? err.cause?.code;
  const code = typeof raw === 'string' ? raw : 'UNKNOWN';
  const detail = `${host(url)}: ${code}`;
  if (TIMEOUT_CODES.has(code)) {
    const what = code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connecting' : code === 'UND_ERR_BODY_TIMEOUT' ? 'reading its answer' : 'waiting for its answer';
    return new UpstreamFailure(504, `the provider (${provider}) timed out (${what})`, code, detail);
  }
  if (code === 'UND_ERR_RESPONSE_EXCEEDED_MAX_SIZE' || code === 'RESPONSE_TOO_LARGE') {
    return new UpstreamFailure(502, `the provider's (${provider}) response is too large`, code, detail);
  }
  if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') {
    return new UpstreamFailure(502, `the provider's (${provider}) compressed response is corrupt`, code, detail);
  }
  return new UpstreamFailure(502, `the provider (${provider}) could not be reached or broke the connection`, code, detail);
}

function decoded(body: Dispatcher.ResponseData['body'], encoding: string | undefined): AsyncIterable<Buffer> {
  const e = (encoding ?? '').trim().toLowerCase();
  if (e === '' || e === 'identity') return body as AsyncIterable<Buffer>;
  const d = e === 'gzip' || e === 'x-gzip' ? createGunzip() : e === 'deflate' ? createInflate() : e === 'br' ? createBrotliDecompress() : undefined;
  if (!d) return body as AsyncIterable<Buffer>;
  // Errors of either side end the iteration with that error.
  body.on('error', (err) => d.destroy(err));
  return (body as Readable).pipe(d);
}

export class UpstreamClient {
  private readonly agents = new Map<number, Agent>();

  private agent(connectTimeout: number): Agent {
    let a = this.agents.get(connectTimeout);
    if (!a) {
      a = new Agent({ connect: { timeout: connectTimeout }, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000, connections: 256 });
      this.agents.set(connectTimeout, a);
    }
    return a;
  }

  /**
   * Sends the request. `timeouts.read` bounds the wait for the response headers (connection included),
   * and, with `whole`, the whole response too (a non-streaming answer reaches Kong only once complete,
   * so that is what Kong's own read timeout measures); between two reads of a stream it bounds each
   * pause. Past it: UpstreamFailure 504.
   */
  async send(req: UpstreamRequest, provider: string, timeouts: ProviderTimeouts, clientGone: AbortSignal,
    whole: boolean): Promise<UpstreamResponse> {
    const headers = { ...req.headers };
    // Compressed answers are inflated here; a provider that needs identity says so in its request.
    if (headers['accept-encoding'] === undefined) headers['accept-encoding'] = 'gzip, deflate';
    // Timers of our own (undici's are coarse, up to half a second late): the relay must give up before
    // Kong's own read timeout does.
    const deadline = new AbortController();
    let late: string | undefined;
    let timer = setTimeout(() => { late = `no complete answer within ${timeouts.read} ms`; deadline.abort(); }, timeouts.read);
    const signal = AbortSignal.any([clientGone, deadline.signal]);
    const url = req.url;
    const fail = (e: unknown): UpstreamFailure => (late !== undefined
      ? new UpstreamFailure(504, `the provider (${provider}) timed out (${late})`, 'TIMEOUT', `${host(url)}: ${late}`)
      : upstreamFailure(e, url, provider));
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: req.method,
        headers,
        body: req.method === 'GET' ? undefined : req.body,
        dispatcher: this.agent(Math.min(timeouts.connect, timeouts.read)),
        // Backstops only; the timers above decide.
        headersTimeout: timeouts.read + 1000,
        bodyTimeout: timeouts.read + 1000,
        signal,
      });
    } catch (e) {
      clearTimeout(timer);
      throw fail(e);
    }
    const enc = res.headers['content-encoding'];
    const body = decoded(res.body, Array.isArray(enc) ? enc[0] : enc);
    /** A stream may pause up to the read timeout between two reads. */
    const idle = () => {
      if (whole) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        late = `nothing for ${timeouts.read} ms`;
        res.body.destroy(new Error('idle'));
      }, timeouts.read);
    };
    idle();
    return {
      status: res.statusCode,
      headers: res.headers,
      body: (async function* () {
        try {
          for await (const chunk of body) {
            idle();
            yield chunk as Buffer;
          }
        } catch (e) {
          throw fail(e);
        } finally {
          clearTimeout(timer);
        }
      })(),
      async text(max: number): Promise<string> {
        const parts: Buffer[] = [];
        let n = 0;
        try {
          for await (const chunk of body) {
            idle();
            n += (chunk as Buffer).length;
            if (n > max) {
              res.body.destroy();
              throw new UpstreamFailure(502, `the provider's (${provider}) response is over ${max} bytes`, 'RESPONSE_TOO_LARGE', host(url));
            }
            parts.push(chunk as Buffer);
          }
        } catch (e) {
          throw e instanceof UpstreamFailure ? e : fail(e);
        } finally {
          clearTimeout(timer);
        }
        return Buffer.concat(parts).toString('utf8');
      },
      discard(): void {
        clearTimeout(timer);
        res.body.destroy();
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.close()));
    this.agents.clear();
  }
}
