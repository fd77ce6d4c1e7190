// Allow/deny patterns compiled once per config with RE2 semantics (re2js: linear time, so no pattern can
// block the plugin server's event loop whatever the input). Patterns valid for Kong's PCRE that RE2
// cannot run the same way are refused at configuration time, naming the pattern:
// - backreferences, lookaround, atomic groups, possessive quantifiers, \K, \R, \h (no linear-time form);
// - byte escapes \x80-\xFF: Kong matches bytes, so `\xE2\x80\x8B` is the UTF-8 of U+200B there, while
//   here text is matched by character; write the character as \x{200B} instead.
import { RE2JS, RE2Set } from 're2js';

export class PatternError extends Error {}

const BYTE_ESCAPE = /(?<!\\)(?:\\\\)*\\x[89A-Fa-f][0-9A-Fa-f]/;

export class PatternSet {
  private readonly compiled: RE2JS[];
  /** All patterns in one automaton: one pass over a text finds which of them match. */
  private readonly set: RE2Set | undefined;
  /**
   * All patterns as one alternation: whether any matches, stopping at the first match (a set has to
   * read the whole text to say which match; an allowed prompt usually matches near its start).
   */
  private readonly any: RE2JS | undefined;

  constructor(readonly sources: readonly string[], field: string) {
    this.compiled = sources.map((p, i) => {
      if (BYTE_ESCAPE.test(p)) {
        throw new PatternError(`${field}[${i}]: pattern '${p}' uses a byte escape (\\x80-\\xFF): Kong's PCRE matches it against UTF-8 bytes, ours matches characters; write the character as \\x{...} instead`);
      }
      try {
        return RE2JS.compile(p);
      } catch (e) {
        throw new PatternError(`${field}[${i}]: pattern '${p}' cannot run on a linear-time engine: ${(e as Error).message}`);
      }
    });
    if (sources.length > 1) {
      const set = new RE2Set();
      for (const p of sources) set.add(p);
      set.compile();
      this.set = set;
      this.any = RE2JS.compile(sources.map((p) => `(?:${p})`).join('|'));
    }
  }

  /** Whether any pattern is found anywhere in any of the texts. */
  matchesAny(texts: readonly string[]): boolean {
    const any = this.any;
    if (any === undefined) return this.firstMatch(texts) !== -1;
    for (const t of new Set(texts)) if (any.test(t)) return true;
    return false;
  }

  get size(): number {
    return this.compiled.length;
  }

  /** Index of the first pattern found anywhere in any of the texts (unanchored, case-sensitive), or -1. */
  firstMatch(texts: readonly string[]): number {
    let first = -1;
    for (const t of new Set(texts)) {
      const ids = this.matchAll(t);
      for (const id of ids) if (first === -1 || id < first) first = id;
      if (first === 0) break;
    }
    return first;
  }

  private matchAll(text: string): number[] {
    if (this.set) {
      try {
        return this.set.match(text);
      } catch {
        // The set's DFA ran out of its memory budget: the patterns one by one are still linear.
      }
    }
    const ids: number[] = [];
    this.compiled.forEach((re, i) => { if (re.test(text)) ids.push(i); });
    return ids;
  }
}
