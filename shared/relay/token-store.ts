// One-time tokens for handed-over requests: access stores the request's context under an unguessable
// token and points Kong's upstream at /<prefix>/<token>; the relay takes it once. A token is gone
// after first use, after its TTL, or when the store is full (oldest first), so a replayed, guessed or
// stale path gets nothing.
//
// Every token lives the same TTL, so issue order is expiry order: a Map in issue order is the whole
// data structure. take() checks the expiry; issue() drops a few expired tokens from the head; every
// operation is O(1) (amortised), whatever the capacity.
import { randomBytes } from 'node:crypto';
import type { RelayContext } from './context';

export interface TokenStoreOptions {
  /** How long a token waits for Kong to connect (a slow client's body upload counts). */
  ttlMs: number;
  /** Tokens kept at most; beyond, the oldest unused ones are dropped. */
  max: number;
  /** The clock (tests). */
  now?: () => number;
}

export const DEFAULT_TOKEN_TTL_MS = 60_000;
export const DEFAULT_MAX_TOKENS = 100_000;

/** Expired tokens dropped per issue(): enough to keep up with any issue rate, little enough to stay O(1). */
const SWEEP_PER_ISSUE = 4;

const TOKEN_BYTES = 16;
/** Random bytes drawn in bulk: one call to the system's generator for 256 tokens. */
const POOL_TOKENS = 256;
let pool = Buffer.alloc(0);
let used = 0;

/** 128 random bits, URL-safe: a path segment Kong passes through unescaped. */
export function newToken(): string {
  if (used + TOKEN_BYTES > pool.length) {
    pool = randomBytes(TOKEN_BYTES * POOL_TOKENS);
    used = 0;
  }
  const token = pool.toString('base64url', used, used + TOKEN_BYTES);
  used += TOKEN_BYTES;
  return token;
}

interface Entry {
  readonly ctx: RelayContext;
  readonly expiresAt: number;
}

export class TokenStore {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(o: TokenStoreOptions = { ttlMs: DEFAULT_TOKEN_TTL_MS, max: DEFAULT_MAX_TOKENS }) {
    this.ttlMs = o.ttlMs;
    this.max = o.max;
    this.now = o.now ?? Date.now;
  }

  issue(ctx: RelayContext): string {
    const now = this.now();
    this.sweep(now, SWEEP_PER_ISSUE);
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    const token = newToken();
    this.entries.set(token, { ctx, expiresAt: now + this.ttlMs });
    return token;
  }

  /** The context, once: the token is deleted whether or not it had expired. */
  take(token: string): RelayContext | undefined {
    const e = this.entries.get(token);
    if (e === undefined) return undefined;
    this.entries.delete(token);
    return e.expiresAt > this.now() ? e.ctx : undefined;
  }

  /** Tokens issued and neither taken nor expired. */
  get live(): number {
    this.sweep(this.now(), Infinity);
    return this.entries.size;
  }

  /** Tokens held, expired ones not yet dropped included (bounded by `max`). */
  get size(): number {
    return this.entries.size;
  }

  /** Drops up to `limit` expired tokens from the head (the oldest). */
  private sweep(now: number, limit: number): void {
    let n = 0;
    for (const [token, e] of this.entries) {
      if (e.expiresAt > now || n >= limit) return;
      this.entries.delete(token);
      n++;
    }
  }
}
