// Per-target health: Kong's circuit breaker (max_fails, fail_timeout) and rate-limit exclusion.
//
// The failure counter follows Kong 3.13's documentation: it counts total failures, not consecutive ones
// (a success inside the window leaves it as it is); a success resets it only once fail_timeout has
// elapsed since the last failure, and a failure after that long starts a fresh count. At maxFails the
// circuit opens for failTimeoutMs (no traffic), then is half-open: one probe attempt at a time; its
// success closes the circuit, its failure opens it again, a neutral end (neither success nor failure,
// e.g. a 400 or an aborted hedge) frees the probe slot. maxFails 0 disables the breaker.
//
// A rate limit (a 429's Retry-After) makes a target unavailable until it expires, independently.
import { checkTargetIndex } from './targets';

export type CircuitState = 'closed' | 'open' | 'half-open';
export type AttemptOutcome = 'success' | 'failure' | 'neutral';
export type UnavailableReason = 'open' | 'probing' | 'rate-limited';

export interface TargetHealthOptions {
  readonly maxFails: number;
  readonly failTimeoutMs: number;
}

export class TargetHealth {
  private readonly failCount: Int32Array;
  private readonly lastFailureAt: Float64Array;
  /** The circuit has opened and not closed since; openUntil: the end of its open period (half-open after). */
  private readonly tripped: Uint8Array;
  private readonly openUntil: Float64Array;
  private readonly probing: Uint8Array;
  private readonly limitedUntil: Float64Array;

  constructor(private readonly n: number, private readonly options: TargetHealthOptions) {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`target count must be a non-negative integer, got ${n}`);
    if (!Number.isInteger(options.maxFails) || options.maxFails < 0) throw new RangeError(`maxFails must be an integer >= 0, got ${options.maxFails}`);
    if (!(options.failTimeoutMs >= 0)) throw new RangeError(`failTimeoutMs must be >= 0, got ${options.failTimeoutMs}`);
    this.failCount = new Int32Array(n);
    this.lastFailureAt = new Float64Array(n);
    this.tripped = new Uint8Array(n);
    this.openUntil = new Float64Array(n);
    this.probing = new Uint8Array(n);
    this.limitedUntil = new Float64Array(n);
  }

  /** The target may take an attempt now. */
  available(target: number, now: number): boolean {
    return this.unavailableReason(target, now) === undefined;
  }

  unavailableReason(target: number, now: number): UnavailableReason | undefined {
    const state = this.state(target, now);
    if (state === 'open') return 'open';
    if (state === 'half-open' && this.probing[target] === 1) return 'probing';
    if (this.limitedUntil[target]! > now) return 'rate-limited';
    return undefined;
  }

  state(target: number, now: number): CircuitState {
    const i = checkTargetIndex(target, this.n);
    return this.tripped[i] === 0 ? 'closed' : now < this.openUntil[i]! ? 'open' : 'half-open';
  }

  failures(target: number): number {
    return this.failCount[checkTargetIndex(target, this.n)]!;
  }

  /** An attempt on the target begins: in half-open state it is the probe. */
  attemptStarted(target: number, now: number): void {
    if (this.state(target, now) === 'half-open') this.probing[target] = 1;
  }

  attemptEnded(target: number, now: number, outcome: AttemptOutcome): void {
    const state = this.state(target, now);
    if (outcome === 'neutral') {
      this.probing[target] = 0;
      return;
    }
    // Attempts started before the circuit opened and ending while it is open say nothing new.
    if (this.options.maxFails === 0 || state === 'open') return;
    if (state === 'half-open') {
      this.probing[target] = 0;
      if (outcome === 'success') {
        this.tripped[target] = 0;
        this.failCount[target] = 0;
      } else {
        this.openUntil[target] = now + this.options.failTimeoutMs;
        this.lastFailureAt[target] = now;
      }
      return;
    }
    const windowOver = this.failCount[target]! > 0 && now - this.lastFailureAt[target]! >= this.options.failTimeoutMs;
    if (outcome === 'success') {
      if (windowOver) this.failCount[target] = 0;
      return;
    }
    this.failCount[target] = windowOver ? 1 : this.failCount[target]! + 1;
    this.lastFailureAt[target] = now;
    if (this.failCount[target]! >= this.options.maxFails) {
      this.tripped[target] = 1;
      this.openUntil[target] = now + this.options.failTimeoutMs;
      this.probing[target] = 0;
    }
  }

  /** A rate limit: unavailable until now + ms (a later limit never shortens an earlier one). */
  rateLimited(target: number, now: number, ms: number): void {
    const i = checkTargetIndex(target, this.n);
    if (ms > 0) this.limitedUntil[i] = Math.max(this.limitedUntil[i]!, now + ms);
  }

  /** When the target's rate limit ends; 0 when it is not rate-limited at `now`. */
  rateLimitedUntil(target: number, now: number): number {
    const until = this.limitedUntil[checkTargetIndex(target, this.n)]!;
    return until > now ? until : 0;
  }
}
