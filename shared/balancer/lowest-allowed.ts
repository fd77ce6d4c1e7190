// The pick rule of the score-keeping algorithms: the best-scored target the request allows.
import type { IndexedMinHeap } from './binary-heap';
import { isTargetIndex } from './targets';
import type { PickInput } from './types';

/**
 * The heap's lowest target that is not excluded and, when candidates are given, among them.
 * O((1 + |exclude|) log n) without candidates; O(|candidates|) with (they are the input, so scanning
 * them is cheaper than searching the heap around every non-candidate).
 */
export function lowestAllowed(heap: IndexedMinHeap, input: Pick<PickInput, 'exclude' | 'candidates'>): number | undefined {
  const { exclude, candidates } = input;
  if (candidates === undefined) return heap.lowestExcluding(exclude);
  let best: number | undefined;
  for (const c of candidates) {
    if (!isTargetIndex(c, heap.size) || exclude.has(c)) continue;
    if (best === undefined || heap.before(c, best)) best = c;
  }
  return best;
}
