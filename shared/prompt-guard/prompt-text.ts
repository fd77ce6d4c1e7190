// The text Kong's ai-prompt-guard checks (docs/kong-ai-plugins.md §4.2), from a chat or completions body:
// user messages (every role with match_all_roles); with allow_all_conversation_history only the latest
// user message. Kong rejects multi-part content outright; we read every text part, so multimodal clients
// work, and we also give the deny patterns each message and the whole conversation in order, so that
// splitting a prompt into parts or across messages cannot slip past. Ours besides: a Responses API body
// (`instructions` and `input`, a string or items) is read as the conversation it stands for, and an
// embeddings body's `input` texts as user messages (Kong refuses both); and the native bodies, whatever
// llm_format says (a client cannot slip past by speaking another API): Gemini, Bedrock Converse and
// Anthropic Messages (shared/native/prompt-turns.ts), a tool's result counting as the tool's turn.
import { geminiTurns, messageTurns, type NativeTurn } from '../native/prompt-turns';

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
    if (p.type === 'text' || p.type === 'input_text' || p.type === 'output_text') {
      if (typeof p.text !== 'string') return undefined;
      out.push(p.text);
    }
  }
  return out;
}

/** A message of the conversation, and the field it came from (for the reason a body is refused). */
type Turn = NativeTurn;

/**
 * The turns of a Responses API body or an embeddings body, in order: `instructions` as the system's,
 * a string input or an embeddings text as the user's, message items as their role's, a function's
 * output as the tool's; items that carry no prompt (function calls, reasoning) are left out.
 */
function inputTurns(body: Record<string, unknown>): Turn[] | undefined {
  const input = body.input;
  if (typeof input !== 'string' && !Array.isArray(input)) return undefined;
  const turns: Turn[] = typeof body.instructions === 'string' ? [{ role: 'system', content: body.instructions, where: 'instructions' }] : [];
  if (typeof input === 'string') return [...turns, { role: 'user', content: input, where: 'input' }];
  input.forEach((item: unknown, i) => {
    const where = `input[${i}]`;
    if (typeof item === 'string') { turns.push({ role: 'user', content: item, where }); return; }
    if (typeof item !== 'object' || item === null || Array.isArray(item)) { turns.push({ where }); return; }
    const it = item as { type?: unknown; role?: unknown; content?: unknown; output?: unknown };
    if (it.type === 'function_call_output') turns.push({ role: 'tool', content: it.output, where });
    else if (it.type === undefined || it.type === 'message') turns.push({ role: it.role, content: it.content, where });
  });
  return turns;
}

function turnsOf(body: Record<string, unknown>): Turn[] | undefined {
  return geminiTurns(body) ?? messageTurns(body) ?? inputTurns(body);
}

export function promptText(body: Record<string, unknown>, scope: PromptScope): PromptText {
  const turns = turnsOf(body);
  if (turns !== undefined) {
    const newestFirst: string[] = [];
    const partsSeen: string[] = [];
    for (let i = turns.length - 1; i >= 0; i--) {
      const m = turns[i]!;
      if (typeof m.role !== 'string') return { ok: false, reason: `${m.where} has no string role` };
      if (m.role !== 'user' && !scope.match_all_roles) continue;
      const parts = contentTexts(m.content);
      if (parts === undefined) {
        // An assistant message that only calls tools has null content: nothing to check there.
        if (m.content === null && m.role !== 'user') continue;
        return { ok: false, reason: `${m.where}.content is neither text nor text parts` };
      }
      newestFirst.push(parts.join(' '));
      if (parts.length > 1) partsSeen.push(parts.join(''), ...parts);
      if (scope.allow_all_conversation_history && m.role === 'user') break;
    }
    const inOrder = [...newestFirst].reverse();
    return { ok: true, texts: { kong: newestFirst.join(' '), more: [...partsSeen, inOrder.join(' '), inOrder.join('')] } };
  }
  if (typeof body.prompt === 'string') return { ok: true, texts: { kong: body.prompt, more: [] } };
  return { ok: false, reason: 'ai-prompt-guard only supports chat, completions, Responses API and embeddings prompts' };
}
