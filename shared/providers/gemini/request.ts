// OpenAI request bodies into Gemini's (generateContent, batchEmbedContents, Vertex :predict). Field names
// and rules from ai.google.dev/api/generate-content and the Vertex AI inference reference
// (cloud.google.com/vertex-ai/generative-ai/docs/model-reference/inference).
import type {
  ChatMessage, ChatRequest, CompletionRequest, ContentPart, EmbeddingsRequest, SamplingFields, ToolCall, ToolChoice,
} from '../../openai/types';
import { isObject, type Json } from '../core/json';
import { TranslationError } from '../core/types';
import { toGeminiParameters, toGeminiSchema } from './schema';

export interface GeminiPart {
  text?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType: string; fileUri: string };
  functionCall?: { name: string; args: Json };
  functionResponse?: { name: string; response: Json };
  thoughtSignature?: string;
}

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

/**
 * Gemini 3 models refuse (400) a replayed `functionCall` part without the `thoughtSignature` they
 * attached to it. A client that kept it (our responses carry it as `extra_content.google.thought_signature`
 * on the tool call, as Google's own OpenAI-compatible endpoint does) gets it echoed; for one that did not,
 * Google documents this placeholder, which skips the check (ai.google.dev/gemini-api/docs/thought-signatures).
 */
export const SKIP_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

function requiresThoughtSignatures(model: string): boolean {
  const m = /^(?:.*\/)?gemini-(\d+)/.exec(model);
  return m !== null && Number(m[1]) >= 3;
}

function thoughtSignatureOf(call: ToolCall): string | undefined {
  const extra = (call as ToolCall & { extra_content?: unknown }).extra_content;
  const google = isObject(extra) ? extra.google : undefined;
  const sig = isObject(google) ? google.thought_signature : undefined;
  return typeof sig === 'string' && sig !== '' ? sig : undefined;
}

// ---- content parts ----

/** Image MIME types by file extension, for image URLs Gemini fetches itself (fileData needs a type). */
const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif',
  heic: 'image/heic', heif: 'image/heif', bmp: 'image/bmp', pdf: 'application/pdf',
};

/**
 * An image URL without a known extension is declared image/jpeg: the `image_url` part says it is an image,
 * and Gemini needs a concrete type (Kong's "image/generic" is not one).
 */
export const DEFAULT_IMAGE_MIME = 'image/jpeg';

function guessMime(uri: string): string {
  let path = uri;
  try { path = new URL(uri).pathname; } catch { /* gs:// or a bare path: use it as is */ }
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase();
  return (ext !== undefined ? MIME_BY_EXTENSION[ext] : undefined) ?? DEFAULT_IMAGE_MIME;
}

/** `data:<mime>[;base64],<data>` into inlineData (a non-base64 data URI is percent-decoded and encoded). */
function dataUriPart(uri: string, where: string): GeminiPart {
  const comma = uri.indexOf(',');
  if (comma < 0) throw new TranslationError(`${where}: malformed data URI`);
  const meta = uri.slice(5, comma).split(';');
  const mimeType = meta[0] || 'application/octet-stream';
  const payload = uri.slice(comma + 1);
  let data: string;
  if (meta.slice(1).some((m) => m.toLowerCase() === 'base64')) data = payload;
  else {
    try { data = Buffer.from(decodeURIComponent(payload), 'utf8').toString('base64'); } catch {
      throw new TranslationError(`${where}: malformed data URI`);
    }
  }
  return { inlineData: { mimeType, data } };
}

function urlPart(url: string, where: string): GeminiPart {
  if (url.startsWith('data:')) return dataUriPart(url, where);
  if (/^(https?|gs):\/\//i.test(url)) return { fileData: { mimeType: guessMime(url), fileUri: url } };
  throw new TranslationError(`${where}: image URL must be a data URI or an http(s) or gs:// URL`);
}

const AUDIO_MIME: Record<string, string> = { wav: 'audio/wav', mp3: 'audio/mp3', flac: 'audio/flac', aac: 'audio/aac', ogg: 'audio/ogg', pcm16: 'audio/pcm' };

function contentPart(part: ContentPart, where: string): GeminiPart {
  const p = part as Json;
  switch (p.type) {
    case 'text':
      if (typeof p.text !== 'string') throw new TranslationError(`${where}: message part type is 'text' but is missing .text block`);
      return { text: p.text };
    case 'image_url': {
      const iu = p.image_url;
      const url = typeof iu === 'string' ? iu : isObject(iu) ? iu.url : undefined;
      if (typeof url !== 'string') throw new TranslationError(`${where}: message part type is 'image_url' but is missing .image_url.url block`);
      return urlPart(url, where);
    }
    case 'input_audio': {
      const a = isObject(p.input_audio) ? p.input_audio : {};
      const mime = typeof a.format === 'string' ? AUDIO_MIME[a.format] : undefined;
      if (typeof a.data !== 'string' || mime === undefined) {
        throw new TranslationError(`${where}: 'input_audio' needs base64 .data and a .format of ${Object.keys(AUDIO_MIME).join(', ')}`);
      }
      return { inlineData: { mimeType: mime, data: a.data } };
    }
    case 'file': {
      const f = isObject(p.file) ? p.file : {};
      if (typeof f.file_data === 'string' && f.file_data.startsWith('data:')) return dataUriPart(f.file_data, where);
      throw new TranslationError(`${where}: a 'file' part must carry .file.file_data as a data URI (OpenAI file ids mean nothing to Gemini)`);
    }
    default:
      throw new TranslationError(`cannot transform part of type '${String(p.type)}' to Gemini format`);
  }
}

function partsOf(content: ChatMessage['content'], where: string): GeminiPart[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (!Array.isArray(content)) throw new TranslationError(`${where}: content must be a string or an array of parts`);
  return content.map((p, j) => contentPart(p, `${where}, part ${j}`)).filter((p) => p.text !== '');
}

/** The text of a system or tool message (text parts only). */
function textOf(content: ChatMessage['content'], where: string): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return partsOf(content, where).map((p) => {
    if (p.text === undefined) throw new TranslationError(`${where}: only text parts are allowed here`);
    return p.text;
  }).join('');
}

// ---- tool calls and results ----

function parseArguments(call: ToolCall, where: string): Json {
  const raw = call.function?.arguments;
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) return {};
  if (isObject(raw)) return raw;
  let v: unknown;
  try { v = JSON.parse(String(raw)); } catch {
    throw new TranslationError(`${where}: tool call '${call.function?.name}' arguments are not valid JSON`);
  }
  if (!isObject(v)) throw new TranslationError(`${where}: tool call '${call.function?.name}' arguments must be a JSON object`);
  return v;
}

/**
 * A tool result as functionResponse.response (a JSON object): a JSON object result is sent as is,
 * anything else (plain text, an array, a number) as `{"output": ...}`, the key Gemini documents for a
 * function's output.
 */
function functionResponse(content: ChatMessage['content'], where: string): Json {
  const text = textOf(content, where);
  try {
    const v = JSON.parse(text) as unknown;
    if (isObject(v)) return v;
    return { output: v };
  } catch {
    return { output: text };
  }
}

// ---- chat ----

export interface GeminiChatBody {
  contents: GeminiContent[];
  systemInstruction?: { parts: Array<{ text: string }> };
  tools?: Array<{ functionDeclarations: Json[] }>;
  toolConfig?: { functionCallingConfig: Json };
  generationConfig?: Json;
}

function toolChoice(choice: ToolChoice | undefined): { functionCallingConfig: Json } | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (isObject(choice) && isObject(choice.function) && typeof choice.function.name === 'string') {
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
  }
  throw new TranslationError("tool_choice must be 'none', 'auto', 'required' or {\"type\": \"function\", \"function\": {\"name\": ...}}");
}

function tools(req: ChatRequest): GeminiChatBody['tools'] {
  if (!Array.isArray(req.tools) || req.tools.length === 0) return undefined;
  const decls = req.tools.map((t, i) => {
    if (t.type !== 'function' || !isObject(t.function) || typeof t.function.name !== 'string') {
      throw new TranslationError(`tools[${i}]: only function tools can be sent to Gemini`);
    }
    const d: Json = { name: t.function.name };
    if (typeof t.function.description === 'string') d.description = t.function.description;
    const params = toGeminiParameters(t.function.parameters);
    if (params !== undefined) d.parameters = params;
    return d;
  });
  return [{ functionDeclarations: decls }];
}

/**
 * The generation settings every generateContent route shares. `configMaxTokens` (model.options.max_tokens)
 * wins over the client's max_completion_tokens and max_tokens (kong/llm/drivers/shared.lua merge_config_defaults).
 */
export function generationConfig(req: SamplingFields & { response_format?: ChatRequest['response_format'] },
  configMaxTokens: number | null): Json | undefined {
  const g: Json = {};
  const max = configMaxTokens ?? req.max_completion_tokens ?? req.max_tokens;
  if (typeof max === 'number') g.maxOutputTokens = max;
  if (typeof req.temperature === 'number') g.temperature = req.temperature;
  if (typeof req.top_p === 'number') g.topP = req.top_p;
  if (typeof req.top_k === 'number') g.topK = req.top_k;
  if (typeof req.stop === 'string') g.stopSequences = [req.stop];
  else if (Array.isArray(req.stop) && req.stop.length > 0) g.stopSequences = req.stop;
  if (typeof req.seed === 'number') g.seed = req.seed;
  if (typeof req.n === 'number' && req.n !== 1) g.candidateCount = req.n;
  if (typeof req.presence_penalty === 'number') g.presencePenalty = req.presence_penalty;
  if (typeof req.frequency_penalty === 'number') g.frequencyPenalty = req.frequency_penalty;
  const rf = req.response_format;
  if (isObject(rf)) {
    if (rf.type === 'json_object') g.responseMimeType = 'application/json';
    else if (rf.type === 'json_schema') {
      g.responseMimeType = 'application/json';
      const schema = isObject(rf.json_schema) ? rf.json_schema.schema : undefined;
      if (isObject(schema)) g.responseSchema = toGeminiSchema(schema);
    } else if (rf.type !== 'text') {
      throw new TranslationError(`response_format type '${String(rf.type)}' is not supported`);
    }
  }
  return Object.keys(g).length > 0 ? g : undefined;
}

export function chatBody(req: ChatRequest, model: string, configMaxTokens: number | null): GeminiChatBody {
  if (!Array.isArray(req.messages)) throw new TranslationError('messages must be an array');
  const system: Array<{ text: string }> = [];
  const contents: GeminiContent[] = [];
  const toolNames = new Map<string, string>();
  const placeholderSignature = requiresThoughtSignatures(model);

  req.messages.forEach((m, i) => {
    const where = `messages[${i}]`;
    switch (m.role) {
      case 'system':
      case 'developer': {
        const text = textOf(m.content, where);
        if (text !== '') system.push({ text });
        return;
      }
      case 'user': {
        const parts = partsOf(m.content, where);
        if (parts.length > 0) contents.push({ role: 'user', parts });
        return;
      }
      case 'assistant': {
        const parts = partsOf(m.content, where);
        if (Array.isArray(m.tool_calls)) {
          m.tool_calls.forEach((call, k) => {
            const name = call.function?.name;
            if (typeof name !== 'string' || name === '') throw new TranslationError(`${where}: tool_calls[${k}] has no function name`);
            if (typeof call.id === 'string') toolNames.set(call.id, name);
            const part: GeminiPart = { functionCall: { name, args: parseArguments(call, where) } };
            const sig = thoughtSignatureOf(call);
            // Only the first call of a parallel set carries a signature in Gemini's own responses.
            if (sig !== undefined) part.thoughtSignature = sig;
            else if (placeholderSignature && k === 0) part.thoughtSignature = SKIP_THOUGHT_SIGNATURE;
            parts.push(part);
          });
        }
        if (parts.length > 0) contents.push({ role: 'model', parts });
        return;
      }
      case 'tool': {
        // The function's real name, from the assistant turn that called it (Kong sends a fixed name).
        const id = m.tool_call_id;
        const name = (typeof id === 'string' ? toolNames.get(id) : undefined) ?? (typeof m.name === 'string' ? m.name : undefined);
        if (name === undefined) {
          throw new TranslationError(`${where}: tool message refers to tool_call_id '${String(id)}', which no earlier assistant message called`);
        }
        const part: GeminiPart = { functionResponse: { name, response: functionResponse(m.content, where) } };
        // Results of parallel calls go back in one turn, as Gemini expects.
        const last = contents.at(-1);
        if (last !== undefined && last.role === 'user' && last.parts.every((p) => p.functionResponse !== undefined)) last.parts.push(part);
        else contents.push({ role: 'user', parts: [part] });
        return;
      }
      default:
        throw new TranslationError(`${where}: unknown role '${String((m as { role?: unknown }).role)}'`);
    }
  });

  if (contents.length === 0) throw new TranslationError('request has no user or assistant content to send to Gemini');
  const body: GeminiChatBody = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system };
  const t = tools(req);
  if (t !== undefined) body.tools = t;
  const tc = toolChoice(req.tool_choice);
  if (tc !== undefined) body.toolConfig = tc;
  const g = generationConfig(req, configMaxTokens);
  if (g !== undefined) body.generationConfig = g;
  return body;
}

export function completionBody(req: CompletionRequest, configMaxTokens: number | null): GeminiChatBody {
  if (typeof req.prompt !== 'string') throw new TranslationError('prompt must be a string');
  const body: GeminiChatBody = { contents: [{ role: 'user', parts: [{ text: req.prompt }] }] };
  const g = generationConfig(req, configMaxTokens);
  if (g !== undefined) body.generationConfig = g;
  return body;
}

// ---- embeddings ----

export function embeddingInputs(req: EmbeddingsRequest): string[] {
  const input = req.input;
  const list = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string')) {
    throw new TranslationError('input must be a string or an array of strings (token arrays cannot be sent to Gemini)');
  }
  return list;
}

/** AI Studio `:batchEmbedContents`: one request per input, each naming the model. */
export function batchEmbedBody(req: EmbeddingsRequest, model: string): Json {
  const dims = typeof req.dimensions === 'number' ? { outputDimensionality: req.dimensions } : {};
  return {
    requests: embeddingInputs(req).map((text) => ({ model: `models/${model}`, content: { parts: [{ text }] }, ...dims })),
  };
}

/** Vertex AI `:predict` for text embedding models. */
export function vertexPredictBody(req: EmbeddingsRequest): Json {
  const body: Json = { instances: embeddingInputs(req).map((content) => ({ content })) };
  if (typeof req.dimensions === 'number') body.parameters = { outputDimensionality: req.dimensions };
  return body;
}
