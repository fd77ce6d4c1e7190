// Weighted round-robin as nginx does it (smooth weighted round-robin): over any window of sum(weights)
// picks, each target is chosen in proportion to its weight, and picks of a heavy target are spread out
// rather than bunched.
export class WeightedRoundRobin<T> {
  private readonly current: number[];
  private readonly total: number;

  constructor(private readonly items: readonly T[], private readonly weights: readonly number[]) {
    if (items.length === 0) throw new Error('a balancer needs at least one target');
    if (items.length !== weights.length || weights.some((w) => !(w > 0))) throw new Error('every target needs a positive weight');
    this.current = weights.map(() => 0);
    this.total = weights.reduce((a, b) => a + b, 0);
  }

  next(): T {
    let best = 0;
    for (let i = 0; i < this.items.length; i++) {
      this.current[i]! += this.weights[i]!;
      if (this.current[i]! > this.current[best]!) best = i;
    }
    this.current[best]! -= this.total;
    return this.items[best]!;
  }
}
