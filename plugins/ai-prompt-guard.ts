// ai-prompt-guard: allow/deny patterns on prompts, before any token is spent. Same configuration and
// verdicts as Kong's ai-prompt-guard (deny first, then allow if set; every rejection a 400 "bad request",
// the reason only in Kong's log), with patterns on a linear-time engine and every text part checked.
import { arr, bool, defineConfig, int, str, type ConfigOf } from '../shared/config-schema';
import { fail } from '../shared/kong/fail';
import type { KongPDK } from '../shared/kong/pdk';
import { readJsonBody } from '../shared/kong/read-json-body';
import { verdict, type GuardRules } from '../shared/prompt-guard/evaluate';
import { PatternSet } from '../shared/prompt-guard/patterns';
import { LLM_FORMATS } from '../shared/native/formats';
import { PACKAGE_VERSION } from '../shared/version';

const pattern = str({ len_min: 1, len_max: 500 });

const config = defineConfig({
  allow_patterns: arr(pattern, { len_max: 10, description: 'Prompts must match at least one of these regular expressions.' }),
  deny_patterns: arr(pattern, { len_max: 10, description: 'Prompts matching any of these regular expressions are rejected.' }),
  allow_all_conversation_history: bool({ required: true, default: false }),
  match_all_roles: bool({ required: true, default: false }),
  max_request_body_size: int({ default: 8192, gt: 0 }),
  // Kong's openai, bedrock, gemini; anthropic ours. Every format's body is read whatever this says.
  llm_format: str({ default: 'openai', one_of: LLM_FORMATS }),
  // Ours, not Kong's: fold compatibility forms and drop invisible characters before matching.
  normalize_unicode: bool({ default: false, description: 'Fold look-alike characters (NFKC) and remove zero-width and control characters before matching.' }),
}, {
  checks: [
    (c) => ((c.allow_patterns?.length ?? 0) + (c.deny_patterns?.length ?? 0) > 0 ? undefined
      : "at least one of these fields must be non-empty: 'config.allow_patterns', 'config.deny_patterns'"),
    (c) => (c.match_all_roles && c.allow_all_conversation_history
      ? "failed conditional validation given value of field 'config.match_all_roles': allow_all_conversation_history must be false" : undefined),
  ],
});

export type AiPromptGuardConfig = ConfigOf<typeof config>;

class AiPromptGuard {
  private readonly config: AiPromptGuardConfig;
  private readonly rules: GuardRules;

  constructor(raw: unknown) {
    this.config = config.parse(raw);
    this.rules = {
      allow: new PatternSet(this.config.allow_patterns ?? [], 'config.allow_patterns'),
      deny: new PatternSet(this.config.deny_patterns ?? [], 'config.deny_patterns'),
      allow_all_conversation_history: this.config.allow_all_conversation_history,
      match_all_roles: this.config.match_all_roles,
      normalize: this.config.normalize_unicode,
    };
  }

  async access(kong: KongPDK): Promise<void> {
    const reason = await this.check(kong);
    if (reason === undefined) return;
    // As Kong, the client learns nothing about the guard. The reason (which list or check, never the
    // prompt) is logged at notice, Kong's default log level: Kong's own guard logs it at debug, which an
    // operator never sees without log_level = debug.
    await kong.log.notice(`blocked: ${reason}`);
    return fail(kong, 400, 'bad request');
  }

  /** The reason to block, or undefined to let the request through. */
  private async check(kong: KongPDK): Promise<string | undefined> {
    const read = await readJsonBody(kong, this.config.max_request_body_size);
    if (!read.ok) return read.message;
    return verdict(read.body, this.rules);
  }
}

export const Plugin = AiPromptGuard;
export const Schema = config.kongFields;
export const Version = PACKAGE_VERSION;
export const Priority = 771;
