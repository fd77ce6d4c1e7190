// Ollama's native API, spoken by mistral and llama2 when their format option is `ollama`: the request
// bodies of POST /api/chat (chat), /api/generate (legacy completions) and /api/embed (embeddings).
// Facts: ollama/ollama docs/api.md and api/types.go (Message, ToolCall, ChatResponse, Metrics).
import type { ChatMessage, ChatRequest, CompletionRequest, ToolCall } from '../../openai/types';
import { isObject, num, type Json } from '../core/json';
import { TranslationError, type TargetContext, type TranslatedRoute } from '../core/types';
import { singlePrompt, stopList } from '../openai-format/request-fields';

export const OLLAMA_PATHS: Readonly<Record<'llm/v1/chat' | 'llm/v1/completions' | 'llm/v1/embeddings', string>> = {
  'llm/v1/chat': '/api/chat',
  'llm/v1/completions': '/api/generate',
  'llm/v1/embeddings': '/api/embed',
};
/** Message text and base64 images from OpenAI content (string, null or parts). */
function splitContent(content: ChatMessage['content'], provider: string): { text: string; images: string[] } {
  if (content === null || content === undefined) return { text: '', images: [] };
  if (typeof content === 'string') return { text: content, images: [] };
  const texts: string[] = [];
  const images: string[] = [];
  for (const part of content) {
    if (part.type === 'text' && typeof part.text === 'string') {
      texts.push(part.text);
    } else if (part.type === 'image_url') {
      const ref = (part as { image_url?: unknown }).image_url;
      const url = typeof ref === 'string' ? ref : isObject(ref) && typeof ref.url === 'string' ? ref.url : '';
      // Ollama takes images as bare base64 only (its own OpenAI layer refuses http URLs the same way).
      const m = /^data:[^;,]*;base64,(.*)$/s.exec(url);
      if (!m) throw new TranslationError(`${provider} (ollama format) takes images as base64 data: URLs only`);
      images.push(m[1]!);
    } else {
      throw new TranslationError(`cannot send content part of type '${part.type}' to ${provider} (ollama format)`);
    }
  }
  return { text: texts.join('\n'), images };
}

function toolArguments(tc: ToolCall, provider: string): unknown {
  const raw = tc.function.arguments;
  if (raw === undefined || raw === '') return {};
  try {
    return JSON.parse(raw);
  } catch {
    throw new TranslationError(`arguments of tool call '${tc.id}' are not valid JSON; ${provider} (ollama format) needs an object`);
  }
}

function ollamaMessages(messages: ChatMessage[], provider: string): Json[] {
  // Ollama names a tool result by the function name (tool_name); OpenAI by the call id.
  const names = new Map<string, string>();
  return messages.map((m) => {
    const { text, images } = splitContent(m.content, provider);
    const out: Json = { role: m.role === 'developer' ? 'system' : m.role, content: text };
    if (images.length > 0) out.images = images;
    if (m.role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length > 0) {
      out.tool_calls = m.tool_calls.map((tc) => {
        if (tc.id) names.set(tc.id, tc.function.name);
        const call: Json = { function: { name: tc.function.name, arguments: toolArguments(tc, provider) } };
        if (tc.id) call.id = tc.id;
        return call;
      });
    }
    if (m.role === 'tool') {
      const name = m.name ?? (m.tool_call_id ? names.get(m.tool_call_id) : undefined);
      if (name) out.tool_name = name;
      if (m.tool_call_id) out.tool_call_id = m.tool_call_id;
    }
    return out;
  });
}

/** Sampling fields into Ollama's `options` (Modelfile parameter names). */
function ollamaOptions(body: ChatRequest | CompletionRequest): Json {
  const options: Json = {};
  const maxTokens = num(body.max_tokens) ?? num(body.max_completion_tokens);
  if (maxTokens !== undefined) options.num_predict = maxTokens;
  for (const k of ['temperature', 'top_p', 'top_k', 'seed', 'frequency_penalty', 'presence_penalty'] as const) {
    const v = num(body[k]);
    if (v !== undefined) options[k] = v;
  }
  const stop = stopList(body.stop);
  if (stop) options.stop = stop;
  return options;
}

/** OpenAI response_format into Ollama's `format`: "json" (JSON mode) or a JSON schema. */
function ollamaFormat(body: ChatRequest | CompletionRequest): unknown {
  const rf: unknown = body.response_format;
  if (!isObject(rf)) return undefined;
  if (rf.type === 'json_object') return 'json';
  if (rf.type === 'json_schema') {
    const js = rf.json_schema;
    return isObject(js) && isObject(js.schema) ? js.schema : 'json';
  }
  return undefined;
}

/**
 * Tools and tool_choice. Ollama has no tool_choice: `none` sends no tools, a named function sends only
 * that function (the model may still answer in text), `required` cannot be enforced and sends all tools.
 */
function ollamaTools(body: ChatRequest): Json[] | undefined {
  if (!Array.isArray(body.tools) || body.tools.length === 0 || body.tool_choice === 'none') return undefined;
  let tools = body.tools;
  const choice = body.tool_choice;
  if (isObject(choice) && isObject(choice.function) && typeof choice.function.name === 'string') {
    const name = choice.function.name;
    tools = tools.filter((t) => t.function.name === name);
  }
  return tools.map((t) => {
    const fn: Json = { name: t.function.name };
    if (t.function.description !== undefined) fn.description = t.function.description;
    if (t.function.parameters !== undefined) fn.parameters = t.function.parameters;
    return { type: 'function', function: fn };
  });
}

/** The Ollama request body for a chat, completions or embeddings call. */
export function ollamaRequestBody(req: TranslatedRoute, ctx: TargetContext): Json {
  const provider = ctx.provider;
  if (req.routeType === 'llm/v1/embeddings') {
    const e = req.body;
    const out: Json = { model: ctx.model, input: e.input };
    if (num(e.dimensions) !== undefined) out.dimensions = e.dimensions;
    return out;
  }
  const out: Json = { model: ctx.model };
  if (req.routeType === 'llm/v1/completions') {
    out.prompt = singlePrompt(req.body.prompt, provider);
    if (typeof req.body.suffix === 'string') out.suffix = req.body.suffix;
  } else {
    out.messages = ollamaMessages(req.body.messages, provider);
    const tools = ollamaTools(req.body);
    if (tools) out.tools = tools;
  }
  const format = ollamaFormat(req.body);
  if (format !== undefined) out.format = format;
  const options = ollamaOptions(req.body);
  if (Object.keys(options).length > 0) out.options = options;
  // Ollama streams unless told otherwise.
  out.stream = ctx.stream;
  return out;
}
