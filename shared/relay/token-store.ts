// One-time tokens for handed-over requests: access stores the request's context under an unguessable
// token and points Kong's upstream at /<prefix>/<token>; the relay takes it once. A token is gone
// after first use, after its TTL, or when the store is full (least recently issued first), so a
// replayed, guessed or stale path gets nothing.
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { RelayContext } from './context';

export interface TokenStoreOptions {
  /** How long a token waits for Kong to connect (a slow client's body upload counts). */
  ttlMs: number;
  /** Tokens kept at most; beyond, the oldest unused ones are dropped. */
  max: number;
}

export const DEFAULT_TOKEN_TTL_MS = 60_000;
export const DEFAULT_MAX_TOKENS = 100_000;

/** 128 random bits, URL-safe: a path segment Kong passes through unescaped. */
export function newToken(): string {
  return randomBytes(16).toString('base64url');
}

export class TokenStore {
  private readonly cache: LRUCache<string, RelayContext>;

  constructor(o: TokenStoreOptions = { ttlMs: DEFAULT_TOKEN_TTL_MS, max: DEFAULT_MAX_TOKENS }) {
    // ttlAutopurge off: expired entries are dropped when touched or evicted, without a timer per token.
    this.cache = new LRUCache<string, RelayContext>({ max: o.max, ttl: o.ttlMs, ttlAutopurge: false, updateAgeOnGet: false });
  }

  issue(ctx: RelayContext): string {
    const token = newToken();
    this.cache.set(token, ctx);
    return token;
  }

  /** The context, once: the token is deleted whether or not it had expired. */
  take(token: string): RelayContext | undefined {
    const ctx = this.cache.get(token);
    this.cache.delete(token);
    return ctx;
  }

  get size(): number {
    return this.cache.size;
  }
}
