// The text Kong's ai-prompt-guard checks (kong-ai-plugins.md §4.2), from a chat or completions body:
// messages walked from the last to the first; user messages (every role with match_all_roles); with
// allow_all_conversation_history only the latest user message. Unlike Kong, which rejects multi-part
// content outright, every text part is collected, so multimodal clients work and splitting a prompt
// into parts cannot slip past.
export type PromptText = { ok: true; texts: string[] } | { ok: false; reason: string };

export interface PromptScope {
  readonly allow_all_conversation_history: boolean;
  readonly match_all_roles: boolean;
}

function contentTexts(content: unknown): string[] | undefined {
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return undefined;
  const out: string[] = [];
  for (const part of content) {
    if (typeof part === 'string') { out.push(part); continue; }
    if (typeof part !== 'object' || part === null) return undefined;
    const p = part as { type?: unknown; text?: unknown };
    if (p.type === 'text') {
      if (typeof p.text !== 'string') return undefined;
      out.push(p.text);
    }
  }
  return out;
}

export function promptText(body: Record<string, unknown>, scope: PromptScope): PromptText {
  if (Array.isArray(body.messages)) {
    const texts: string[] = [];
    for (let i = body.messages.length - 1; i >= 0; i--) {
      const m = body.messages[i] as { role?: unknown; content?: unknown } | null;
      if (typeof m !== 'object' || m === null || typeof m.role !== 'string') return { ok: false, reason: `messages[${i}] has no string role` };
      if (m.role !== 'user' && !scope.match_all_roles) continue;
      const t = contentTexts(m.content);
      if (t === undefined) {
        // An assistant message with tool calls has null content: nothing to check there.
        if (m.content === null && m.role !== 'user') continue;
        return { ok: false, reason: `messages[${i}].content is neither text nor text parts` };
      }
      texts.push(...t);
      if (scope.allow_all_conversation_history && m.role === 'user') break;
    }
    return { ok: true, texts };
  }
  if (typeof body.prompt === 'string') return { ok: true, texts: [body.prompt] };
  return { ok: false, reason: 'ai-prompt-guard only supports llm/v1/chat or llm/v1/completions prompts' };
}
