// OpenAI chat and legacy completions requests → Bedrock Converse bodies (embeddings: embeddings.ts).
import type { ChatMessage, ChatRequest, CompletionRequest, ContentPart, ToolCall, ToolDefinition } from '../../openai/types';
import { isObject, num, type Json } from '../core/json';
import { TranslationError, type RouteRequest, type TargetContext } from '../core/types';
import { embeddingsBody } from './embeddings';

type Block = Json;
interface ConverseMessage { role: 'user' | 'assistant'; content: Block[] }

const IMAGE_FORMATS: Readonly<Record<string, string>> = {
  'image/png': 'png', 'image/jpeg': 'jpeg', 'image/jpg': 'jpeg', 'image/gif': 'gif', 'image/webp': 'webp',
};

/** An `image_url` part as a Converse image block: data URIs only (Converse takes bytes, never a URL). */
function imageBlock(url: string): Block {
  const m = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(url);
  if (!m) {
    throw new TranslationError(
      'Bedrock Converse takes images as bytes only: send the image as a data URI (data:image/png;base64,...), not a URL');
  }
  const mime = m[1]!.trim().toLowerCase();
  const format = IMAGE_FORMATS[mime];
  if (!format) throw new TranslationError(`image type '${mime || 'unknown'}' is not supported by Bedrock (png, jpeg, gif, webp)`);
  const isBase64 = m[2]!.split(';').some((p) => p.trim().toLowerCase() === 'base64');
  let bytes: string;
  try {
    bytes = isBase64 ? m[3]!.replace(/\s+/g, '') : Buffer.from(decodeURIComponent(m[3]!), 'utf8').toString('base64');
  } catch {
    throw new TranslationError('invalid image data URI');
  }
  if (isBase64 && !/^[A-Za-z0-9+/]*={0,2}$/.test(bytes)) throw new TranslationError('invalid base64 in image data URI');
  return { image: { format, source: { bytes } } };
}

function partText(p: ContentPart): string | undefined {
  const part = p as Json;
  if (part.type === 'text' && typeof part.text === 'string') return part.text;
  if (part.type === 'refusal' && typeof part.refusal === 'string') return part.refusal;
  return undefined;
}

/** Text of a message whose content may only be text (system, tool): parts joined. */
function plainText(content: ChatMessage['content'], role: string): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw new TranslationError(`invalid content in ${role} message`);
  return content.map((p) => {
    const t = partText(p);
    if (t === undefined) throw new TranslationError(`content part type '${p.type}' is not supported in ${role} messages`);
    return t;
  }).join('');
}

/** Blank text blocks are refused by Converse ("text field is blank"), so they are left out. */
function contentBlocks(content: ChatMessage['content'], role: 'user' | 'assistant'): Block[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content.trim() === '' ? [] : [{ text: content }];
  if (!Array.isArray(content)) throw new TranslationError(`invalid content in ${role} message`);
  const out: Block[] = [];
  for (const p of content) {
    const t = partText(p);
    if (t !== undefined) {
      if (t.trim() !== '') out.push({ text: t });
    } else if (p.type === 'image_url' && role === 'user') {
      const iu = (p as { image_url?: unknown }).image_url;
      const url = typeof iu === 'string' ? iu : isObject(iu) && typeof iu.url === 'string' ? iu.url : undefined;
      if (url === undefined) throw new TranslationError('image_url part without a url');
      out.push(imageBlock(url));
    } else {
      throw new TranslationError(`content part type '${p.type}' is not supported by Bedrock in ${role} messages`);
    }
  }
  return out;
}

function toolUseBlock(tc: ToolCall): Block {
  if (!isObject(tc) || !isObject(tc.function) || typeof tc.function.name !== 'string') {
    throw new TranslationError('invalid tool call in assistant message');
  }
  const raw = tc.function.arguments;
  let input: unknown = {};
  if (typeof raw === 'string' && raw.trim() !== '') {
    try {
      input = JSON.parse(raw);
    } catch {
      throw new TranslationError(`arguments of tool call '${tc.function.name}' are not valid JSON`);
    }
  } else if (isObject(raw)) {
    input = raw;
  }
  if (!isObject(input)) throw new TranslationError(`arguments of tool call '${tc.function.name}' must be a JSON object`);
  return { toolUse: { toolUseId: tc.id, name: tc.function.name, input } };
}

/** A tool message: its result as `json` when it is a JSON object, else as text. */
function toolResultBlock(m: ChatMessage): Block {
  if (typeof m.tool_call_id !== 'string' || m.tool_call_id === '') throw new TranslationError('tool message without tool_call_id');
  const text = plainText(m.content, 'tool');
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch { parsed = undefined; }
  const content = isObject(parsed) ? [{ json: parsed }] : [{ text: text === '' ? '(empty)' : text }];
  return { toolResult: { toolUseId: m.tool_call_id, content } };
}

function converseMessages(messages: ChatMessage[]): { system: Block[]; messages: ConverseMessage[] } {
  if (!Array.isArray(messages)) throw new TranslationError("'messages' must be an array");
  const system: Block[] = [];
  const out: ConverseMessage[] = [];
  const push = (role: 'user' | 'assistant', content: Block[]) => {
    if (content.length === 0) return;
    const last = out[out.length - 1];
    // Converse requires user and assistant turns to alternate: same-role neighbours become one message.
    if (last && last.role === role) last.content.push(...content);
    else out.push({ role, content });
  };
  for (const m of messages) {
    if (!isObject(m)) throw new TranslationError('invalid message');
    switch (m.role) {
      case 'system':
      case 'developer': {
        const text = plainText(m.content, m.role);
        if (text.trim() !== '') system.push({ text });
        break;
      }
      case 'user':
        push('user', contentBlocks(m.content, 'user'));
        break;
      case 'assistant':
        push('assistant', [...contentBlocks(m.content, 'assistant'), ...(Array.isArray(m.tool_calls) ? m.tool_calls.map(toolUseBlock) : [])]);
        break;
      case 'tool':
        push('user', [toolResultBlock(m)]);
        break;
      default:
        throw new TranslationError(`message role '${String((m as { role?: unknown }).role)}' is not supported by Bedrock`);
    }
  }
  return { system, messages: out };
}

function toolConfig(body: ChatRequest): Json | undefined {
  const tools = Array.isArray(body.tools) ? body.tools.filter((t: ToolDefinition) => isObject(t) && t.type === 'function' && isObject(t.function)) : [];
  const choice = body.tool_choice;
  // Converse has no "none": the tools are left out (and the history's tool blocks become text, see
  // toolBlocksAsText).
  if (tools.length === 0 || choice === 'none') return undefined;
  const specs = tools.map((t) => ({
    toolSpec: {
      name: t.function.name,
      ...(typeof t.function.description === 'string' && t.function.description !== '' ? { description: t.function.description } : {}),
      inputSchema: { json: isObject(t.function.parameters) ? t.function.parameters : { type: 'object', properties: {} } },
    },
  }));
  // "auto" is Converse's default and is not sent: several model families refuse any toolChoice.
  let toolChoice: Json | undefined;
  if (choice === 'required') toolChoice = { any: {} };
  else if (isObject(choice)) {
    const name = isObject(choice.function) ? choice.function.name : undefined;
    if (typeof name !== 'string') throw new TranslationError('tool_choice names no function');
    toolChoice = { tool: { name } };
  } else if (choice !== undefined && choice !== 'auto') {
    throw new TranslationError(`tool_choice '${String(choice)}' is not supported`);
  }
  return { tools: specs, ...(toolChoice ? { toolChoice } : {}) };
}

/** A Claude model: its id, inference profile (`us.anthropic...`) or ARN names `anthropic.`. */
function isAnthropicModel(model: string): boolean {
  return /(^|[./:])anthropic\./.test(model.toLowerCase());
}

/**
 * top_k has no place in Converse's inferenceConfig; it goes to additionalModelRequestFields under the name
 * the model family takes: Anthropic `top_k`, Amazon Nova `inferenceConfig.topK`, Cohere Command `k`. The
 * family is read from a model id, an inference profile (`us.anthropic...`) or an ARN. Other families
 * (Llama, Mistral, Titan, AI21, DeepSeek, ...) take none, or not on every model, and Bedrock refuses an
 * unknown field, so top_k is dropped for them.
 */
function topKFields(model: string, topK: number): Json | undefined {
  const id = model.toLowerCase();
  if (isAnthropicModel(id)) return { top_k: topK };
  if (/(^|[./:])amazon\.nova-/.test(id)) return { inferenceConfig: { topK } };
  if (/(^|[./:])cohere\.command/.test(id)) return { k: topK };
  return undefined;
}

/** A Bedrock-only request field, top-level or under `bedrock` (Kong's spelling of the passthrough). */
function passthrough(body: Json, name: string): unknown {
  const nested = isObject(body.bedrock) ? body.bedrock[name] : undefined;
  return nested ?? body[name];
}

function inferenceFields(body: ChatRequest | CompletionRequest, ctx: TargetContext): Json {
  const o = ctx.options;
  const out: Json = {};
  const inference: Json = {};
  // The config's max_tokens wins over the client's (kong/llm/drivers/shared.lua merge_config_defaults).
  const maxTokens = num(o.max_tokens) ?? num(body.max_completion_tokens) ?? num(body.max_tokens);
  if (maxTokens !== undefined) inference.maxTokens = maxTokens;
  const temperature = num(body.temperature) ?? num(o.temperature);
  if (temperature !== undefined) inference.temperature = temperature;
  const topP = num(body.top_p) ?? num(o.top_p);
  // Claude models get at most one of the two, temperature first: newer ones refuse both (the rule and
  // its reason: anthropic/request.ts `samplingFields`). Other families take both.
  if (topP !== undefined && !(temperature !== undefined && isAnthropicModel(ctx.model))) inference.topP = topP;
  const stop = typeof body.stop === 'string' ? [body.stop] : Array.isArray(body.stop) ? body.stop.filter((s) => typeof s === 'string') : [];
  if (stop.length > 0) inference.stopSequences = stop;
  if (Object.keys(inference).length > 0) out.inferenceConfig = inference;

  if (num(body.n) !== undefined && num(body.n)! > 1) throw new TranslationError('Bedrock Converse returns one choice: n > 1 is not supported');
  // seed, logprobs, presence/frequency penalties: Converse has no such fields; they are dropped.

  const topK = num(body.top_k) ?? num(o.top_k);
  const extra: Json = { ...(topK !== undefined ? topKFields(ctx.model, topK) : undefined) };
  const clientExtra = passthrough(body, 'additionalModelRequestFields');
  if (isObject(clientExtra)) Object.assign(extra, clientExtra);
  if (Object.keys(extra).length > 0) out.additionalModelRequestFields = extra;
  for (const name of ['guardrailConfig', 'additionalModelResponseFieldPaths', 'performanceConfig', 'requestMetadata']) {
    const v = passthrough(body, name);
    if (v !== undefined && v !== null) out[name] = v;
  }
  return out;
}

/** response_format json_schema → Converse structured output; json_object has no Converse equivalent and is dropped. */
function outputConfig(body: ChatRequest): Json | undefined {
  const rf = body.response_format;
  if (!isObject(rf) || rf.type !== 'json_schema') return undefined;
  const js = rf.json_schema;
  if (!isObject(js) || !isObject(js.schema)) throw new TranslationError("response_format json_schema without a 'schema'");
  return {
    textFormat: {
      type: 'json_schema',
      structure: {
        jsonSchema: {
          // Bedrock takes the schema as a JSON string.
          schema: JSON.stringify(js.schema),
          ...(typeof js.name === 'string' ? { name: js.name } : {}),
          ...(typeof js.description === 'string' ? { description: js.description } : {}),
        },
      },
    },
  };
}

/**
 * Bedrock refuses toolUse / toolResult blocks when the request has no toolConfig ("The toolConfig field
 * must be defined when using toolUse and toolResult content blocks"). That is the usual shape of
 * `tool_choice: "none"` (answer from the tool results gathered so far) and of a history replayed without
 * its tools, so the blocks are then rewritten as text: the model sees the calls and results, and cannot
 * call a tool.
 */
function toolBlocksAsText(messages: ConverseMessage[]): void {
  for (const m of messages) {
    m.content = m.content.map((b) => {
      if (isObject(b.toolUse)) {
        const t = b.toolUse;
        return { text: `[tool call ${String(t.toolUseId)}: ${String(t.name)}(${JSON.stringify(t.input)})]` };
      }
      if (isObject(b.toolResult)) {
        const r = b.toolResult;
        const parts = Array.isArray(r.content) ? r.content.map((c: unknown) => (isObject(c) && typeof c.text === 'string' ? c.text
          : isObject(c) ? JSON.stringify(c.json) : '')) : [];
        return { text: `[tool result ${String(r.toolUseId)}]: ${parts.join('')}` };
      }
      return b;
    });
  }
}

function chatBody(body: ChatRequest, ctx: TargetContext): Json {
  const { system, messages } = converseMessages(body.messages);
  if (messages.length === 0) throw new TranslationError('Bedrock Converse needs at least one user or assistant message');
  const tools = toolConfig(body);
  if (!tools) toolBlocksAsText(messages);
  const output = outputConfig(body);
  return {
    messages,
    ...(system.length > 0 ? { system } : {}),
    ...inferenceFields(body, ctx),
    ...(tools ? { toolConfig: tools } : {}),
    ...(output ? { outputConfig: output } : {}),
  };
}

function completionBody(body: CompletionRequest, ctx: TargetContext): Json {
  const p: unknown = body.prompt;
  const prompt = typeof p === 'string' ? p : Array.isArray(p) && p.length === 1 && typeof p[0] === 'string' ? p[0] : undefined;
  if (prompt === undefined) throw new TranslationError('Bedrock completions take one prompt string');
  if (prompt.trim() === '') throw new TranslationError('the prompt is empty');
  return { messages: [{ role: 'user', content: [{ text: prompt }] }], ...inferenceFields(body, ctx) };
}

/** The body for the call's route type; `preserve` sends the client's (Bedrock's own format) unchanged. */
export function requestBody(req: RouteRequest, ctx: TargetContext): string {
  const body: unknown = req.body;
  if (!isObject(body)) throw new TranslationError('request body must be a JSON object');
  switch (req.routeType) {
    case 'preserve': return JSON.stringify(req.body);
    case 'llm/v1/chat': return JSON.stringify(chatBody(req.body, ctx));
    case 'llm/v1/completions': return JSON.stringify(completionBody(req.body, ctx));
    case 'llm/v1/embeddings': return JSON.stringify(embeddingsBody(req.body, ctx));
  }
}
