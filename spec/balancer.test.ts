// The balancer algorithms (shared/balancer/) driven directly with a simulated clock: shares, smoothness,
// exclusion, learning from outcomes, the circuit breaker. No timing assertions, no sleeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IndexedMinHeap } from '../shared/balancer/binary-heap';
import { TargetHealth } from '../shared/balancer/circuit-breaker';
import { ConsistentHashing } from '../shared/balancer/consistent-hashing';
import { createAlgorithm } from '../shared/balancer/create-algorithm';
import { LeastConnections } from '../shared/balancer/least-connections';
import { LowestLatency } from '../shared/balancer/lowest-latency';
import { LowestUsage } from '../shared/balancer/lowest-usage';
import { Priority } from '../shared/balancer/priority';
import { RoundRobin } from '../shared/balancer/round-robin';
import { groupByDescription, Semantic } from '../shared/balancer/semantic';
import type { Algorithm, AlgorithmName, Observation, PickInput, TargetSpec } from '../shared/balancer/types';

const NONE: ReadonlySet<number> = new Set();

function specs(...weights: number[]): TargetSpec[] {
  return weights.map((weight, i) => ({ weight, key: `target-${i}` }));
}

function keyed(...keys: string[]): TargetSpec[] {
  return keys.map((key) => ({ weight: 100, key }));
}

function pickOrFail(a: Algorithm, input: Partial<PickInput> = {}): number {
  const t = a.pick({ exclude: NONE, now: 0, ...input });
  assert.notEqual(t, undefined, 'a target');
  return t!;
}

function observation(target: number, now: number, over: Partial<Observation> = {}): Observation {
  return { target, now, ok: true, latencyMs: 100, promptTokens: 10, completionTokens: 10, totalTokens: 20, cost: 0, ...over };
}

/** picks in a row, each finished at once; returns the sequence. */
function sequence(a: Algorithm, count: number, input: Partial<PickInput> = {}): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = pickOrFail(a, input);
    a.finished(observation(t, input.now ?? 0));
    out.push(t);
  }
  return out;
}

function counts(seq: readonly number[], n: number): number[] {
  const c = new Array<number>(n).fill(0);
  for (const t of seq) c[t]!++;
  return c;
}

function maxInWindow(seq: readonly number[], target: number, window: number): number {
  let inWindow = 0;
  let max = 0;
  seq.forEach((t, i) => {
    if (t === target) inWindow++;
    if (i >= window && seq[i - window] === target) inWindow--;
    max = Math.max(max, inWindow);
  });
  return max;
}

interface Outcome { readonly latencyMs: number; readonly ok?: boolean; readonly completionTokens?: number }

/**
 * Requests arrive every intervalMs; each attempt ends latencyMs after its pick and is reported then
 * (earlier ends first). Returns the picked target of each request.
 */
function simulate(a: Algorithm, picks: number, intervalMs: number, outcome: (target: number, pick: number) => Outcome): number[] {
  const pending: { at: number; o: Observation }[] = [];
  const seq: number[] = [];
  for (let i = 0; i < picks; i++) {
    const now = i * intervalMs;
    pending.sort((x, y) => x.at - y.at);
    while (pending.length > 0 && pending[0]!.at <= now) a.finished(pending.shift()!.o);
    const t = pickOrFail(a, { now });
    const r = outcome(t, i);
    pending.push({ at: now + r.latencyMs, o: observation(t, now + r.latencyMs, { latencyMs: r.latencyMs, ok: r.ok ?? true, completionTokens: r.completionTokens ?? 10 }) });
    seq.push(t);
  }
  return seq;
}

/** One request at a time: the next is picked 10 ms after the previous one ended. */
function sequential(a: Algorithm, picks: number, outcome: (target: number) => Outcome): number[] {
  let now = 0;
  const seq: number[] = [];
  for (let i = 0; i < picks; i++) {
    const t = pickOrFail(a, { now });
    const r = outcome(t);
    now += r.latencyMs;
    a.finished(observation(t, now, { latencyMs: r.latencyMs, ok: r.ok ?? true, completionTokens: r.completionTokens ?? 10 }));
    now += 10;
    seq.push(t);
  }
  return seq;
}

// ---- binary heap

test('heap: lowest (key, tie, index) first; updates reorder; the search skips excluded items', () => {
  const h = new IndexedMinHeap(6);
  [5, 3, 8, 3, 1, 9].forEach((k, i) => h.set(i, k));
  assert.equal(h.min(), 4);
  h.set(4, 10);
  assert.equal(h.min(), 1, 'equal keys: lower index');
  h.set(1, 3, 1);
  assert.equal(h.min(), 3, 'equal keys: lower tie key first');
  assert.equal(h.lowestExcluding(new Set([3])), 1);
  assert.equal(h.lowestExcluding(new Set([3, 1, 0])), 2);
  assert.equal(h.lowestExcluding(new Set([0, 1, 2, 3, 4, 5])), undefined);
  // ids: the exclusion names mapped ids.
  assert.equal(h.lowestExcluding(new Set([13]), [10, 11, 12, 13, 14, 15]), 1);
});

test('heap: random updates keep heap order (checked against a sort, 2000 updates)', () => {
  const n = 37;
  const h = new IndexedMinHeap(n);
  const keys = new Array<number>(n).fill(0);
  let seed = 1;
  const rand = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let step = 0; step < 2000; step++) {
    const i = Math.floor(rand() * n);
    keys[i] = Math.floor(rand() * 20);
    h.set(i, keys[i]!);
    const exclude = new Set(Array.from({ length: 5 }, () => Math.floor(rand() * n)));
    const expected = keys.map((k, j) => ({ k, j })).filter(({ j }) => !exclude.has(j)).sort((x, y) => x.k - y.k || x.j - y.j)[0]?.j;
    assert.equal(h.lowestExcluding(exclude), expected);
  }
});

// ---- round-robin

test('round-robin: 10,000 picks over 70/25/5 are exact per cycle of 100 (so within ±1% and better)', () => {
  const seq = sequence(new RoundRobin(specs(70, 25, 5)), 10_000);
  for (let cycle = 0; cycle < 100; cycle++) {
    assert.deepEqual(counts(seq.slice(cycle * 100, cycle * 100 + 100), 3), [70, 25, 5], `cycle ${cycle}`);
  }
  assert.deepEqual(counts(seq, 3), [7000, 2500, 500]);
});

test('round-robin: smooth: in any 20 picks the 70% target is picked at most 15 times (14 expected)', () => {
  const seq = sequence(new RoundRobin(specs(70, 25, 5)), 1000);
  assert.ok(maxInWindow(seq, 0, 20) <= 15, `max ${maxInWindow(seq, 0, 20)}`);
  assert.ok(maxInWindow(seq, 1, 20) <= 6, '25% target: at most 6 in 20 (5 expected)');
  // The 5% target's picks are 20 apart.
  const light = seq.flatMap((t, i) => (t === 2 ? [i] : []));
  assert.ok(light.slice(1).every((p, k) => p - light[k]! === 20));
});

test('round-robin: an excluded target is skipped and comes back without a burst', () => {
  const rr = new RoundRobin(specs(70, 25, 5));
  const during = sequence(rr, 600, { exclude: new Set([0]) });
  assert.deepEqual(counts(during, 3), [0, 500, 100], 'the others keep their 25:5 ratio');
  const after = sequence(rr, 1000);
  assert.ok(maxInWindow(after, 0, 20) <= 15, `no burst: max ${maxInWindow(after, 0, 20)} of 20`);
  assert.ok(after.slice(0, 5).filter((t) => t === 0).length <= 4, 'not 5 of the first 5');
  const c = counts(after, 3);
  assert.ok(Math.abs(c[0]! - 700) <= 2 && Math.abs(c[1]! - 250) <= 2 && Math.abs(c[2]! - 50) <= 2, `shares again ${c} (±2 picks)`);
});

test('round-robin: candidates restrict the pick, and outsiders bank no credit', () => {
  const rr = new RoundRobin(specs(70, 25, 5));
  const restricted = sequence(rr, 600, { candidates: [1, 2] });
  assert.deepEqual(counts(restricted, 3), [0, 500, 100]);
  assert.deepEqual(counts(sequence(rr, 30, { candidates: [2], exclude: NONE }), 3), [0, 0, 30]);
  assert.equal(rr.pick({ exclude: new Set([2]), candidates: [2], now: 0 }), undefined);
  assert.ok(maxInWindow(sequence(rr, 200), 0, 20) <= 15);
});

// ---- consistent hashing

function mapKeys(ch: ConsistentHashing, targets: readonly TargetSpec[], keys: readonly string[], input: Partial<PickInput> = {}): string[] {
  return keys.map((hashKey) => targets[pickOrFail(ch, { hashKey, ...input })]!.key);
}

const KEYS = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

test('consistent-hashing: 10,000 keys spread in proportion to weights 50/30/20 (±5 percentage points)', () => {
  const targets = specs(50, 30, 20);
  const ch = new ConsistentHashing(targets, 10_000);
  const c = counts(KEYS.map((hashKey) => pickOrFail(ch, { hashKey })), 3);
  [0.5, 0.3, 0.2].forEach((share, i) => assert.ok(Math.abs(c[i]! / 10_000 - share) <= 0.05, `target ${i}: ${c[i]}`));
});

test('consistent-hashing: the same key always maps to the same target, in any instance', () => {
  const targets = keyed('a', 'b', 'c');
  const one = mapKeys(new ConsistentHashing(targets, 10_000), targets, KEYS.slice(0, 500));
  const ch = new ConsistentHashing(targets, 10_000);
  assert.deepEqual(mapKeys(ch, targets, KEYS.slice(0, 500)), one);
  assert.deepEqual(mapKeys(ch, targets, KEYS.slice(0, 500)), one, 'picks do not change the mapping');
});

test('consistent-hashing: adding a 4th target moves at most 30% of keys (25% ideal), all to the new one', () => {
  const three = keyed('a', 'b', 'c');
  const four = keyed('a', 'b', 'c', 'd');
  const before = mapKeys(new ConsistentHashing(three, 10_000), three, KEYS);
  const after = mapKeys(new ConsistentHashing(four, 10_000), four, KEYS);
  const moved = before.flatMap((k, i) => (k === after[i] ? [] : [after[i]]));
  assert.ok(moved.length <= 3000, `moved ${moved.length}`);
  assert.ok(moved.length >= 1500, `the new target takes a share: ${moved.length}`);
  assert.ok(moved.every((k) => k === 'd'));
});

test('consistent-hashing: removing a target moves only its keys (indices shift, keys stay)', () => {
  const four = keyed('a', 'b', 'c', 'd');
  const without = keyed('a', 'c', 'd');
  const before = mapKeys(new ConsistentHashing(four, 10_000), four, KEYS);
  const after = mapKeys(new ConsistentHashing(without, 10_000), without, KEYS);
  before.forEach((k, i) => { if (k !== 'b') assert.equal(after[i], k); });
});

test('consistent-hashing: an excluded target\'s keys go to the next target on the ring; candidates agree', () => {
  const four = keyed('a', 'b', 'c', 'd');
  const ch = new ConsistentHashing(four, 10_000);
  const before = mapKeys(ch, four, KEYS);
  const excluded = mapKeys(ch, four, KEYS, { exclude: new Set([2]) });
  // The next point on the ring is what the ring without c's points gives.
  const withoutC = keyed('a', 'b', 'd');
  const next = mapKeys(new ConsistentHashing(withoutC, 10_000), withoutC, KEYS);
  assert.deepEqual(excluded, next);
  assert.deepEqual(excluded.filter((k, i) => k !== before[i]).length, before.filter((k) => k === 'c').length);
  assert.deepEqual(mapKeys(ch, four, KEYS, { candidates: [0, 1, 3] }), next);
  assert.deepEqual(mapKeys(ch, four, KEYS.slice(0, 200), { candidates: [3, 1], exclude: new Set([0]) }),
    mapKeys(ch, four, KEYS.slice(0, 200), { exclude: new Set([0, 2]) }));
  assert.equal(ch.pick({ hashKey: 'x', exclude: new Set([0, 1, 2, 3]), now: 0 }), undefined);
});

test('consistent-hashing: no hash key falls back to weighted round-robin (70/25/5 exact per 100)', () => {
  const ch = new ConsistentHashing(specs(70, 25, 5), 10_000);
  assert.deepEqual(counts(sequence(ch, 10_000), 3), [7000, 2500, 500]);
});

test('consistent-hashing: targets with the same key stay distinct (each 50% ±10 points)', () => {
  const twins = keyed('same', 'same');
  const ch = new ConsistentHashing(twins, 10_000);
  const c2 = counts(KEYS.map((hashKey) => pickOrFail(ch, { hashKey })), 2);
  assert.ok(Math.abs(c2[0]! - 5000) <= 1000, `${c2}`);
  assert.throws(() => new ConsistentHashing(twins, 9), RangeError);
});

// ---- lowest latency

test('lowest-latency: 100 ms vs 500 ms: the fast one gets >= 90%, the slow one still >= 1% (probes)', () => {
  const seq = simulate(new LowestLatency(specs(100, 100), 'e2e'), 10_000, 50, (t) => ({ latencyMs: t === 0 ? 100 : 500 }));
  const c = counts(seq, 2);
  assert.ok(c[0]! >= 9000, `fast ${c[0]}`);
  assert.ok(c[1]! >= 100, `slow ${c[1]}`);
});

test('lowest-latency: when the fast target turns slow (2000 ms) traffic moves within 100 picks', () => {
  const seq = simulate(new LowestLatency(specs(100, 100), 'e2e'), 6000, 50,
    (t, i) => ({ latencyMs: t === 0 ? (i < 3000 ? 100 : 2000) : 500 }));
  const later = counts(seq.slice(3100, 6000), 2);
  assert.ok(later[1]! >= 0.9 * 2900, `after 100 picks, the other takes >= 90%: ${later}`);
});

test('lowest-latency: tpot prefers fast-per-token long answers, e2e the short total (>= 75% each)', () => {
  // Target 0: 20 ms per token, 100 tokens (2000 ms); target 1: 50 ms per token, 10 tokens (500 ms).
  const outcome = (t: number): Outcome => (t === 0 ? { latencyMs: 2000, completionTokens: 100 } : { latencyMs: 500, completionTokens: 10 });
  const tpot = counts(sequential(new LowestLatency(specs(100, 100), 'tpot'), 2000, outcome), 2);
  const e2e = counts(sequential(new LowestLatency(specs(100, 100), 'e2e'), 2000, outcome), 2);
  assert.ok(tpot[0]! >= 1500, `tpot ${tpot}`);
  assert.ok(e2e[1]! >= 1500, `e2e ${e2e}`);
});

test('lowest-latency: a target that fails fast is avoided, also under load (~6 in flight; >= 90% to the working one)', () => {
  const seq = simulate(new LowestLatency(specs(100, 100), 'e2e'), 2000, 50,
    (t) => (t === 0 ? { latencyMs: 10, ok: false } : { latencyMs: 300 }));
  assert.ok(counts(seq, 2)[1]! >= 1800, `${counts(seq, 2)}`);
});

test('lowest-latency: tpot ignores empty successful answers instead of scoring them 0', () => {
  const ll = new LowestLatency(specs(100, 100), 'tpot');
  // Both observed once: target 1 at 50 ms per token.
  ll.finished(observation(pickOrFail(ll), 0, { latencyMs: 1000, completionTokens: 10 }));
  ll.finished(observation(pickOrFail(ll), 0, { latencyMs: 500, completionTokens: 10 }));
  // Target 0 (100 ms/token) answers empty: no sample, so it does not become fastest.
  ll.finished(observation(0, 1, { latencyMs: 5, completionTokens: 0 }));
  assert.equal(pickOrFail(ll, { now: 2 }), 1);
});

test('lowest-latency: never-observed targets first, concurrent first picks spread; exclusion respected', () => {
  const ll = new LowestLatency(specs(100, 100, 100), 'e2e');
  assert.deepEqual([0, 1, 2].map(() => pickOrFail(ll)), [0, 1, 2]);
  assert.equal(ll.pick({ exclude: new Set([0, 1, 2]), now: 0 }), undefined);
  assert.equal(pickOrFail(ll, { candidates: [2] }), 2);
});

// ---- lowest usage

function usageRun(a: Algorithm, picks: number, tokens: (t: number) => number): number[] {
  const seq: number[] = [];
  for (let i = 0; i < picks; i++) {
    const now = i * 100;
    const t = pickOrFail(a, { now });
    a.finished(observation(t, now, { totalTokens: tokens(t) }));
    seq.push(t);
  }
  return seq;
}

test('lowest-usage: a target reporting 3x the tokens gets a quarter of the traffic (±3 points)', () => {
  const c = counts(usageRun(new LowestUsage(specs(100, 100), 'total-tokens'), 10_000, (t) => (t === 0 ? 300 : 100)), 2);
  assert.ok(Math.abs(c[0]! / 10_000 - 0.25) <= 0.03, `${c}`);
});

test('lowest-usage: shares track inverse usage, 100/200/400 tokens -> 4/7, 2/7, 1/7 (±3 points)', () => {
  const usage = [100, 200, 400];
  const c = counts(usageRun(new LowestUsage(specs(100, 100, 100), 'total-tokens'), 10_000, (t) => usage[t]!), 3);
  [4 / 7, 2 / 7, 1 / 7].forEach((share, i) => assert.ok(Math.abs(c[i]! / 10_000 - share) <= 0.03, `${c}`));
});

test('lowest-usage: weights scale the share: equal usage, weights 3:1 -> 75% (±3 points)', () => {
  const c = counts(usageRun(new LowestUsage(specs(300, 100), 'prompt-tokens'), 4000, () => 100), 2);
  assert.ok(Math.abs(c[0]! / 4000 - 0.75) <= 0.03, `${c}`);
});

test('lowest-usage: concurrent picks before any finish are spread evenly (exactly 10 each of 30)', () => {
  const lu = new LowestUsage(specs(100, 100, 100), 'completion-tokens');
  const seq = Array.from({ length: 30 }, () => pickOrFail(lu, { now: 1000 }));
  assert.deepEqual(counts(seq, 3), [10, 10, 10]);
});

test('lowest-usage: cost not configured (always 0) still balances by attempts (each 1/3 ±2 points)', () => {
  const c = counts(usageRun(new LowestUsage(specs(100, 100, 100), 'cost'), 3000, () => 0), 3);
  c.forEach((x) => assert.ok(Math.abs(x / 3000 - 1 / 3) <= 0.02, `${c}`));
});

// ---- priority

test('priority: the top group takes everything while any of it is available, then the next, and back', () => {
  const p = new Priority(specs(100, 100, 50, 50, 10));
  assert.deepEqual(counts(sequence(p, 100), 5), [50, 50, 0, 0, 0], 'top group, round-robin within');
  assert.deepEqual(counts(sequence(p, 10, { exclude: new Set([0]) }), 5), [0, 10, 0, 0, 0]);
  assert.deepEqual(counts(sequence(p, 10, { exclude: new Set([0, 1]) }), 5), [0, 0, 5, 5, 0]);
  assert.deepEqual(counts(sequence(p, 10, { exclude: new Set([0, 1, 2, 3]) }), 5), [0, 0, 0, 0, 10]);
  assert.equal(p.pick({ exclude: new Set([0, 1, 2, 3, 4]), now: 0 }), undefined);
  // Back on top; the returning target may get one extra pick (it resumes at the others' pass, ties by index).
  const back = counts(sequence(p, 10), 5);
  assert.ok(back[0]! + back[1]! === 10 && Math.abs(back[0]! - 5) <= 1, `back on top: ${back}`);
  assert.deepEqual(counts(sequence(p, 10, { candidates: [4, 2, 3] }), 5), [0, 0, 5, 5, 0], 'candidates: their top group');
  assert.deepEqual(counts(sequence(p, 10, { candidates: [1, 4], exclude: new Set([1]) }), 5), [0, 0, 0, 0, 10]);
});

// ---- least connections

test('least-connections: a target holding long attempts gets no new picks; the others alternate', () => {
  const lc = new LeastConnections(specs(100, 100, 100));
  for (let i = 0; i < 3; i++) pickOrFail(lc);
  // Target 0's attempt goes on; 1 and 2 end theirs.
  lc.finished(observation(1, 0));
  lc.finished(observation(2, 0));
  assert.deepEqual(counts(sequence(lc, 100), 3), [0, 50, 50]);
  lc.finished(observation(0, 1));
  assert.equal(pickOrFail(lc), 0, 'idle again and least recently picked');
});

test('least-connections: weights scale capacity: 40 concurrent attempts over weights 1:3 -> 10:30', () => {
  const lc = new LeastConnections(specs(1, 3));
  assert.deepEqual(counts(Array.from({ length: 40 }, () => pickOrFail(lc)), 2), [10, 30]);
});

// ---- circuit breaker

test('circuit breaker: opens at maxFails, no traffic while open, one probe when half-open', () => {
  const h = new TargetHealth(2, { maxFails: 3, failTimeoutMs: 10_000 });
  for (const now of [0, 100, 200]) {
    assert.ok(h.available(0, now));
    h.attemptStarted(0, now);
    h.attemptEnded(0, now, 'failure');
  }
  assert.equal(h.state(0, 200), 'open');
  assert.equal(h.failures(0), 3);
  assert.equal(h.available(0, 5000), false);
  assert.equal(h.unavailableReason(0, 10_199), 'open');
  assert.ok(h.available(1, 5000), 'other targets unaffected');
  assert.equal(h.state(0, 10_200), 'half-open');
  assert.ok(h.available(0, 10_200));
  h.attemptStarted(0, 10_200);
  assert.equal(h.available(0, 10_201), false, 'exactly one probe');
  assert.equal(h.unavailableReason(0, 10_201), 'probing');
  h.attemptEnded(0, 10_300, 'success');
  assert.equal(h.state(0, 10_300), 'closed');
  assert.equal(h.failures(0), 0, 'success closes and resets');
});

test('circuit breaker: a failed probe reopens for failTimeoutMs; a neutral end keeps it half-open', () => {
  const h = new TargetHealth(1, { maxFails: 1, failTimeoutMs: 1000 });
  h.attemptEnded(0, 0, 'failure');
  assert.equal(h.state(0, 999), 'open');
  h.attemptStarted(0, 1000);
  h.attemptEnded(0, 1500, 'failure');
  assert.equal(h.state(0, 2499), 'open', 'reopened from the probe failure');
  assert.equal(h.state(0, 2500), 'half-open');
  h.attemptStarted(0, 2500);
  assert.equal(h.available(0, 2600), false);
  h.attemptEnded(0, 2600, 'neutral');
  assert.equal(h.state(0, 2600), 'half-open');
  assert.ok(h.available(0, 2600), 'the probe slot is free again');
});

test('circuit breaker: 2 failures then 1 success within the window keep the count at 2 (Kong 3.13)', () => {
  const h = new TargetHealth(1, { maxFails: 3, failTimeoutMs: 10_000 });
  h.attemptEnded(0, 0, 'failure');
  h.attemptEnded(0, 1000, 'failure');
  h.attemptEnded(0, 2000, 'success');
  assert.equal(h.failures(0), 2);
  h.attemptEnded(0, 3000, 'failure');
  assert.equal(h.state(0, 3000), 'open', 'total, not consecutive, failures');
});

test('circuit breaker: a success after fail_timeout resets; a failure after it starts a fresh count', () => {
  const h = new TargetHealth(2, { maxFails: 3, failTimeoutMs: 10_000 });
  h.attemptEnded(0, 0, 'failure');
  h.attemptEnded(0, 1000, 'failure');
  h.attemptEnded(0, 11_000, 'success');
  assert.equal(h.failures(0), 0);
  h.attemptEnded(1, 0, 'failure');
  h.attemptEnded(1, 1000, 'failure');
  h.attemptEnded(1, 11_000, 'failure');
  assert.equal(h.failures(1), 1, 'the old count expired');
  assert.equal(h.state(1, 11_000), 'closed');
});

test('circuit breaker: maxFails 0 never opens; rate limit holds until expiry', () => {
  const off = new TargetHealth(1, { maxFails: 0, failTimeoutMs: 10_000 });
  for (let i = 0; i < 100; i++) off.attemptEnded(0, i, 'failure');
  assert.equal(off.state(0, 100), 'closed');
  assert.ok(off.available(0, 100));
  const h = new TargetHealth(2, { maxFails: 3, failTimeoutMs: 10_000 });
  h.rateLimited(1, 1000, 5000);
  assert.equal(h.available(1, 5999), false);
  assert.equal(h.unavailableReason(1, 5999), 'rate-limited');
  assert.equal(h.rateLimitedUntil(1, 5999), 6000);
  h.rateLimited(1, 2000, 1000);
  assert.equal(h.rateLimitedUntil(1, 2000), 6000, 'a shorter limit does not cut a longer one');
  assert.ok(h.available(1, 6000));
  assert.equal(h.rateLimitedUntil(1, 6000), 0);
  assert.equal(h.state(1, 5999), 'closed', 'independent of the breaker');
});

// ---- semantic

test('semantic: groups by identical description; primary by weight, fallback within the group', () => {
  assert.deepEqual(groupByDescription(['math', 'code', 'math', 'code', 'chat']), [[0, 2], [1, 3], [4]]);
  // Targets 0 and 2 describe "math": 0 is the primary (weight 100), 2 the fallback (50).
  const s = new Semantic(specs(100, 100, 50, 100, 10));
  const math = [0, 2];
  assert.deepEqual(counts(sequence(s, 10, { candidates: math }), 5), [10, 0, 0, 0, 0]);
  assert.deepEqual(counts(sequence(s, 10, { candidates: math, exclude: new Set([0]) }), 5), [0, 0, 10, 0, 0]);
  assert.equal(s.pick({ candidates: math, exclude: new Set([0, 2]), now: 0 }), undefined);
  assert.deepEqual(counts(sequence(s, 10, { candidates: [1, 3] }), 5), [0, 5, 0, 5, 0], 'equal weights: round-robin');
  // No candidates: the whole top group (0, 1, 3), each 4 of 12 ±1 (0 has been skipped, resumes at their pass).
  const all = counts(sequence(s, 12), 5);
  assert.ok(all[0]! + all[1]! + all[3]! === 12 && all.every((c, i) => (i === 2 || i === 4) ? c === 0 : Math.abs(c - 4) <= 1), `${all}`);
});

// ---- all algorithms

const ALL: readonly AlgorithmName[] = ['round-robin', 'consistent-hashing', 'lowest-latency', 'lowest-usage', 'priority', 'least-connections', 'semantic'];
const OPTIONS = { slots: 10_000, latencyStrategy: 'tpot', tokensCountStrategy: 'total-tokens' } as const;

test('createAlgorithm: every name gives an algorithm that honours exclusion and candidates', () => {
  for (const name of ALL) {
    const a = createAlgorithm(name, specs(100, 50, 20), OPTIONS);
    for (let i = 0; i < 50; i++) {
      const t = pickOrFail(a, { exclude: new Set([1]), candidates: [1, 2], hashKey: `k${i}`, now: i });
      assert.equal(t, 2, name);
      a.finished(observation(t, i));
    }
    assert.equal(a.pick({ exclude: new Set([0, 1, 2]), now: 0 }), undefined, name);
  }
});

test('performance guard: 10,000 picks over 1000 targets complete for every algorithm (no quadratic work)', () => {
  const targets = Array.from({ length: 1000 }, (_, i) => ({ weight: 1 + (i * 7919) % 100, key: `t${i}` }));
  for (const name of ALL) {
    const a = createAlgorithm(name, targets, OPTIONS);
    const inFlight: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const exclude = i % 10 === 0 ? new Set([i % 1000, (i * 3) % 1000, 7]) : NONE;
      const t = pickOrFail(a, { exclude, hashKey: `k${i}`, now: i });
      inFlight.push(t);
      if (inFlight.length > 20) a.finished(observation(inFlight.shift()!, i, { latencyMs: 50 + (i % 13) * 10 }));
    }
  }
});
