// AWS Bedrock through the Converse API (`/model/{id}/converse`, `/converse-stream` when streaming) for
// chat and legacy completions, InvokeModel (`/model/{id}/invoke`) for Titan and Cohere embeddings, and
// AWS SigV4 signing (service `bedrock`) computed last, over the final URL, host header and body.
//
// Where we differ from Kong's bedrock driver (kong-ai-plugins.md §2.5-2.7), deliberately:
// - images (data URIs), tool results as `json` or `text` (Kong refuses a tool result that is not JSON),
//   legacy completions and embeddings are translated; consecutive same-role messages are merged, as
//   Converse requires alternating roles;
// - no `anthropic_version` is added to the body (a field of Anthropic's InvokeModel body, not Converse's);
// - stop reasons are mapped to OpenAI's finish_reason values (Kong passes `end_turn` through lower-cased);
// - a system prompt for a model that takes none is left to Bedrock's own ValidationException rather than
//   to a list of model names that ages;
// - a stream under upstream_url / upstream_path still goes to converse-stream, and an upstream_url
//   without a path (a VPC endpoint, a proxy) gets the operation path instead of POST /;
// - no region → a TranslationError with a clear message (Kong: 500, or a crash before 3.8.1).
import type {
  ChatCompletion, ChatMessage, ChatRequest, CompletionRequest, ContentPart, EmbeddingsRequest, FinishReason,
  OpenAIResponseBody, TextCompletion, ToolCall, ToolDefinition, Usage,
} from '../openai/types';
import { applyConfiguredAuth } from './auth';
import { awsCredentials, awsRegion } from './bedrock-credentials';
import { embeddingsBody, parseEmbeddings } from './bedrock-embeddings';
import { signRequest } from './bedrock-sigv4';
import { fallbackMessage, providerError } from './errors';
import { encodePathSegment, resolveUrl } from './upstream';
import { bedrockUsage } from './native-usage';
import {
  ProviderStreamError, TranslationError, type Provider, type ProviderError, type StreamChunk, type StreamTranslator,
  type TargetContext, type UpstreamEvent, type UpstreamRequest,
} from './types';
import { eventJson, isObject, num, type Json, parseJson } from './json';

// ---------------------------------------------------------------------------------------------------
// URL

/** The operation path, the model id as one segment (as the AWS SDK encodes it: `:` → %3A, `/` → %2F). */
function operation(ctx: TargetContext): string {
  const id = encodePathSegment(ctx.model);
  if (ctx.routeType === 'llm/v1/embeddings') return `/model/${id}/invoke`;
  return `/model/${id}/${ctx.stream ? 'converse-stream' : 'converse'}`;
}

/**
 * The default is `https://bedrock-runtime.{region}.amazonaws.com/model/{id}/{op}`. Overrides follow
 * resolveUrl (upstream.ts); then a Converse path is switched to the operation the call needs (a
 * configured `.../converse` still streams from `.../converse-stream`, and the reverse).
 */
function upstreamUrl(ctx: TargetContext, region: () => string): string {
  const o = ctx.options;
  const op = operation(ctx);
  const base = o.upstream_url ?? `https://bedrock-runtime.${region()}.amazonaws.com`;
  const bare = o.upstream_url !== null && o.upstream_path === null && /^\/*$/.test(new URL(o.upstream_url).pathname);
  const url = new URL(resolveUrl(bare ? { upstream_url: o.upstream_url, upstream_path: op } : o, base, op));
  if (ctx.routeType !== 'llm/v1/embeddings') {
    url.pathname = url.pathname.replace(/\/converse(-stream)?(\/?)$/, `/${ctx.stream ? 'converse-stream' : 'converse'}$2`);
  }
  return url.toString();
}

// ---------------------------------------------------------------------------------------------------
// Request: OpenAI chat → Converse

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
  // its reason: anthropic-request.ts `samplingFields`). Other families take both.
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

function requestBody(body: unknown, ctx: TargetContext): string {
  if (!isObject(body)) throw new TranslationError('request body must be a JSON object');
  switch (ctx.routeType) {
    case 'preserve': return JSON.stringify(body);
    case 'llm/v1/chat': return JSON.stringify(chatBody(body as unknown as ChatRequest, ctx));
    case 'llm/v1/completions': return JSON.stringify(completionBody(body as unknown as CompletionRequest, ctx));
    case 'llm/v1/embeddings': return JSON.stringify(embeddingsBody(body as unknown as EmbeddingsRequest, ctx));
  }
}

/**
 * A configured `Authorization` header (auth.header_name) is a Bedrock API key (`Bearer ...`): the request
 * is then sent with it and not signed. Otherwise the request is SigV4-signed with the AWS credentials.
 */
function usesApiKey(ctx: TargetContext): boolean {
  const a = ctx.auth;
  return !!a && a.header_name?.toLowerCase() === 'authorization' && !!a.header_value && !a.aws_access_key_id;
}

async function buildRequest(body: unknown, ctx: TargetContext): Promise<UpstreamRequest> {
  let region: string | undefined;
  const getRegion = () => (region ??= awsRegion(ctx));
  const url = upstreamUrl(ctx, getRegion);
  const req = applyConfiguredAuth({
    method: 'POST', url, headers: { 'content-type': 'application/json' }, body: requestBody(body, ctx),
  }, ctx);
  if (usesApiKey(ctx)) return req;
  const credentials = await awsCredentials(ctx);
  // The signing date is the request's clock (ctx.now), so tests can fix it.
  return signRequest(req, { region: getRegion(), service: 'bedrock', credentials, date: new Date(ctx.now() * 1000) });
}

// ---------------------------------------------------------------------------------------------------
// Response: Converse → OpenAI

/** provider-formats.md §0.2. */
function finishReason(stopReason: unknown): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    default: // end_turn, stop_sequence, anything new
      return 'stop';
  }
}

/**
 * inputTokens counts the tokens neither read from nor written to the prompt cache, so OpenAI's
 * prompt_tokens is their sum with both cache counts; cached reads are reported as cached_tokens.
 */
function mapUsage(u: unknown): Usage | undefined {
  if (!isObject(u) || num(u.inputTokens) === undefined) return undefined;
  const read = num(u.cacheReadInputTokens);
  const write = num(u.cacheWriteInputTokens);
  const prompt = u.inputTokens as number + (read ?? 0) + (write ?? 0);
  const completion = num(u.outputTokens) ?? 0;
  const total = read !== undefined || write !== undefined ? prompt + completion : num(u.totalTokens) ?? prompt + completion;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: total,
    ...(read !== undefined ? { prompt_tokens_details: { cached_tokens: read } } : {}),
  };
}

function parseConverse(body: unknown, ctx: TargetContext): ChatCompletion | TextCompletion {
  if (!isObject(body)) throw new TranslationError('failed to decode bedrock response');
  const message = isObject(body.output) ? body.output.message : undefined;
  const content = isObject(message) ? message.content : undefined;
  if (!Array.isArray(content)) throw new TranslationError("'output.message.content' not in bedrock response");
  let text = '';
  let sawText = false;
  const toolCalls: ToolCall[] = [];
  for (const block of content) {
    if (!isObject(block)) continue;
    if (typeof block.text === 'string') {
      text += block.text;
      sawText = true;
    } else if (isObject(block.toolUse)) {
      const t = block.toolUse;
      if (typeof t.toolUseId !== 'string' || typeof t.name !== 'string') throw new TranslationError('invalid toolUse block in bedrock response');
      toolCalls.push({ id: t.toolUseId, type: 'function', function: { name: t.name, arguments: JSON.stringify(t.input ?? {}) } });
    }
    // reasoningContent, citations, guard content and other blocks have no OpenAI chat field.
  }
  const finish = finishReason(body.stopReason);
  const usage = mapUsage(body.usage);
  const created = ctx.now();
  if (ctx.routeType === 'llm/v1/completions') {
    return {
      id: `cmpl-${ctx.requestId}`, object: 'text_completion', created, model: ctx.model,
      choices: [{ index: 0, text, finish_reason: finish, logprobs: null }],
      ...(usage ? { usage } : {}),
    };
  }
  return {
    id: `chatcmpl-${ctx.requestId}`, object: 'chat.completion', created, model: ctx.model,
    choices: [{
      index: 0,
      message: {
        role: 'assistant',
        content: sawText || toolCalls.length === 0 ? text : null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      },
      finish_reason: finish,
    }],
    ...(usage ? { usage } : {}),
  };
}

function parseResponse(body: unknown, ctx: TargetContext): OpenAIResponseBody {
  switch (ctx.routeType) {
    // preserve: the client speaks Bedrock's own format and gets Bedrock's response untouched.
    case 'preserve': return body as OpenAIResponseBody;
    case 'llm/v1/embeddings': return parseEmbeddings(body, ctx);
    default: return parseConverse(body, ctx);
  }
}

// ---------------------------------------------------------------------------------------------------
// Errors

/** The exception AWS names for a status, when the body does not name it (x-amzn-ErrorType is a header). */
const EXCEPTION_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'ValidationException', 403: 'AccessDeniedException', 404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException', 424: 'ModelErrorException', 429: 'ThrottlingException',
  500: 'InternalServerException', 503: 'ServiceUnavailableException',
};

function exceptionName(status: number, body: unknown, message: string): string | null {
  const named = isObject(body) ? body.__type ?? body.code ?? body.Code : undefined;
  // `__type` may be "com.amazon.coral.service#ValidationException" or "ValidationException:http://...".
  if (typeof named === 'string' && named !== '') return named.replace(/^.*#/, '').replace(/:.*$/, '');
  if (status === 403 && /security token included in the request is invalid/i.test(message)) return 'UnrecognizedClientException';
  if (status === 403 && /signature we calculated does not match/i.test(message)) return 'InvalidSignatureException';
  if (status === 403 && /security token included in the request is expired/i.test(message)) return 'ExpiredTokenException';
  if (status === 429 && /not ready/i.test(message)) return 'ModelNotReadyException';
  return EXCEPTION_BY_STATUS[status] ?? null;
}

/**
 * AWS signature errors echo the canonical request, which holds the session token and the access key id;
 * they are masked here on top of redactSecrets (credentials from the SDK chain are not in ctx).
 */
function scrubAws(message: string): string {
  return message
    .replace(/(x-amz-security-token\s*[:=]\s*)[^\s'"&\\]+/gi, '$1[REDACTED]')
    .replace(/\b(AKIA|ASIA)[A-Z0-9]{12,}\b/g, (m) => `${m.slice(0, 4)}...[REDACTED]`);
}

function parseError(status: number, body: unknown, ctx: TargetContext): ProviderError {
  const m = isObject(body) ? body.message ?? body.Message : undefined;
  const message = typeof m === 'string' && m !== '' ? m : fallbackMessage(status, body);
  return providerError(status, scrubAws(message), ctx, exceptionName(status, body, message));
}

/** HTTP status of each ConverseStream exception (API_runtime_ConverseStreamOutput). */
const STREAM_EXCEPTION_STATUS: Readonly<Record<string, number>> = {
  throttlingException: 429, validationException: 400, modelStreamErrorException: 424,
  internalServerException: 500, serviceUnavailableException: 503, modelTimeoutException: 408,
  accessDeniedException: 403, resourceNotFoundException: 404, serviceQuotaExceededException: 400,
};

function streamError(ev: UpstreamEvent, ctx: TargetContext): ProviderStreamError {
  const name = ev.event ?? 'exception';
  const payload = parseJson(ev.data) ?? ev.data;
  const status = STREAM_EXCEPTION_STATUS[name] ?? 500;
  let message = isObject(payload) && typeof (payload.message ?? payload.Message) === 'string'
    ? (payload.message ?? payload.Message) as string : fallbackMessage(status, payload);
  if (isObject(payload) && typeof payload.originalMessage === 'string') {
    message += ` (model: ${payload.originalMessage}${typeof payload.originalStatusCode === 'number' ? `, status ${payload.originalStatusCode}` : ''})`;
  }
  const code = name.charAt(0).toUpperCase() + name.slice(1);
  return new ProviderStreamError(providerError(status, scrubAws(message), ctx, code));
}

// ---------------------------------------------------------------------------------------------------
// Stream: ConverseStream events → OpenAI chunks

function streamTranslator(ctx: TargetContext): StreamTranslator {
  const completions = ctx.routeType === 'llm/v1/completions';
  const id = completions ? `cmpl-${ctx.requestId}` : `chatcmpl-${ctx.requestId}`;
  const created = ctx.now();
  const model = ctx.model;
  /** contentBlockIndex → OpenAI tool_calls index (which counts tool calls only). */
  const toolIndex = new Map<number, number>();
  let stopped = false;
  let finished = false;
  let usage: Usage | undefined;

  const chat = (delta: Json, finish: FinishReason | null = null): StreamChunk => ({
    id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }],
  });
  const text = (t: string, finish: FinishReason | null = null): StreamChunk => ({
    id, object: 'text_completion', created, model, choices: [{ index: 0, text: t, finish_reason: finish, logprobs: null }],
  });

  return {
    push(ev: UpstreamEvent): StreamChunk[] {
      if (ev.exception) throw streamError(ev, ctx);
      const p = eventJson(ev.data, 'bedrock');
      if (!isObject(p)) throw new TranslationError(`invalid bedrock stream event '${ev.event ?? ''}'`);
      switch (ev.event) {
        case 'messageStart':
          return completions ? [] : [chat({ role: 'assistant', content: '' })];
        case 'contentBlockStart': {
          const start = isObject(p.start) ? p.start.toolUse : undefined;
          if (!isObject(start) || completions) return [];
          const block = num(p.contentBlockIndex) ?? 0;
          const index = toolIndex.size;
          toolIndex.set(block, index);
          return [chat({ tool_calls: [{ index, id: start.toolUseId, type: 'function', function: { name: start.name, arguments: '' } }] })];
        }
        case 'contentBlockDelta': {
          const d = isObject(p.delta) ? p.delta : {};
          if (typeof d.text === 'string') {
            if (d.text === '') return [];
            return [completions ? text(d.text) : chat({ content: d.text })];
          }
          if (isObject(d.toolUse)) {
            if (completions) return [];
            const index = toolIndex.get(num(p.contentBlockIndex) ?? 0);
            if (index === undefined) throw new TranslationError('bedrock stream: toolUse delta without its contentBlockStart');
            const fragment = typeof d.toolUse.input === 'string' ? d.toolUse.input : '';
            return fragment === '' ? [] : [chat({ tool_calls: [{ index, function: { arguments: fragment } }] })];
          }
          // reasoningContent (text / signature), citations and images have no OpenAI chunk field.
          return [];
        }
        case 'messageStop': {
          stopped = true;
          const finish = finishReason(p.stopReason);
          return [completions ? text('', finish) : chat({}, finish)];
        }
        case 'metadata':
          usage = mapUsage(p.usage) ?? usage;
          finished = true;
          return [];
        default: // contentBlockStop, and events added later
          return [];
      }
    },
    end() {
      // ConverseStream always ends with messageStop then metadata (which carries the usage).
      if (!stopped) throw new TranslationError('bedrock stream ended before messageStop');
      if (!finished) throw new TranslationError('bedrock stream ended before its metadata event');
      return { chunks: [], usage };
    },
    usage: () => usage,
  };
}

export const bedrockProvider: Provider = {
  name: 'bedrock',
  routeTypes: ['llm/v1/chat', 'llm/v1/completions', 'llm/v1/embeddings', 'preserve'],
  framing: () => 'aws-eventstream',
  buildRequest: (body, ctx) => buildRequest(body, ctx),
  parseResponse,
  streamTranslator,
  parseError,
  preservePath: 'model',
  nativeUsage: bedrockUsage,
};
