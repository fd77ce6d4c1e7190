// OpenAI chat / completions requests → Anthropic Messages API bodies (POST /v1/messages).
// Facts: docs/provider-formats.md §3; Anthropic's Messages API reference and its TypeScript SDK types.
import type { ChatMessage, ContentPart, ResponseFormat, ToolChoice, ToolDefinition } from '../../openai/types';
import { TranslationError, type GenerationRoute, type TargetContext } from '../core/types';

/**
 * Anthropic requires `max_tokens`; Kong (3.9.1+) sends none when neither the config nor the client
 * gives one, and Anthropic answers 400. We send this instead: 4096 is the largest output every Claude
 * model since Claude 3 accepts, so it never exceeds a model's limit.
 */
export const DEFAULT_MAX_TOKENS = 4096;

/**
 * OpenAI's `response_format` (JSON mode and JSON schema) is carried by Anthropic's documented "JSON
 * through tool use" pattern: one tool whose input schema is the wanted JSON, forced with tool_choice.
 * Every Claude 3+ model supports it (the native `output_config.format` exists only on 4.5+ models and
 * takes no schema-less JSON mode). The tool's input is handed back to the client as the message text.
 * The name is reserved: a client tool of that name is refused, so the reverse translation is stateless.
 */
export const RESPONSE_FORMAT_TOOL = 'json_response_format';

type Block = Record<string, unknown>;
interface AnthropicMessage { role: 'user' | 'assistant'; content: string | Block[] }

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

function fail(message: string): never {
  throw new TranslationError(message);
}

/** `data:<type>;base64,<data>` → its parts, or null when the URL is not a base64 data URI. */
function parseDataUri(url: string): { mediaType: string; data: string } | null {
  const m = /^data:([^;,]+)((?:;[^;,=]+=[^;,]*)*);base64,(.*)$/s.exec(url);
  return m ? { mediaType: m[1]!.toLowerCase(), data: m[3]! } : null;
}

function imageBlock(url: string): Block {
  if (url.startsWith('data:')) {
    const d = parseDataUri(url);
    if (!d) fail('anthropic accepts images as base64 data URIs or http(s) URLs');
    if (!IMAGE_TYPES.has(d.mediaType)) fail(`anthropic does not accept images of type '${d.mediaType}' (jpeg, png, gif and webp only)`);
    return { type: 'image', source: { type: 'base64', media_type: d.mediaType, data: d.data } };
  }
  if (!/^https?:\/\//i.test(url)) fail('anthropic accepts images as base64 data URIs or http(s) URLs');
  return { type: 'image', source: { type: 'url', url } };
}

/** An OpenAI `file` part holding a PDF (`file_data` data URI) → a document block. */
function fileBlock(part: Record<string, unknown>): Block {
  const file = part.file as { file_data?: unknown } | undefined;
  const d = typeof file?.file_data === 'string' ? parseDataUri(file.file_data) : null;
  if (!d || d.mediaType !== 'application/pdf') fail("anthropic accepts 'file' parts only as base64 PDF data (file_data)");
  return { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: d.data } };
}

function partBlock(part: ContentPart, role: string): Block {
  if (part.type === 'text') return { type: 'text', text: String((part as { text: unknown }).text ?? '') };
  if (role === 'user' && part.type === 'image_url') {
    const url = (part as { image_url?: { url?: unknown } }).image_url?.url;
    if (typeof url !== 'string') fail('image_url part without a url');
    return imageBlock(url);
  }
  if (role === 'user' && part.type === 'file') return fileBlock(part as Record<string, unknown>);
  return fail(`cannot transform part of type '${part.type}' in a ${role} message to anthropic format`);
}

/** The text of a message whose content may only be text (system, tool results given as parts). */
function textOnly(content: ChatMessage['content'], role: string): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.map((p) => {
    if (p.type !== 'text') fail(`cannot transform part of type '${p.type}' in a ${role} message to anthropic format`);
    return String((p as { text: unknown }).text ?? '');
  }).join('');
}

function toolUseBlocks(msg: ChatMessage): Block[] {
  return (msg.tool_calls ?? []).map((tc) => {
    const raw = tc.function?.arguments ?? '';
    let input: unknown = {};
    if (typeof raw === 'string' && raw.trim() !== '') {
      try {
        input = JSON.parse(raw);
      } catch {
        fail(`tool call '${tc.id}': function.arguments is not valid JSON`);
      }
    } else if (raw !== null && typeof raw === 'object') {
      input = raw;
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) fail(`tool call '${tc.id}': function.arguments must be a JSON object`);
    return { type: 'tool_use', id: tc.id, name: tc.function.name, input };
  });
}

function toolResultBlock(msg: ChatMessage): Block {
  if (!msg.tool_call_id) fail("tool message without 'tool_call_id'");
  const c = msg.content;
  const content = Array.isArray(c) ? c.map((p) => partBlock(p, 'user')) : (c ?? '');
  return { type: 'tool_result', tool_use_id: msg.tool_call_id, content };
}

/** Appends a turn, merging it into the previous one of the same role (tool results, then user text). */
function push(out: AnthropicMessage[], role: 'user' | 'assistant', content: string | Block[]): void {
  const last = out[out.length - 1];
  if (last && last.role === role) {
    const blocks = (x: string | Block[]): Block[] => (typeof x === 'string' ? (x === '' ? [] : [{ type: 'text', text: x }]) : x);
    last.content = [...blocks(last.content), ...blocks(content)];
    return;
  }
  out.push({ role, content });
}

/**
 * System and developer messages are lifted, in order, into `system` (Kong keeps only the last one; we
 * keep them all). Tool results become `tool_result` blocks in a user turn; consecutive turns of one
 * role are merged, as the API expects alternating turns.
 */
function translateMessages(messages: ChatMessage[]): { system: string[]; messages: AnthropicMessage[] } {
  const system: string[] = [];
  const out: AnthropicMessage[] = [];
  for (const m of messages) {
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(textOnly(m.content, m.role));
        break;
      case 'user':
        push(out, 'user', typeof m.content === 'string' ? m.content
          : (m.content ?? []).map((p) => partBlock(p, 'user')));
        break;
      case 'assistant': {
        const text = textOnly(m.content, 'assistant');
        const blocks: Block[] = text !== '' ? [{ type: 'text', text }] : [];
        blocks.push(...toolUseBlocks(m));
        if (blocks.length === 0) break; // Anthropic refuses an empty assistant turn
        push(out, 'assistant', blocks.length === 1 && text !== '' ? text : blocks);
        break;
      }
      case 'tool':
        push(out, 'user', [toolResultBlock(m)]);
        break;
      default:
        fail(`unsupported message role '${String((m as { role: unknown }).role)}' for anthropic`);
    }
  }
  return { system, messages: out };
}

function translateTools(tools: ToolDefinition[]): Block[] {
  return tools.map((t) => {
    if (t.type !== 'function' || !t.function?.name) fail('only function tools can be sent to anthropic');
    if (t.function.name === RESPONSE_FORMAT_TOOL) fail(`tool name '${RESPONSE_FORMAT_TOOL}' is reserved by the gateway`);
    const tool: Block = { name: t.function.name, input_schema: t.function.parameters ?? { type: 'object', properties: {} } };
    if (t.function.description !== undefined) tool.description = t.function.description;
    return tool;
  });
}

function translateToolChoice(choice: ToolChoice | undefined, parallel: unknown): Block | undefined {
  let out: Block | undefined;
  if (choice === 'auto') out = { type: 'auto' };
  else if (choice === 'required') out = { type: 'any' };
  else if (choice === 'none') return { type: 'none' };
  else if (choice && typeof choice === 'object') {
    if (!choice.function?.name) fail('tool_choice names no function');
    out = { type: 'tool', name: choice.function.name };
  }
  if (parallel === false) out = { ...(out ?? { type: 'auto' }), disable_parallel_tool_use: true };
  return out;
}

function responseFormatTool(rf: ResponseFormat): Block {
  let schema: Record<string, unknown> = { type: 'object' };
  let description = 'Give the complete answer as this tool\'s input: a JSON object.';
  if (rf.type === 'json_schema') {
    if (!rf.json_schema?.schema) fail("response_format json_schema has no 'schema'");
    schema = rf.json_schema.schema;
    if (schema.type !== 'object') fail('anthropic: response_format json_schema must describe a JSON object (type "object")');
    description = rf.json_schema.description
      ?? `Give the complete answer as this tool's input: a JSON object following the schema '${rf.json_schema.name}'.`;
  }
  return { name: RESPONSE_FORMAT_TOOL, description, input_schema: schema };
}

function stopSequences(stop: unknown): string[] | undefined {
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop) && stop.length > 0) return stop.map(String);
  return undefined;
}

/**
 * At most one of temperature and top_p, temperature first: Claude Sonnet 4.5, Opus 4.1 and later answer
 * 400 "`temperature` and `top_p` cannot both be specified" when both come, and Anthropic advises setting
 * only one on every model. top_p goes only when no temperature is set.
 */
function samplingFields(temperature: number | null | undefined, topP: number | null | undefined): Record<string, number> {
  if (temperature !== undefined && temperature !== null) return { temperature };
  if (topP !== undefined && topP !== null) return { top_p: topP };
  return {};
}

/**
 * The Messages API body for a chat or completions request. Config options (max_tokens, temperature,
 * top_p, top_k) win over the request's values. Kong's driver (kong/llm/drivers/anthropic.lua) sends
 * temperature and max_tokens, never top_p or top_k; we send top_k, and top_p as `samplingFields` allows.
 */
export function anthropicBody(req: GenerationRoute, ctx: TargetContext): Record<string, unknown> {
  const o = ctx.options;
  const body = req.body;
  let system: string[] = [];
  let messages: AnthropicMessage[];
  if (req.routeType === 'llm/v1/completions') {
    // The legacy /v1/complete API is retired: a prompt becomes one user turn of the Messages API.
    messages = [{ role: 'user', content: req.body.prompt }];
  } else {
    ({ system, messages } = translateMessages(req.body.messages ?? []));
  }
  if (typeof body.n === 'number' && body.n > 1) fail('anthropic returns one choice per request (n > 1 is not supported)');

  const out: Record<string, unknown> = {
    model: ctx.model,
    max_tokens: o.max_tokens ?? body.max_tokens ?? body.max_completion_tokens ?? DEFAULT_MAX_TOKENS,
    messages,
  };
  const sys = system.filter((s) => s !== '');
  if (sys.length > 0) out.system = sys.join('\n\n');
  Object.assign(out, samplingFields(o.temperature ?? body.temperature, o.top_p ?? body.top_p));
  const topK = o.top_k ?? body.top_k;
  if (topK !== undefined && topK !== null) out.top_k = topK;
  const stop = stopSequences(body.stop);
  if (stop) out.stop_sequences = stop;
  if (typeof body.user === 'string' && body.user !== '') out.metadata = { user_id: body.user };

  if (req.routeType === 'llm/v1/chat') {
    const chat = req.body;
    const tools = chat.tools && chat.tools.length > 0 ? translateTools(chat.tools) : [];
    const rf = chat.response_format;
    if (rf && (rf.type === 'json_object' || rf.type === 'json_schema')) {
      if (tools.length > 0) fail('anthropic: response_format cannot be combined with tools (JSON output is produced through a forced tool)');
      out.tools = [responseFormatTool(rf)];
      out.tool_choice = { type: 'tool', name: RESPONSE_FORMAT_TOOL };
    } else if (tools.length > 0) {
      out.tools = tools;
      const choice = translateToolChoice(chat.tool_choice, chat.parallel_tool_calls);
      if (choice) out.tool_choice = choice;
    }
  }
  out.stream = ctx.stream;
  return out;
}
