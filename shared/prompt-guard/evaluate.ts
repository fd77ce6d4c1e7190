// Kong's verdict on a prompt: deny patterns first (any match blocks), then, if allow patterns are set,
// at least one must match. Pure: the plugin reads the body, this decides.
import { normalizePrompt } from './normalize';
import type { PatternSet } from './patterns';
import { promptText, type PromptScope } from './prompt-text';

export interface GuardRules extends PromptScope {
  readonly allow: PatternSet;
  readonly deny: PatternSet;
  readonly normalize: boolean;
}

/** The reason to block, or undefined to let the request through. */
export function verdict(body: Record<string, unknown>, rules: GuardRules): string | undefined {
  const text = promptText(body, rules);
  if (!text.ok) return text.reason;
  const prep = rules.normalize ? normalizePrompt : (s: string) => s;
  const kong = prep(text.texts.kong);
  const denyTexts = [kong, ...text.texts.more.map(prep)];
  const denied = rules.deny.firstMatch(denyTexts);
  if (denied !== -1) return `prompt pattern is blocked: deny_patterns[${denied}]`;
  if (rules.allow.size > 0 && !rules.allow.matchesAny([kong])) return "prompt doesn't match any allowed pattern";
  return undefined;
}
