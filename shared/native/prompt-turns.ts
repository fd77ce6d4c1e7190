// The conversation in a native request body, as turns the prompt guard and the usage estimate read:
// Gemini's `contents` (role `model` is the assistant's) and `systemInstruction`; the `messages` of
// Bedrock Converse (`content[].text`, `system[].text`), Anthropic Messages (string or `text` blocks,
// `system` a string or blocks) and OpenAI chat. A tool's result (Gemini `functionResponse`, Bedrock
// `toolResult`, Anthropic `tool_result`) is a turn of its own, the tool's, as OpenAI's `tool` messages
// are; the model's tool calls, images and documents carry no prompt text and are left out.
import { isObject } from '../providers/core/json';

/** A turn: `content` a string or a list of strings and OpenAI-style text parts; `where` names its field. */
export interface NativeTurn {
  readonly role?: unknown;
  readonly content?: unknown;
  readonly where: string;
}

/** A tool result's content as text: its text blocks, JSON values as JSON. */
function toolResultTexts(content: unknown): string[] {
  if (content === undefined || content === null) return [];
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return [JSON.stringify(content)];
  const out: string[] = [];
  for (const b of content) {
    if (typeof b === 'string') out.push(b);
    else if (isObject(b) && typeof b.text === 'string') out.push(b.text);
    else if (isObject(b) && b.json !== undefined) out.push(JSON.stringify(b.json));
  }
  return out;
}

/** One message of a `messages` list: its text, and each tool result in it as the tool's turn before it. */
function messageTurn(m: unknown, where: string): NativeTurn[] {
  if (!isObject(m)) return [{ where }];
  if (!Array.isArray(m.content)) return [{ role: m.role, content: m.content, where }];
  const texts: unknown[] = [];
  const tools: NativeTurn[] = [];
  m.content.forEach((b: unknown, j) => {
    const at = `${where}.content[${j}]`;
    if (isObject(b) && b.type === 'tool_result') tools.push({ role: 'tool', content: toolResultTexts(b.content), where: at });
    else if (isObject(b) && isObject(b.toolResult)) tools.push({ role: 'tool', content: toolResultTexts(b.toolResult.content), where: at });
    // Bedrock's text block has no `type`.
    else if (isObject(b) && b.type === undefined && typeof b.text === 'string') texts.push(b.text);
    else texts.push(b);
  });
  if (tools.length === 0 || texts.length > 0) tools.push({ role: m.role, content: texts, where });
  return tools;
}

/** A top-level `system` (Anthropic: a string or text blocks; Bedrock: `[{text}]`). */
function systemTurn(system: unknown): NativeTurn {
  if (!Array.isArray(system)) return { role: 'system', content: system, where: 'system' };
  const texts = system.flatMap((b: unknown) => (isObject(b) && typeof b.text === 'string' ? [b.text] : []));
  return { role: 'system', content: texts, where: 'system' };
}

/** The turns of a body with `messages` (OpenAI chat, Anthropic Messages, Bedrock Converse). */
export function messageTurns(body: Readonly<Record<string, unknown>>): NativeTurn[] | undefined {
  if (!Array.isArray(body.messages)) return undefined;
  const turns: NativeTurn[] = body.system !== undefined ? [systemTurn(body.system)] : [];
  body.messages.forEach((m: unknown, i) => turns.push(...messageTurn(m, `messages[${i}]`)));
  return turns;
}

function geminiRole(role: unknown): unknown {
  if (role === undefined || role === 'user') return 'user';
  if (role === 'model') return 'assistant';
  if (role === 'function' || role === 'tool') return 'tool';
  return role;
}

/** A Gemini Content (`{role, parts}`) as turns: its text parts, and each functionResponse as the tool's. */
function geminiContent(c: unknown, where: string, role?: string): NativeTurn[] {
  if (typeof c === 'string') return [{ role: role ?? 'user', content: c, where }];
  if (!isObject(c) || !Array.isArray(c.parts)) return [{ role: role ?? (isObject(c) ? geminiRole(c.role) : undefined), where }];
  const texts: string[] = [];
  const tools: NativeTurn[] = [];
  c.parts.forEach((p: unknown, j) => {
    if (!isObject(p)) return;
    if (typeof p.text === 'string') texts.push(p.text);
    else if (isObject(p.functionResponse)) {
      tools.push({ role: 'tool', content: toolResultTexts(p.functionResponse.response ?? null), where: `${where}.parts[${j}]` });
    }
  });
  if (tools.length === 0 || texts.length > 0) tools.push({ role: role ?? geminiRole(c.role), content: texts, where });
  return tools;
}

/** The turns of a Gemini generateContent body. */
export function geminiTurns(body: Readonly<Record<string, unknown>>): NativeTurn[] | undefined {
  if (!Array.isArray(body.contents)) return undefined;
  const turns: NativeTurn[] = body.systemInstruction !== undefined ? geminiContent(body.systemInstruction, 'systemInstruction', 'system') : [];
  body.contents.forEach((c: unknown, i) => turns.push(...geminiContent(c, `contents[${i}]`)));
  return turns;
}
