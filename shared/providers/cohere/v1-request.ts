// OpenAI chat / completions requests → Cohere v1 chat bodies (POST /v1/chat), for a config whose
// upstream_url or upstream_path names /v1/chat: configs carried over from Kong may, as Kong's driver
// (kong/llm/drivers/cohere.lua) speaks v1. Facts: docs/provider-formats.md §7 (v1).
// The last user turn is `message`, the turns before it `chat_history` (USER / CHATBOT), the system and
// developer messages the `preamble`. Tools and images exist only in our v2 translation: refused here.
import type { ChatMessage, ChatRequest } from '../../openai/types';
import { TranslationError, type GenerationRoute, type TargetContext } from '../core/types';
import { singlePrompt } from '../openai-format/request-fields';
import { cohereSamplingFields, plainText } from './request';

type Obj = Record<string, unknown>;

/** Tools need v2: the fix is in the config. */
function v2Only(what: string): never {
  throw new TranslationError(`cohere v1 chat (model.options.upstream_url or upstream_path names /v1/chat) has no ${what}; `
    + "use Cohere's v2 API: upstream_url https://api.cohere.com/v2/chat, or neither option set");
}

function fail(message: string): never {
  throw new TranslationError(message);
}

/** The configured path, upstream_path first (it wins over upstream_url's path, as in upstream.ts). */
function configuredPath(o: TargetContext['options']): string | null {
  if (o.upstream_path !== null) return o.upstream_path;
  return o.upstream_url === null ? null : o.upstream_url.replace(/[?#].*$/, '').replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
}

/** A chat or completions call to Cohere's v1 chat endpoint. */
export function speaksCohereV1(ctx: TargetContext): boolean {
  if (ctx.routeType !== 'llm/v1/chat' && ctx.routeType !== 'llm/v1/completions') return false;
  const path = configuredPath(ctx.options);
  return path !== null && /\/v1\/chat\/?$/.test(path);
}

function historyEntry(m: ChatMessage): Obj | null {
  if (m.role === 'tool' || (m.role === 'assistant' && m.tool_calls && m.tool_calls.length > 0)) {
    v2Only('tool calls');
  }
  const message = plainText(m.content, m.role);
  if (m.role === 'assistant') return message === '' ? null : { role: 'CHATBOT', message };
  if (m.role === 'user') return { role: 'USER', message };
  return fail(`unsupported message role '${String((m as { role: unknown }).role)}' for cohere`);
}

function chatFields(chat: ChatRequest): Obj {
  if (chat.tools && chat.tools.length > 0) v2Only('tools');
  const messages = chat.messages ?? [];
  const isSystem = (m: ChatMessage) => m.role === 'system' || m.role === 'developer';
  const turns = messages.filter((m) => !isSystem(m));
  const last = turns.pop();
  if (last?.role !== 'user') fail('cohere v1 chat: the conversation must end with a user message');
  const out: Obj = { message: plainText(last.content, 'user') };
  const preamble = messages.filter(isSystem).map((m) => plainText(m.content, m.role)).filter((t) => t !== '');
  if (preamble.length > 0) out.preamble = preamble.join('\n\n');
  const history = turns.map(historyEntry).filter((e): e is Obj => e !== null);
  if (history.length > 0) out.chat_history = history;
  const rf = chat.response_format;
  if (rf?.type === 'json_object') out.response_format = { type: 'json_object' };
  else if (rf?.type === 'json_schema') {
    if (!rf.json_schema?.schema) fail("response_format json_schema has no 'schema'");
    out.response_format = { type: 'json_object', schema: rf.json_schema.schema };
  }
  return out;
}

/** The /v1/chat body; a completions prompt is the one `message`. */
export function cohereV1ChatBody(req: GenerationRoute, ctx: TargetContext): Obj {
  const turn = req.routeType === 'llm/v1/completions'
    ? { message: singlePrompt(req.body.prompt, ctx.provider) }
    : chatFields(req.body);
  return { model: ctx.model, ...turn, ...cohereSamplingFields(req.body, ctx), stream: ctx.stream };
}
