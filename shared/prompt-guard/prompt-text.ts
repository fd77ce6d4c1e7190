// The text Kong's ai-prompt-guard checks (docs/kong-ai-plugins.md §4.2), from a chat or completions body:
// user messages (every role with match_all_roles); with allow_all_conversation_history only the latest
// user message. Kong rejects multi-part content outright; we read every text part, so multimodal clients
// work, and we also give the deny patterns each message and the whole conversation in order, so that
// splitting a prompt into parts or across messages cannot slip past.
export interface PromptTexts {
  /** Kong's string: checked messages from the last to the first, joined with a space (allow and deny). */
  kong: string;
  /** Each checked message's text (its parts joined), and the checked messages in order: deny only. */
  more: string[];
}

export type PromptText = { ok: true; texts: PromptTexts } | { ok: false; reason: string };

export interface PromptScope {
  readonly allow_all_conversation_history: boolean;
  readonly match_all_roles: boolean;
}

/** The text parts of a message's content, or undefined if it is neither text nor text parts. */
function contentTexts(content: unknown): string[] | undefined {
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return undefined;
  const out: string[] = [];
  for (const part of content) {
    if (typeof part === 'string') { out.push(part); continue; }
    if (typeof part !== 'object' || part === null) return undefined;
    const p = part as { type?: unknown; text?: unknown };
    if (p.type === 'text' || p.type === 'input_text') {
      if (typeof p.text !== 'string') return undefined;
      out.push(p.text);
    }
  }
  return out;
}

export function promptText(body: Record<string, unknown>, scope: PromptScope): PromptText {
  if (Array.isArray(body.messages)) {
    const newestFirst: string[] = [];
    const partsSeen: string[] = [];
    for (let i = body.messages.length - 1; i >= 0; i--) {
      const m = body.messages[i] as { role?: unknown; content?: unknown } | null;
      if (typeof m !== 'object' || m === null || typeof m.role !== 'string') return { ok: false, reason: `messages[${i}] has no string role` };
      if (m.role !== 'user' && !scope.match_all_roles) continue;
      const parts = contentTexts(m.content);
      if (parts === undefined) {
        // An assistant message that only calls tools has null content: nothing to check there.
        if (m.content === null && m.role !== 'user') continue;
        return { ok: false, reason: `messages[${i}].content is neither text nor text parts` };
      }
      newestFirst.push(parts.join(' '));
      if (parts.length > 1) partsSeen.push(parts.join(''), ...parts);
      if (scope.allow_all_conversation_history && m.role === 'user') break;
    }
    const inOrder = [...newestFirst].reverse();
    return { ok: true, texts: { kong: newestFirst.join(' '), more: [...partsSeen, inOrder.join(' '), inOrder.join('')] } };
  }
  if (typeof body.prompt === 'string') return { ok: true, texts: { kong: body.prompt, more: [] } };
  return { ok: false, reason: 'ai-prompt-guard only supports llm/v1/chat or llm/v1/completions prompts' };
}
