// Allow/deny patterns compiled once per config with RE2 semantics (re2js: linear time, so no pattern can
// block the plugin server's event loop whatever the input). A pattern RE2 cannot run (backreferences,
// lookaround: PCRE features with no linear-time algorithm) is refused at configuration time.
import { RE2JS } from 're2js';

export class PatternError extends Error {}

export class PatternSet {
  private readonly compiled: RE2JS[];

  constructor(readonly sources: readonly string[], field: string) {
    this.compiled = sources.map((p, i) => {
      try {
        return RE2JS.compile(p);
      } catch (e) {
        throw new PatternError(`${field}[${i}]: pattern '${p}' cannot be used: ${(e as Error).message}`);
      }
    });
  }

  get size(): number {
    return this.compiled.length;
  }

  /** Index of the first pattern found anywhere in any of the texts (unanchored, case-sensitive), or -1. */
  firstMatch(texts: readonly string[]): number {
    for (let i = 0; i < this.compiled.length; i++) {
      const re = this.compiled[i]!;
      if (texts.some((t) => re.test(t))) return i;
    }
    return -1;
  }
}
