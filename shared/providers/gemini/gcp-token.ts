// OAuth2 access tokens for a GCP service account (Vertex AI, or the Gemini API with
// auth.gcp_use_service_account), through google-auth-library's JWT client with the cloud-platform scope.
// A token is cached per service account until five minutes before it expires, so one exchange serves
// every request of the hour, and concurrent requests share one exchange in flight.
import { createHash } from 'node:crypto';
import { JWT } from 'google-auth-library';
import { LRUCache } from 'lru-cache';
import { CredentialError } from '../core/types';

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
/** Where google-auth-library sends the token request (its gtoken module hard-codes it). */
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
/** A cached token is renewed this long before it expires. */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/** A service account that cannot be used, or a token exchange that failed (never carries the key). */
export class GcpCredentialError extends CredentialError {}

interface ServiceAccount {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
}

function parseServiceAccount(json: string): ServiceAccount {
  let v: unknown;
  try { v = JSON.parse(json); } catch {
    throw new GcpCredentialError('GCP service account JSON is not valid JSON');
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (typeof o.client_email !== 'string' || typeof o.private_key !== 'string') {
    throw new GcpCredentialError('GCP service account JSON lacks client_email or private_key');
  }
  const sa: ServiceAccount = { client_email: o.client_email, private_key: o.private_key };
  if (typeof o.private_key_id === 'string') sa.private_key_id = o.private_key_id;
  if (typeof o.token_uri === 'string') sa.token_uri = o.token_uri;
  return sa;
}

/**
 * The key file's `token_uri` is honoured, as Google's Python and Go libraries do (the Node library
 * ignores it): https anywhere, plain http only to this machine (a local token endpoint in tests).
 */
function tokenUrl(sa: ServiceAccount): string {
  if (sa.token_uri === undefined || sa.token_uri === GOOGLE_TOKEN_URL) return GOOGLE_TOKEN_URL;
  let u: URL;
  try { u = new URL(sa.token_uri); } catch {
    throw new GcpCredentialError('GCP service account token_uri is not a URL');
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) {
    throw new GcpCredentialError('GCP service account token_uri must be an https URL');
  }
  return u.toString();
}

interface CachedToken {
  token: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

const tokens = new LRUCache<string, CachedToken>({ max: 64 });
const inFlight = new Map<string, Promise<CachedToken>>();

async function exchange(sa: ServiceAccount): Promise<CachedToken> {
  const target = tokenUrl(sa);
  // Every request this client makes is the token request; it goes to the key file's token_uri.
  const fetchImplementation = ((_input: unknown, init?: RequestInit) => globalThis.fetch(target, init)) as typeof fetch;
  const client = new JWT({
    email: sa.client_email,
    key: sa.private_key,
    ...(sa.private_key_id !== undefined ? { keyId: sa.private_key_id } : {}),
    scopes: [CLOUD_PLATFORM_SCOPE],
    transporterOptions: { fetchImplementation },
  });
  let creds;
  try {
    creds = await client.authorize();
  } catch (e) {
    throw new GcpCredentialError(`GCP service account token exchange failed: ${(e as Error).message}`);
  }
  if (typeof creds.access_token !== 'string' || creds.access_token === '') {
    throw new GcpCredentialError('GCP token endpoint returned no access_token');
  }
  return { token: creds.access_token, expiresAt: typeof creds.expiry_date === 'number' ? creds.expiry_date : Date.now() };
}

/** A bearer token for the service account in `json` (its key file contents), from cache when still fresh. */
export async function gcpAccessToken(json: string): Promise<string> {
  const key = createHash('sha256').update(json).digest('hex');
  const hit = tokens.get(key);
  if (hit !== undefined && hit.expiresAt - REFRESH_MARGIN_MS > Date.now()) return hit.token;
  let pending = inFlight.get(key);
  if (pending === undefined) {
    const sa = parseServiceAccount(json);
    pending = exchange(sa).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  const fresh = await pending;
  tokens.set(key, fresh);
  return fresh.token;
}

/** Forgets every cached token (tests). */
export function clearGcpTokenCache(): void {
  tokens.clear();
  inFlight.clear();
}
