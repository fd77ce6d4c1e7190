// Kong ai-proxy's request checks, in Kong's order and with its messages (kong-ai-plugins.md §2.2), for a
// body already parsed as a JSON object.
import type { RouteType } from './types';
export type { RouteType };
export type ResponseStreaming = 'allow' | 'deny' | 'always';

export type RequestCheck =
  | { ok: true; model: string | null; stream: boolean }
  | { ok: false; status: 400; message: string; param?: string };

function bad(message: string, param?: string): RequestCheck {
  return param === undefined ? { ok: false, status: 400, message } : { ok: false, status: 400, message, param };
}

/** The JSON type of a value, in the words OpenAI's errors use. */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return 'a boolean';
  return 'an object';
}

/** Every message an object with a string role (past Kong's checks, which look only at the array). */
function checkMessages(messages: readonly unknown[]): RequestCheck | undefined {
  for (const [i, m] of messages.entries()) {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      return bad(`Invalid type for 'messages[${i}]': expected an object, but got ${jsonType(m)} instead.`, `messages[${i}]`);
    }
    const role = (m as { role?: unknown }).role;
    if (typeof role !== 'string') {
      return role === undefined
        ? bad(`Missing required parameter: 'messages[${i}].role'.`, `messages[${i}].role`)
        : bad(`Invalid type for 'messages[${i}].role': expected a string, but got ${jsonType(role)} instead.`, `messages[${i}].role`);
    }
  }
  return undefined;
}

function requestFormat(body: Record<string, unknown>): RouteType | 'both' | undefined {
  const chat = Array.isArray(body.messages) && body.messages.length > 0;
  const completion = typeof body.prompt === 'string';
  if (chat && completion) return 'both';
  if (chat) return 'llm/v1/chat';
  if (completion) return 'llm/v1/completions';
  return undefined;
}

export function checkRequest(body: Record<string, unknown>, routeType: RouteType, configuredModel: string | null,
  streaming: ResponseStreaming): RequestCheck {
  const bodyModel = typeof body.model === 'string' && body.model !== '' ? body.model : null;
  if (routeType === 'llm/v1/embeddings') {
    const input = body.input;
    const valid = typeof input === 'string' ? input.length > 0
      : Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string' || typeof x === 'number' || Array.isArray(x));
    if (!valid) return bad("request body doesn't contain valid input");
  } else if (routeType !== 'preserve' && requestFormat(body) === undefined) {
    return bad("request body doesn't contain valid prompts");
  }
  if (bodyModel !== null && configuredModel !== null && bodyModel !== configuredModel) {
    return bad(`cannot use own model - must be: ${configuredModel}`);
  }
  const model = configuredModel ?? bodyModel;
  if (model === null && routeType !== 'preserve') {
    return bad('model parameter not found in request, nor in gateway configuration');
  }
  if (routeType === 'llm/v1/chat' || routeType === 'llm/v1/completions') {
    const format = requestFormat(body);
    if (format === 'both') return bad('request matches multiple LLM request formats');
    if (format !== routeType) return bad(`[${format}] message format is not compatible with [${routeType}] route type`);
    if (format === 'llm/v1/chat') {
      const m = checkMessages(body.messages as unknown[]);
      if (m) return m;
    }
  }
  const stream = body.stream === true;
  if (stream && streaming === 'deny') return bad('response streaming is not enabled for this LLM');
  return { ok: true, model, stream };
}
