// Opt-in normalisation of prompt text before matching, so look-alike tricks do not pass: compatibility
// forms folded (NFKC: full-width letters, ligatures, circled and styled letters become plain ones), and
// invisible characters removed (zero-width spaces and joiners, word joiner, BOM, soft hyphen, bidi
// controls and other format characters, and control characters other than tab and newline).
const INVISIBLE = /[\p{Cf}\u00AD\u180E\u2028\u2029\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/gu;

export function normalizePrompt(text: string): string {
  return text.normalize('NFKC').replace(INVISIBLE, '');
}
