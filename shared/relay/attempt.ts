// One attempt of a relayed request on one target: the call prepared for that target's provider, sent,
// and the provider's response (any status) or the transport failure. Nothing is written to the client
// here: what goes back is decided by the request's loop (handle-request.ts), which may still move on
// to another target until the first byte is written.
import type { ProviderCall } from './prepare';
import type { ProviderTimeouts } from './context';
import { upstreamFailure, type UpstreamClient, type UpstreamFailure, type UpstreamResponse } from './upstream-client';

export type AttemptResponse =
  | { readonly ok: true; readonly up: UpstreamResponse }
  | { readonly ok: false; readonly failure: UpstreamFailure };

export interface Attempt {
  /** The target's index in the plugin's targets. */
  readonly index: number;
  readonly call: ProviderCall;
  readonly startedAt: number;
  /** Abandons the attempt: the provider call is cancelled (a hedge that lost, a client gone). */
  readonly abort: AbortController;
  /** Settles with the provider's response headers (the body still to read), or a transport failure. */
  readonly response: Promise<AttemptResponse>;
}

/** Starts an attempt; `live` holds it until its response is known, so that a client gone aborts it. */
export function startAttempt(upstream: UpstreamClient, call: ProviderCall, index: number, timeouts: ProviderTimeouts,
  live: Set<Attempt>): Attempt {
  // The call's one controller: its timeouts, the client going away and a lost hedge all abort it.
  const abort = new AbortController();
  const response: Promise<AttemptResponse> = upstream.send(call.request, call.ctx.provider, timeouts, abort, !call.stream)
    .then((up) => ({ ok: true as const, up }), (e: unknown) => ({ ok: false as const, failure: upstreamFailure(e, call.request.url, call.ctx.provider) }));
  const attempt: Attempt = { index, call, startedAt: Date.now(), abort, response };
  live.add(attempt);
  return attempt;
}

/** A response the client could use: a 2xx. */
export function isGood(r: AttemptResponse): boolean {
  return r.ok && r.up.status >= 200 && r.up.status <= 299;
}

/**
 * Waits for the first attempt; if it has no response within `hedgeDelayMs`, starts a second one
 * (`hedge()`, which may decline) and takes the first good response of the two. The other is
 * returned as `loser`: still running (abort it) or already failed.
 */
export async function withHedge(first: Attempt, hedgeDelayMs: number | null, hedge: () => Promise<Attempt | undefined>):
  Promise<{ winner: Attempt; result: AttemptResponse; loser?: { attempt: Attempt; result: Promise<AttemptResponse> } }> {
  if (hedgeDelayMs === null) return { winner: first, result: await first.response };
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => { timer = setTimeout(() => r('late'), hedgeDelayMs); });
  const early = await Promise.race([first.response, late]);
  clearTimeout(timer);
  if (early !== 'late') return { winner: first, result: early };
  const second = await hedge();
  if (!second) return { winner: first, result: await first.response };
  const both = [first, second].map((a) => a.response.then((result) => ({ attempt: a, result })));
  const one = await Promise.race(both);
  const other = one.attempt === first ? second : first;
  if (isGood(one.result)) return { winner: one.attempt, result: one.result, loser: { attempt: other, result: other.response } };
  // The first to answer failed: the other's answer, good or not, is the one that counts.
  return { winner: other, result: await other.response, loser: { attempt: one.attempt, result: Promise.resolve(one.result) } };
}
