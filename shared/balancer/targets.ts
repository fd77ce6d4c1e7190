// Checks shared by the algorithms: what a valid target list is, and which indices a pick may return.
import type { TargetSpec } from './types';

/** Throws on an empty list or a weight outside 1-65535 (config validation should have caught both). */
export function checkTargets(targets: readonly TargetSpec[]): void {
  if (targets.length === 0) throw new Error('a balancer needs at least one target');
  for (const t of targets) {
    if (!Number.isInteger(t.weight) || t.weight < 1 || t.weight > 65535) {
      throw new RangeError(`target weight must be an integer 1-65535, got ${t.weight}`);
    }
  }
}

/** i names one of n targets (candidates come from another module: ignore what does not). */
export function isTargetIndex(i: number, n: number): boolean {
  return Number.isInteger(i) && i >= 0 && i < n;
}

/** Throws when an observation names no target: a caller bug, not a request condition. */
export function checkTargetIndex(i: number, n: number): number {
  if (!isTargetIndex(i, n)) throw new RangeError(`no target ${i} (${n} targets)`);
  return i;
}

/** Every one of the n targets is in `exclude`; O(1) unless exclude holds at least n entries. */
export function allExcluded(exclude: ReadonlySet<number>, n: number): boolean {
  if (exclude.size < n) return false;
  for (let i = 0; i < n; i++) if (!exclude.has(i)) return false;
  return true;
}
