// A native request body as the OpenAI chat request it stands for: only what the relay reads from it
// (the model named to the log, the stream mode, the prompt's text for a usage estimate). The provider
// gets the native body itself, never this.
import { isObject } from '../providers/core/json';
import type { NativeFormat } from './formats';
import { geminiTurns, messageTurns, type NativeTurn } from './prompt-turns';

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p: unknown) => (typeof p === 'string' ? p : isObject(p) && typeof p.text === 'string' ? p.text : '')).join('');
}

/** The conversation of a native body; undefined when it has none in the format's field. */
export function nativeTurns(format: NativeFormat, body: Readonly<Record<string, unknown>>): NativeTurn[] | undefined {
  return format === 'gemini' ? geminiTurns(body) : messageTurns(body);
}

export function openaiView(turns: readonly NativeTurn[], model: string, stream: boolean): Record<string, unknown> {
  return {
    model,
    stream,
    messages: turns.map((t) => ({ role: typeof t.role === 'string' ? t.role : 'user', content: textOf(t.content) })),
  };
}
