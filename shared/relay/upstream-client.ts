// Calls providers with undici over pooled keep-alive connections: one Agent per connect timeout (in
// practice one), the read timeout applied to the response headers and to every pause in the body, the
// call abandoned when the client goes away. Transport failures become OpenAI-style 502 / 504 errors
// that name the provider's host, never its URL (a query may carry a key).
import { promisify } from 'node:util';
import {
  brotliDecompress, brotliDecompressSync, createBrotliDecompress, createGunzip, createInflate, gunzip, gunzipSync,
  inflate as inflateCb, inflateSync, type BrotliOptions, type InputType, type ZlibOptions,
} from 'node:zlib';
import { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import type { UpstreamRequest } from '../providers/core/types';
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

/** A streamed body, inflated as it arrives when the provider compressed it anyway. */
function decoded(body: Dispatcher.ResponseData['body'], e: string): AsyncIterable<Buffer> {
  if (e === '' || e === 'identity') return body as AsyncIterable<Buffer>;
  const d = e === 'gzip' || e === 'x-gzip' ? createGunzip() : e === 'deflate' ? createInflate() : e === 'br' ? createBrotliDecompress() : undefined;
  if (!d) return body as AsyncIterable<Buffer>;
  // Errors of either side end the iteration with that error.
  body.on('error', (err) => d.destroy(err));
  return (body as Readable).pipe(d);
}

/**
 * Small compressed bodies are inflated on the event loop, where a trip through libuv's thread pool
 * costs more than the work (npm run bench:compression: about 100 us for 100 KB out). What they may
 * inflate to is bounded too (16 KiB of gzip can claim 16 MB): past SYNC_INFLATE_MAX_OUT the body is
 * inflated again, on the pool.
 */
const SYNC_INFLATE_MAX_IN = 16 * 1024;
const SYNC_INFLATE_MAX_OUT = 128 * 1024;

type Inflater = (bytes: Buffer, opts: ZlibOptions & BrotliOptions) => Buffer;
type AsyncInflater = (bytes: Buffer, opts: ZlibOptions & BrotliOptions) => Promise<Buffer>;
const INFLATERS: Record<string, [Inflater, AsyncInflater]> = {
  'gzip': [gunzipSync, promisify<InputType, ZlibOptions, Buffer>(gunzip)],
  'x-gzip': [gunzipSync, promisify<InputType, ZlibOptions, Buffer>(gunzip)],
  'deflate': [inflateSync, promisify<InputType, ZlibOptions, Buffer>(inflateCb)],
  'br': [brotliDecompressSync, promisify<InputType, BrotliOptions, Buffer>(brotliDecompress)],
};

/** A whole body, inflated (at most `max` bytes out; past it ERR_BUFFER_TOO_LARGE). */
async function inflate(bytes: Buffer, e: string, max: number): Promise<Buffer> {
  const inflater = INFLATERS[e];
  if (!inflater || bytes.length === 0) return bytes;
  const [sync, async] = inflater;
  if (bytes.length <= SYNC_INFLATE_MAX_IN) {
    try {
      return sync(bytes, { maxOutputLength: Math.min(max, SYNC_INFLATE_MAX_OUT) });
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ERR_BUFFER_TOO_LARGE' || max <= SYNC_INFLATE_MAX_OUT) throw err;
    }
  }
  return async(bytes, { maxOutputLength: max });
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
   * pause. Past it: UpstreamFailure 504. `abort` is the call's one controller: the caller aborts it
   * (the client went away, a hedge lost), and so do the timeouts.
   */
  async send(req: UpstreamRequest, provider: string, timeouts: ProviderTimeouts, abort: AbortController,
    whole: boolean): Promise<UpstreamResponse> {
    // A whole answer is worth compressing over the provider's network, and is inflated in one go; a
    // stream's small events gain little from it and would wait on the provider's compressor.
    const headers = req.headers['accept-encoding'] === undefined
      ? { ...req.headers, 'accept-encoding': whole ? 'gzip, deflate' : 'identity' } : req.headers;
    const url = req.url;
    // One timer of our own for the whole call (undici's tick every half second and may fire that much
    // late): the relay must give up before Kong's own read timeout does.
    let late: string | undefined;
    let streaming: Dispatcher.ResponseData['body'] | undefined;
    const timer = setTimeout(() => {
      if (streaming) {
        late = `nothing for ${timeouts.read} ms`;
        streaming.destroy(new Error('idle'));
      } else {
        late = `no complete answer within ${timeouts.read} ms`;
        abort.abort();
      }
    }, timeouts.read);
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
        // Backstops only; the timer above decides.
        headersTimeout: timeouts.read + 1000,
        bodyTimeout: timeouts.read + 1000,
        signal: abort.signal,
      });
    } catch (e) {
      clearTimeout(timer);
      throw fail(e);
    }
    const raw = res.body;
    const enc = res.headers['content-encoding'];
    const encoding = (Array.isArray(enc) ? enc[0] : enc)?.trim().toLowerCase() ?? '';
    // A stream may pause up to the read timeout between two reads.
    if (!whole) {
      streaming = raw;
      timer.refresh();
    }
    const tooLarge = (max: number) => new UpstreamFailure(502, `the provider's (${provider}) response is over ${max} bytes`, 'RESPONSE_TOO_LARGE', host(url));
    return {
      status: res.statusCode,
      headers: res.headers,
      body: (async function* () {
        try {
          for await (const chunk of decoded(raw, encoding)) {
            if (!whole) timer.refresh();
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
          for await (const chunk of raw) {
            if (!whole) timer.refresh();
            n += (chunk as Buffer).length;
            if (n > max) {
              raw.destroy();
              throw tooLarge(max);
            }
            parts.push(chunk as Buffer);
          }
        } catch (e) {
          throw e instanceof UpstreamFailure ? e : fail(e);
        } finally {
          clearTimeout(timer);
        }
        try {
          return (await inflate(Buffer.concat(parts), encoding, max)).toString('utf8');
        } catch (e) {
          if ((e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(max);
          throw upstreamFailure(e, url, provider);
        }
      },
      discard(): void {
        clearTimeout(timer);
        raw.destroy();
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.close()));
    this.agents.clear();
  }
}
