// Which credential headers reach the provider: the configured one, and never the client's own unless
// auth.allow_override lets the client's value win.
import type { HeaderValue } from '../kong/pdk';

/** Headers that carry a provider credential in one provider's scheme or another. */
export const CREDENTIAL_HEADERS = ['authorization', 'api-key', 'x-api-key', 'x-goog-api-key'] as const;

export interface HeaderAuth {
  readonly header_name: string | null;
  readonly header_value: string | null;
  readonly allow_override: boolean;
}

export interface HeaderPlan {
  set: Record<string, HeaderValue>;
  clear: string[];
}

/** Decides the credential headers from the config and the client's header names (lower-case). */
export function planCredentialHeaders(auth: HeaderAuth | null, clientHeaders: Record<string, string[]>): HeaderPlan {
  const set: Record<string, HeaderValue> = {};
  const name = auth?.header_name?.toLowerCase() ?? null;
  const clientHas = name !== null && clientHeaders[name] !== undefined;
  if (name !== null && auth?.header_value && !(auth.allow_override && clientHas)) set[auth.header_name!] = auth.header_value;
  const keep = (h: string) => h === name && (auth?.allow_override === true && clientHas);
  const clear = CREDENTIAL_HEADERS.filter((h) => clientHeaders[h] !== undefined && h !== name && !keep(h));
  if (auth?.allow_override === true) {
    // With allow_override the client may bring its own key, in the configured header only.
    return { set, clear: clear.filter((h) => h !== name) };
  }
  return { set, clear };
}
