// Writing the relay's answers: OpenAI-style JSON (gzipped when the client accepts it and the body is
// worth it), the provider's headers that are safe to pass on, and Kong's model header.
import { promisify } from 'node:util';
import { gzip as gzipCb, gzipSync } from 'node:zlib';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { openAIError } from '../openai/errors';

const gzip = promisify(gzipCb);

/** Provider response headers never passed on: framing, encoding, cookies, and the operator's account. */
const NOT_PASSED = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'trailer', 'upgrade', 'content-length',
  'content-encoding', 'content-type', 'set-cookie', 'set-cookie2', 'openai-organization', 'openai-project', 'date',
  'server', 'alt-svc', 'via',
]);

/** The provider's headers the client may see, each value through `scrub` (a provider may echo a key anywhere). */
export function passedHeaders(h: Readonly<Record<string, string | string[] | undefined>>, scrub: (value: string) => string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || NOT_PASSED.has(k)) continue;
    out[k] = typeof v === 'string' ? scrub(v) : v.map(scrub);
  }
  return out;
}

export function acceptsGzip(req: IncomingMessage): boolean {
  const ae = req.headers['accept-encoding'];
  if (typeof ae !== 'string') return false;
  return ae.split(',').some((part) => {
    const [name, ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return name === 'gzip' && (q === undefined || Number(q.slice(2)) > 0);
  });
}

/**
 * The compression policy, read off `npm run bench:compression`. Kong's ai-proxy gzips every answer for
 * a client that accepts it; below GZIP_MIN_BYTES the answer fits one packet either way, so it goes
 * plain. Up to GZIP_SYNC_MAX_BYTES gzip costs less on the event loop (under about 80 us) than a trip
 * through libuv's thread pool adds; larger answers, which would hold the loop for hundreds of
 * microseconds, go to the thread pool.
 */
export const GZIP_MIN_BYTES = 1400;
export const GZIP_SYNC_MAX_BYTES = 4096;

export async function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown,
  headers: OutgoingHttpHeaders = {}): Promise<number> {
  if (res.headersSent || res.destroyed) return 0;
  let bytes: Buffer = Buffer.from(JSON.stringify(body), 'utf8');
  const out: OutgoingHttpHeaders = { ...headers, 'content-type': 'application/json' };
  if (bytes.length >= GZIP_MIN_BYTES && acceptsGzip(req)) {
    bytes = bytes.length <= GZIP_SYNC_MAX_BYTES ? gzipSync(bytes) : await gzip(bytes);
    out['content-encoding'] = 'gzip';
  }
  // The answer's encoding depends on Accept-Encoding (for caches in between).
  if (bytes.length >= GZIP_MIN_BYTES || out['content-encoding']) out.vary = 'Accept-Encoding';
  out['content-length'] = bytes.length;
  res.writeHead(status, out);
  res.end(bytes);
  return bytes.length;
}

export interface ErrorDetails {
  /** OpenAI's machine-readable `code`. */
  code?: string | null;
  /** The request parameter at fault, as OpenAI names it (`messages[0].role`). */
  param?: string | null;
  headers?: OutgoingHttpHeaders;
}

export function sendError(req: IncomingMessage, res: ServerResponse, status: number, message: string,
  details: ErrorDetails = {}): Promise<number> {
  return sendJson(req, res, status, openAIError(status, message, details.code ?? null, details.param ?? null), details.headers);
}
