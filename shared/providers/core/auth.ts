// The config's generic credential (auth.header_* or auth.param_*), applied to a built upstream request,
// and the scrubbing that keeps credentials out of anything sent back to a client or written to a log.
import type { TargetContext, UpstreamRequest } from './types';

/** Sets the configured header, query parameter or JSON body key (the body must be a JSON object). */
export function applyConfiguredAuth(req: UpstreamRequest, ctx: TargetContext): UpstreamRequest {
  const a = ctx.auth;
  if (!a) return req;
  const out = { ...req, headers: { ...req.headers } };
  if (a.header_name && a.header_value) out.headers[a.header_name.toLowerCase()] = a.header_value;
  if (a.param_name && a.param_value) {
    if (a.param_location === 'query') {
      const u = new URL(out.url);
      u.searchParams.set(a.param_name, a.param_value);
      out.url = u.toString();
    } else if (a.param_location === 'body') {
      const body = JSON.parse(out.body) as Record<string, unknown>;
      body[a.param_name] = a.param_value;
      out.body = JSON.stringify(body);
    }
  }
  return out;
}

/** Tokens fetched at run time (GCP OAuth, Entra ID), scrubbed like the configured keys; the newest kept. */
const fetchedTokens = new Set<string>();
const MAX_FETCHED_TOKENS = 64;

/** A credential obtained at run time: from now on it is scrubbed from every text that reaches a client or a log. */
export function scrubFromNowOn(token: string): void {
  if (fetchedTokens.has(token)) return;
  if (fetchedTokens.size >= MAX_FETCHED_TOKENS) fetchedTokens.delete(fetchedTokens.values().next().value!);
  fetchedTokens.add(token);
}

/** A token fetched for this call (Entra ID, GCP) as its bearer credential, scrubbed from every text from now on. */
export function withBearerToken(req: UpstreamRequest, token: string): UpstreamRequest {
  scrubFromNowOn(token);
  req.headers.authorization = `Bearer ${token}`;
  return req;
}

/** Every credential value the context holds, longest first (so a key inside a header value goes too). */
function secrets(ctx: TargetContext): string[] {
  const a = ctx.auth;
  const values = [a?.header_value, a?.param_value, a?.aws_secret_access_key, a?.aws_access_key_id, a?.azure_client_secret,
    ctx.env.AWS_SECRET_ACCESS_KEY, ctx.env.AWS_SESSION_TOKEN, ctx.env.AZURE_CLIENT_SECRET, ...fetchedTokens];
  const out = new Set<string>();
  for (const v of values) {
    if (!v || v.length < 8) continue;
    out.add(v);
    // "Bearer sk-..." also hides a bare "sk-..." echoed by the provider.
    const bare = v.replace(/^(Bearer|Basic)\s+/i, '');
    if (bare.length >= 8) out.add(bare);
  }
  return [...out].sort((x, y) => y.length - x.length);
}

/** Common API-key shapes, masked even when the key is not ours (a client's own key echoed back). */
const KEY_SHAPES = /\b(sk-[A-Za-z0-9_-]{8,}|sk-ant-[A-Za-z0-9_-]{8,}|AIza[0-9A-Za-z_-]{20,}|AKIA[0-9A-Z]{12,}|hf_[A-Za-z0-9]{12,})\b/g;

/** Removes credentials from a text that will reach a client or a log. */
export function redactSecrets(text: string, ctx: TargetContext): string {
  let t = text;
  for (const s of secrets(ctx)) t = t.split(s).join('[REDACTED]');
  return t.replace(KEY_SHAPES, (m) => `${m.slice(0, 3)}...[REDACTED]`);
}
