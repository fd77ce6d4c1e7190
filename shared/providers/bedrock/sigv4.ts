// AWS Signature Version 4 over a finished upstream request (method, URL, host header, body), with
// @smithy/signature-v4, the signer of the AWS SDK. It must run last: any later change to the URL, a
// signed header or the body invalidates the signature.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentials } from './credentials';
import type { UpstreamRequest } from '../core/types';

/** SHA-256 (HMAC-SHA-256 with a secret) from node:crypto, in the shape the signer takes: native, and no extra package. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(d: SourceData): string | Uint8Array {
  if (typeof d === 'string') return d;
  return ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d);
}

class NodeSha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.h.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
}

export interface SigningParams {
  region: string;
  /** The signing name: `bedrock` for bedrock-runtime. */
  service: string;
  credentials: AwsCredentials;
  date: Date;
}

/** RFC 3986 encoding, as SigV4 canonicalises query strings (so what is sent is what was signed). */
function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Returns the request with `host`, `x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token` (with a
 * session token) and `authorization` set. Header names stay lower-case. The URL path is signed as sent
 * (percent-encoded model id, which SigV4's canonical URI encodes once more: `%3A` → `%253A`).
 */
export async function signRequest(req: UpstreamRequest, p: SigningParams): Promise<UpstreamRequest> {
  const u = new URL(req.url);
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of u.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  // Re-encode the query the way it is signed (URLSearchParams would send a space as '+').
  const pairs = [...u.searchParams].map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`);
  const url = `${u.protocol}//${u.host}${u.pathname}${pairs.length ? `?${pairs.join('&')}` : ''}`;

  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    const name = k.toLowerCase();
    // Headers the signer generates; a stale value (a configured header of the same name) must not survive.
    if (name === 'authorization' || name === 'x-amz-date' || name === 'x-amz-security-token' || name === 'x-amz-content-sha256') continue;
    headers[name] = v;
  }
  headers.host = u.host;

  const signer = new SignatureV4({ service: p.service, region: p.region, credentials: { ...p.credentials }, sha256: NodeSha256 });
  const signed = await signer.sign(new HttpRequest({
    method: req.method,
    protocol: u.protocol,
    hostname: u.hostname,
    ...(u.port ? { port: Number(u.port) } : {}),
    path: u.pathname,
    query,
    headers,
    body: req.body,
  }), { signingDate: p.date });

  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) out[k.toLowerCase()] = v;
  return { ...req, url, headers: out };
}
