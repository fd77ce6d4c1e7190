// Microsoft Entra ID access tokens for Azure OpenAI (scope https://cognitiveservices.azure.com/.default),
// through @azure/identity: ClientSecretCredential for an app registration, ManagedIdentityCredential for
// a managed identity (App Service, VM/IMDS, Arc, AKS workload identity: whatever the library finds).
//
// One credential per distinct identity (tenant, client, secret, authority host), never per plugin
// instance, in a bounded map. Its token is kept until a few minutes before it expires; then the next
// request starts a refresh in the background and still uses the current token, and only a request that
// finds no usable token waits, for one fetch shared with every concurrent request and bounded by a
// timeout. A token that cannot be had is an AzureCredentialError (Kong: 500 "LLM request failed before
// proxying"), whose message says why without the secret or any token.
import { createHash } from 'node:crypto';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { LRUCache } from 'lru-cache';
import { describeAzureEntraIdentity, selectAzureEntraIdentity, type AzureEntraIdentity, type EntraAuthFields, type Env } from './entra-identity';
import { CredentialError } from '../core/types';

export const COGNITIVE_SERVICES_SCOPE = 'https://cognitiveservices.azure.com/.default';
/** A token is renewed this long before it expires (MSAL's own renewal offset is the same five minutes). */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;
/** A token this close to expiry is not sent: it could expire on the way. */
const EXPIRY_SAFETY_MS = 30 * 1000;
/** After a background refresh fails, the current token is used this long before the next try. */
const RETRY_AFTER_FAILURE_MS = 30 * 1000;
/** The longest a request waits for a token (the library's own retries included). */
export const TOKEN_TIMEOUT_MS = 10 * 1000;
const MAX_IDENTITIES = 64;
/** Retries of the library's HTTP pipeline; fewer than its default, so they fit in the timeout. */
const LIBRARY_MAX_RETRIES = 2;

/** No Entra ID token for an azure target (never carries the client secret or a token). */
export class AzureCredentialError extends CredentialError {}

export type CredentialFactory = (identity: AzureEntraIdentity, env: Env) => Promise<TokenCredential>;

/**
 * The library's credentials. AZURE_AUTHORITY_HOST (a sovereign cloud, Azure Stack, a test authority) is
 * read from `env` as the library itself would read it from process.env; an authority chosen so is
 * trusted as given, without MSAL's instance discovery (which asks login.microsoftonline.com about it).
 * The managed identity endpoints (IDENTITY_ENDPOINT, ...) are read by MSAL from process.env.
 */
export const libraryCredential: CredentialFactory = async (identity, env) => {
  const { ClientSecretCredential, ManagedIdentityCredential } = await import('@azure/identity');
  const retryOptions = { maxRetries: LIBRARY_MAX_RETRIES };
  switch (identity.kind) {
    case 'client-secret': {
      const authorityHost = env.AZURE_AUTHORITY_HOST?.trim() || undefined;
      return new ClientSecretCredential(identity.tenantId, identity.clientId, identity.clientSecret, {
        retryOptions,
        ...(authorityHost ? { authorityHost, disableInstanceDiscovery: true } : {}),
      });
    }
    case 'user-assigned-managed-identity': return new ManagedIdentityCredential({ clientId: identity.clientId, retryOptions });
    case 'system-assigned-managed-identity': return new ManagedIdentityCredential({ retryOptions });
  }
};

interface HeldToken {
  readonly value: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
  refreshAt: number;
}

interface Held {
  credential?: Promise<TokenCredential>;
  token?: HeldToken;
  pending?: Promise<HeldToken>;
}

export interface TokenSourceOptions {
  makeCredential?: CredentialFactory;
  timeoutMs?: number;
  refreshMarginMs?: number;
  maxIdentities?: number;
  /** Milliseconds since the epoch (tests move it). */
  now?: () => number;
}

/** One line, bounded, with the secret taken out (an endpoint may echo what it was sent). */
function reason(e: unknown, identity: AzureEntraIdentity): string {
  let m = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
  if (identity.kind === 'client-secret') m = m.split(identity.clientSecret).join('[REDACTED]');
  return m.length > 400 ? `${m.slice(0, 400)}...` : m || 'no reason given';
}

export class AzureEntraTokenSource {
  private readonly held: LRUCache<string, Held>;
  private readonly makeCredential: CredentialFactory;
  private readonly timeoutMs: number;
  private readonly refreshMarginMs: number;
  private readonly now: () => number;

  constructor(o: TokenSourceOptions = {}) {
    this.makeCredential = o.makeCredential ?? libraryCredential;
    this.timeoutMs = o.timeoutMs ?? TOKEN_TIMEOUT_MS;
    this.refreshMarginMs = o.refreshMarginMs ?? REFRESH_MARGIN_MS;
    this.now = o.now ?? Date.now;
    this.held = new LRUCache({ max: o.maxIdentities ?? MAX_IDENTITIES });
  }

  /** Identities held now (tests). */
  get size(): number {
    return this.held.size;
  }

  /** A bearer token for `identity`: the held one while fresh, else a (shared) fetch. */
  async token(identity: AzureEntraIdentity, env: Env): Promise<string> {
    const key = identityKey(identity, env);
    let h = this.held.get(key);
    if (h === undefined) {
      h = {};
      this.held.set(key, h);
    }
    const now = this.now();
    const t = h.token;
    if (t !== undefined && now < t.refreshAt) return t.value;
    const pending = h.pending ?? this.refresh(h, identity, env);
    if (t !== undefined && now < t.expiresAt - EXPIRY_SAFETY_MS) {
      // Still good: this request goes on with it while the refresh runs.
      pending.catch(() => { t.refreshAt = this.now() + RETRY_AFTER_FAILURE_MS; });
      return t.value;
    }
    return (await pending).value;
  }

  private refresh(h: Held, identity: AzureEntraIdentity, env: Env): Promise<HeldToken> {
    const p = this.fetch(h, identity, env).then((t) => {
      h.token = t;
      return t;
    }).finally(() => {
      if (h.pending === p) h.pending = undefined;
    });
    h.pending = p;
    return p;
  }

  private async fetch(h: Held, identity: AzureEntraIdentity, env: Env): Promise<HeldToken> {
    const who = describeAzureEntraIdentity(identity);
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new AzureCredentialError(`no Entra ID token for the ${who}: the token request took over ${this.timeoutMs} ms`));
      }, this.timeoutMs);
    });
    let got: AccessToken | null;
    try {
      const work = (async () => {
        // A credential that could not be made is not kept: the next request tries again.
        h.credential ??= this.makeCredential(identity, env).catch((e: unknown) => {
          h.credential = undefined;
          throw e;
        });
        return (await h.credential).getToken(COGNITIVE_SERVICES_SCOPE, { abortSignal: abort.signal });
      })();
      work.catch(() => {}); // once timed out, its late failure has no one to go to
      got = await Promise.race([work, timedOut]);
    } catch (e) {
      if (e instanceof AzureCredentialError) throw e;
      throw new AzureCredentialError(`no Entra ID token for the ${who}: ${reason(e, identity)}`);
    } finally {
      clearTimeout(timer);
    }
    if (got === null || typeof got.token !== 'string' || got.token === '') {
      throw new AzureCredentialError(`no Entra ID token for the ${who}: the token endpoint returned none`);
    }
    return this.heldToken(got);
  }

  private heldToken(got: AccessToken): HeldToken {
    const now = this.now();
    const expiresAt = got.expiresOnTimestamp;
    let refreshAt = Math.min(got.refreshAfterTimestamp ?? Infinity, expiresAt - this.refreshMarginMs);
    // A token that lives less than the margin is renewed half way, not on every request.
    if (refreshAt <= now) refreshAt = now + Math.max(0, (expiresAt - now) / 2);
    return { value: got.token, expiresAt, refreshAt };
  }

  /** Forgets every identity and token (tests). */
  clear(): void {
    this.held.clear();
  }
}

/** Hashed, so the map holds no secret in its keys. */
function identityKey(identity: AzureEntraIdentity, env: Env): string {
  const parts: string[] = [identity.kind];
  if (identity.kind === 'client-secret') parts.push(identity.tenantId, identity.clientId, identity.clientSecret, env.AZURE_AUTHORITY_HOST?.trim() ?? '');
  else if (identity.kind === 'user-assigned-managed-identity') parts.push(identity.clientId);
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}

/** The process's tokens: shared by every plugin instance and target. */
export const azureEntraTokens = new AzureEntraTokenSource();

/** The bearer token for an azure target with azure_use_managed_identity, from `auth` and `env`. */
export async function azureEntraToken(auth: EntraAuthFields, env: Env, source: AzureEntraTokenSource = azureEntraTokens): Promise<string> {
  const s = selectAzureEntraIdentity(auth, env);
  if (!s.ok) throw new AzureCredentialError(`auth.${s.field}: ${s.reason}`);
  return source.token(s.identity, env);
}
