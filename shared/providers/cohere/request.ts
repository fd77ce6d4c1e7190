// OpenAI requests → Cohere v2 bodies: POST /v2/chat (chat and legacy completions) and /v2/embed.
// Facts: docs/provider-formats.md §7; Cohere's v2 API reference and its TypeScript SDK (cohere-typescript).
// Kong still speaks Cohere v1 (/v1/chat, chat_history with system turns as USER, tools sent unchanged);
// v2 takes OpenAI-like messages and tools, so far less is lost. A config naming /v1/chat gets v1
// (v1-request.ts).
import type {
  ChatMessage, ChatRequest, CompletionRequest, ContentPart, EmbeddingsRequest, ToolChoice, ToolDefinition,
} from '../../openai/types';
import { TranslationError, type GenerationRoute, type TargetContext } from '../core/types';

type Obj = Record<string, unknown>;

function fail(message: string): never {
  throw new TranslationError(message);
}

function textPart(p: ContentPart, role: string): Obj {
  if (p.type !== 'text') fail(`cannot transform part of type '${p.type}' in a ${role} message to cohere format`);
  return { type: 'text', text: String((p as { text: unknown }).text ?? '') };
}

/** User content: a string, or text and image_url parts (vision models; data URIs and URLs both). */
function userContent(content: ChatMessage['content']): string | Obj[] {
  if (typeof content === 'string') return content;
  return (content ?? []).map((p) => {
    if (p.type !== 'image_url') return textPart(p, 'user');
    const img = (p as { image_url?: { url?: unknown; detail?: unknown } }).image_url;
    if (typeof img?.url !== 'string') fail('image_url part without a url');
    return { type: 'image_url', image_url: img.detail !== undefined ? { url: img.url, detail: img.detail } : { url: img.url } };
  });
}

/** The text of a message that may only hold text (string or text parts). */
export function plainText(content: ChatMessage['content'], role: string): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.map((p) => String(textPart(p, role).text)).join('');
}

function translateMessage(m: ChatMessage): Obj | null {
  switch (m.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => textPart(p, m.role)) };
    case 'user':
      return { role: 'user', content: userContent(m.content) };
    case 'assistant': {
      const text = plainText(m.content, 'assistant');
      if (m.tool_calls && m.tool_calls.length > 0) {
        // The text that goes with tool calls is Cohere's `tool_plan`.
        const out: Obj = {
          role: 'assistant',
          tool_calls: m.tool_calls.map((tc) => ({
            id: tc.id, type: 'function',
            function: { name: tc.function.name, arguments: typeof tc.function.arguments === 'string' ? tc.function.arguments : JSON.stringify(tc.function.arguments ?? {}) },
          })),
        };
        if (text !== '') out.tool_plan = text;
        return out;
      }
      return text === '' ? null : { role: 'assistant', content: text };
    }
    case 'tool':
      if (!m.tool_call_id) fail("tool message without 'tool_call_id'");
      return { role: 'tool', tool_call_id: m.tool_call_id,
        content: Array.isArray(m.content) ? m.content.map((p) => textPart(p, 'tool')) : (m.content ?? '') };
    default:
      return fail(`unsupported message role '${String((m as { role: unknown }).role)}' for cohere`);
  }
}

function translateTools(tools: ToolDefinition[]): Obj[] {
  return tools.map((t) => {
    if (t.type !== 'function' || !t.function?.name) fail('only function tools can be sent to cohere');
    const fn: Obj = { name: t.function.name, parameters: t.function.parameters ?? { type: 'object', properties: {} } };
    if (t.function.description !== undefined) fn.description = t.function.description;
    return { type: 'function', function: fn };
  });
}

/**
 * Cohere has `REQUIRED` and `NONE` only. A named function is expressed exactly: the tool list narrowed
 * to that function, and `REQUIRED`.
 */
function applyToolChoice(out: Obj, tools: Obj[], choice: ToolChoice | undefined): void {
  if (choice === 'required') out.tool_choice = 'REQUIRED';
  else if (choice === 'none') out.tool_choice = 'NONE';
  else if (choice && typeof choice === 'object') {
    const name = choice.function?.name;
    const named = tools.filter((t) => (t.function as Obj).name === name);
    if (named.length === 0) fail(`tool_choice names function '${String(name)}', which is not in tools`);
    out.tools = named;
    out.tool_choice = 'REQUIRED';
  }
}

function stopSequences(stop: unknown): string[] | undefined {
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop) && stop.length > 0) return stop.map(String);
  return undefined;
}

/**
 * The sampling fields, named alike in /v1/chat and /v2/chat. Config options (max_tokens, temperature,
 * top_p, top_k) win over the request's.
 */
export function cohereSamplingFields(body: ChatRequest | CompletionRequest, ctx: TargetContext): Obj {
  const o = ctx.options;
  if (typeof body.n === 'number' && body.n > 1) fail('cohere returns one choice per request (n > 1 is not supported)');
  const out: Obj = {};
  const set = (key: string, v: unknown) => {
    if (v !== undefined && v !== null) out[key] = v;
  };
  set('max_tokens', o.max_tokens ?? body.max_tokens ?? body.max_completion_tokens);
  set('temperature', o.temperature ?? body.temperature);
  set('p', o.top_p ?? body.top_p);
  set('k', o.top_k ?? body.top_k);
  set('stop_sequences', stopSequences(body.stop));
  set('seed', body.seed);
  set('frequency_penalty', body.frequency_penalty);
  set('presence_penalty', body.presence_penalty);
  return out;
}

/** The /v2/chat body. */
export function cohereChatBody(req: GenerationRoute, ctx: TargetContext): Obj {
  const messages = req.routeType === 'llm/v1/completions'
    ? [{ role: 'user', content: req.body.prompt }]
    : (req.body.messages ?? []).map(translateMessage).filter((m): m is Obj => m !== null);
  const out: Obj = { model: ctx.model, messages, ...cohereSamplingFields(req.body, ctx) };

  if (req.routeType === 'llm/v1/chat') {
    const chat = req.body;
    if (chat.tools && chat.tools.length > 0) {
      const tools = translateTools(chat.tools);
      out.tools = tools;
      // Cohere's strictness is per request: on when every tool asks for it.
      if (chat.tools.every((t) => t.function?.strict === true)) out.strict_tools = true;
      applyToolChoice(out, tools, chat.tool_choice);
    }
    const rf = chat.response_format;
    if (rf?.type === 'json_object') out.response_format = { type: 'json_object' };
    else if (rf?.type === 'json_schema') {
      if (!rf.json_schema?.schema) fail("response_format json_schema has no 'schema'");
      out.response_format = { type: 'json_object', json_schema: rf.json_schema.schema };
    }
  }
  out.stream = ctx.stream;
  return out;
}

const INPUT_TYPES = new Set(['search_document', 'search_query', 'classification', 'clustering']);

/**
 * The /v2/embed body. Cohere's v3+ models need an `input_type`: `search_document` unless the client
 * sends one of Cohere's values in a non-OpenAI `input_type` field. Float embeddings are requested
 * (base64 is encoded from them for OpenAI clients that ask for it); `dimensions` → `output_dimension`.
 */
export function cohereEmbedBody(body: EmbeddingsRequest, ctx: TargetContext): Obj {
  const input = typeof body.input === 'string' ? [body.input] : body.input;
  if (!Array.isArray(input) || !input.every((x) => typeof x === 'string')) fail('cohere embeddings take text input (not token arrays)');
  const inputType = typeof body.input_type === 'string' && INPUT_TYPES.has(body.input_type) ? body.input_type : 'search_document';
  const out: Obj = { model: ctx.model, texts: input, input_type: inputType, embedding_types: ['float'] };
  if (typeof body.dimensions === 'number') out.output_dimension = body.dimensions;
  return out;
}
