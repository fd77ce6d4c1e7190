// Translates a Lua 5.1 pattern (what Kong's `match` validator runs with string.match) into the
// source of an equivalent JavaScript RegExp for the `u` flag, so one declaration drives both
// Kong's check and ours. Character classes follow the C locale (ASCII), as in OpenResty.
//
// Supported: anchors ^ and $, `.`, %a %c %d %l %p %s %u %w %x %z and their complements,
// %<punctuation> escapes, sets [...] / [^...] with ranges, quantifiers * + - ?, captures ( ) and ().
// Refused (thrown): %b (balanced), %f (frontier), back-references %0-%9, malformed patterns.
// Difference: Lua matches bytes, JS code points, so `.` or a set covers one whole non-ASCII
// character here where Lua would see one byte of it.

type Range = readonly [number, number];

const MAX = 0x10ffff;

const CLASSES: Readonly<Record<string, readonly Range[]>> = {
  a: [[65, 90], [97, 122]],
  c: [[0, 31], [127, 127]],
  d: [[48, 57]],
  l: [[97, 122]],
  p: [[33, 47], [58, 64], [91, 96], [123, 126]],
  s: [[9, 13], [32, 32]],
  u: [[65, 90]],
  w: [[48, 57], [65, 90], [97, 122]],
  x: [[48, 57], [65, 70], [97, 102]],
  z: [[0, 0]],
};

export class LuaPatternError extends Error {
  constructor(pattern: string, reason: string) {
    super(`Lua pattern ${JSON.stringify(pattern)}: ${reason}`);
    this.name = 'LuaPatternError';
  }
}

function complement(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((x, y) => x[0] - y[0]);
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX) out.push([next, MAX]);
  return out;
}

/** Ranges for `%<c>`: a class letter, its upper-case complement, or the literal character. */
function escapeClass(c: string): Range[] {
  const lower = c.toLowerCase();
  const cls = CLASSES[lower];
  if (cls === undefined) {
    const cp = c.codePointAt(0) as number;
    return [[cp, cp]];
  }
  return c === lower ? [...cls] : complement(cls);
}

function hex(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

function rangesToClass(ranges: readonly Range[], negate: boolean): string {
  const body = ranges.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join('');
  if (body === '') return negate ? '[\\u{0}-\\u{10ffff}]' : '[^\\u{0}-\\u{10ffff}]';
  return `[${negate ? '^' : ''}${body}]`;
}

function literal(ch: string): string {
  return /^[A-Za-z0-9 _]$/.test(ch) || (ch.codePointAt(0) as number) > 0x7f ? ch : hex(ch.codePointAt(0) as number);
}

/** Returns RegExp source (for `new RegExp(source, 'u')`) with the same match/no-match result as Lua. */
export function luaPatternToRegExpSource(pattern: string): string {
  const chars = Array.from(pattern);
  const n = chars.length;
  let i = 0;
  let out = '';
  let open = 0;
  const fail = (reason: string): never => {
    throw new LuaPatternError(pattern, reason);
  };

  if (chars[0] === '^') {
    out += '^';
    i = 1;
  }

  while (i < n) {
    const c = chars[i] as string;
    if (c === '(') {
      if (chars[i + 1] === ')') {
        out += '()';
        i += 2;
      } else {
        out += '(';
        open++;
        i++;
      }
      continue;
    }
    if (c === ')') {
      if (open === 0) fail('invalid pattern capture');
      out += ')';
      open--;
      i++;
      continue;
    }
    if (c === '$' && i === n - 1) {
      out += '$';
      i++;
      continue;
    }

    // A single-character class, possibly followed by a quantifier.
    let item: string;
    if (c === '%') {
      const e = chars[i + 1];
      if (e === undefined) fail("malformed pattern (ends with '%')");
      if (e === 'b') fail('%b (balanced match) is not supported');
      if (e === 'f') fail('%f (frontier) is not supported');
      if (/^[0-9]$/.test(e as string)) fail('back-references are not supported');
      item = rangesToClass(escapeClass(e as string), false);
      i += 2;
    } else if (c === '.') {
      item = '[\\u{0}-\\u{10ffff}]';
      i++;
    } else if (c === '[') {
      let j = i + 1;
      let negate = false;
      if (chars[j] === '^') {
        negate = true;
        j++;
      }
      const ranges: Range[] = [];
      let first = true;
      for (;;) {
        if (j >= n) fail("malformed pattern (missing ']')");
        const s = chars[j] as string;
        if (s === ']' && !first) break;
        first = false;
        if (s === '%') {
          const e = chars[j + 1];
          if (e === undefined) fail("malformed pattern (missing ']')");
          ranges.push(...escapeClass(e as string));
          j += 2;
        } else if (chars[j + 1] === '-' && j + 2 < n && chars[j + 2] !== ']') {
          const lo = s.codePointAt(0) as number;
          const hi = (chars[j + 2] as string).codePointAt(0) as number;
          if (lo <= hi) ranges.push([lo, hi]);
          j += 3;
        } else {
          const cp = s.codePointAt(0) as number;
          ranges.push([cp, cp]);
          j++;
        }
      }
      item = rangesToClass(ranges, negate);
      i = j + 1;
    } else {
      item = literal(c);
      i++;
    }

    const q = chars[i];
    if (q === '*' || q === '+' || q === '?') {
      item += q;
      i++;
    } else if (q === '-') {
      item += '*?';
      i++;
    }
    out += item;
  }
  if (open !== 0) fail('unfinished capture');
  return out;
}

/** The RegExp Kong's `match` would behave like, or throws LuaPatternError. */
export function luaPatternToRegExp(pattern: string): RegExp {
  return new RegExp(luaPatternToRegExpSource(pattern), 'u');
}
