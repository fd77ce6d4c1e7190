// What of the client's request (as Kong forwarded it to the relay) may reach the provider: its own
// headers minus credentials, cookies, forwarding and hop-by-hop headers; and, only where
// auth.allow_override permits, the client's own credential in place of the configured one.
import type { ProviderAuth } from '../providers/core/types';

/** Headers that carry a provider credential in one provider's scheme or another. */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'api-key', 'x-api-key', 'x-goog-api-key']);

/** Never forwarded: hop-by-hop, framing, compression (the relay negotiates its own), cookies, proxies' own. */
const DROPPED = new Set([
  'host', 'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect',
  'content-length', 'content-encoding', 'accept-encoding', 'cookie', 'forwarded', 'via', 'x-real-ip', 'kong-debug',
]);

function dropped(name: string): boolean {
  return DROPPED.has(name) || CREDENTIAL_HEADERS.has(name) || name.startsWith('x-forwarded-') || name.startsWith('x-kong-');
}

export type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

/**
 * The client's headers that go on to the provider (lower-case names, multiple values joined). The
 * provider's own headers are applied over these, so a client cannot replace content-type, a version
 * header or a signature.
 */
export function forwardableHeaders(headers: IncomingHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(headers)) {
    if (v === undefined || dropped(name)) continue;
    out[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The credential to use: the configured one, except that with `allow_override` a client that sends
 * the configured header, query argument or body key keeps its own value (Kong's rule). Returned as an
 * auth record, so the provider applies it the way it applies any configured credential.
 */
export function effectiveAuth(auth: ProviderAuth | null, headers: IncomingHeaders, query: URLSearchParams,
  body: Readonly<Record<string, unknown>>): ProviderAuth | null {
  if (!auth?.allow_override) return auth;
  let out = auth;
  if (auth.header_name) {
    const v = first(headers[auth.header_name.toLowerCase()]);
    if (v !== undefined && v !== '') out = { ...out, header_value: v };
  }
  if (auth.param_name) {
    const v = auth.param_location === 'query' ? query.get(auth.param_name)
      : auth.param_location === 'body' && typeof body[auth.param_name] === 'string' ? body[auth.param_name] as string : null;
    if (v !== null && v !== '') out = { ...out, param_value: v };
  }
  return out;
}
