// When a failed attempt moves on to another target, and what it counts for in the circuit breaker:
// nginx's proxy_next_upstream rules, as Kong's balancer.failover_criteria names them, for LLM calls,
// which are POSTs (docs/kong-ai-plugins.md §3; nginx's ngx_http_proxy_module documentation).
import type { FailoverCriterion } from '../llm/config-fields';

/** How an attempt failed. `sent`: the request reached the provider (it may have acted on it). */
export type AttemptFailure =
  | { readonly kind: 'error' | 'timeout' | 'invalid_header'; readonly sent: boolean }
  | { readonly kind: 'http'; readonly status: number };

const HTTP_CRITERIA: Readonly<Record<number, FailoverCriterion>> = {
  500: 'http_500', 502: 'http_502', 503: 'http_503', 504: 'http_504', 403: 'http_403', 404: 'http_404', 429: 'http_429',
};

/** The failover_criteria condition a failure meets, if any (a 400 or 401 meets none: never retried). */
export function criterionOf(f: AttemptFailure): FailoverCriterion | undefined {
  return f.kind === 'http' ? HTTP_CRITERIA[f.status] : f.kind;
}

/**
 * Whether the request may go to another target: its condition is listed, and either the provider
 * never got the request or `non_idempotent` allows sending a POST twice.
 */
export function mayTryNext(f: AttemptFailure, criteria: ReadonlySet<FailoverCriterion>): boolean {
  const c = criterionOf(f);
  if (c === undefined || !criteria.has(c)) return false;
  const sent = f.kind === 'http' || f.sent;
  return !sent || criteria.has('non_idempotent');
}

export type BreakerOutcome = 'success' | 'failure' | 'neutral';

/**
 * What an attempt counts as for the circuit breaker (Kong 3.13's max_fails): error, timeout and
 * invalid_header always count; http_403 and http_404 never; the other statuses only when listed.
 */
export function breakerOutcome(f: AttemptFailure | undefined, criteria: ReadonlySet<FailoverCriterion>): BreakerOutcome {
  if (f === undefined) return 'success';
  if (f.kind !== 'http') return 'failure';
  if (f.status === 403 || f.status === 404) return 'neutral';
  const c = HTTP_CRITERIA[f.status];
  return c !== undefined && criteria.has(c) ? 'failure' : 'neutral';
}
