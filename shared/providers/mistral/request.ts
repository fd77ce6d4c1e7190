// Mistral's request (La Plateforme, `openai` format): the chat or embeddings body rebuilt from the fields
// Mistral documents, as the header of index.ts explains.
import { createHash } from 'node:crypto';
import type { ChatMessage, ToolCall } from '../../openai/types';
import type { Json } from '../core/json';
import type { ChatRoute, EmbeddingsRoute, TargetContext } from '../core/types';

const CHAT_FIELDS = ['temperature', 'top_p', 'max_tokens', 'stop', 'random_seed', 'response_format', 'tools', 'tool_choice',
  'presence_penalty', 'frequency_penalty', 'n', 'prediction', 'parallel_tool_calls', 'prompt_mode', 'safe_prompt', 'metadata'] as const;

const EMBEDDING_FIELDS = ['output_dimension', 'output_dtype', 'encoding_format', 'metadata'] as const;

const MISTRAL_TOOL_CALL_ID = /^[a-zA-Z0-9]{9}$/;
const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A foreign tool call id as a Mistral one: 9 alphanumerics derived from it (the same id maps the same way). */
export function mistralToolCallId(id: string): string {
  if (MISTRAL_TOOL_CALL_ID.test(id)) return id;
  const digest = createHash('sha256').update(id).digest();
  let out = '';
  for (let i = 0; i < 9; i++) out += ALPHANUMERIC[digest[i]! % ALPHANUMERIC.length];
  return out;
}

function mistralMessage(m: ChatMessage): Json {
  const role = m.role === 'developer' ? 'system' : m.role;
  const out: Json = { role, content: m.content };
  if (m.role === 'assistant') {
    if (Array.isArray(m.tool_calls) && m.tool_calls.length > 0) {
      out.tool_calls = m.tool_calls.map((tc: ToolCall) => ({
        id: mistralToolCallId(tc.id), type: 'function', function: { name: tc.function.name, arguments: tc.function.arguments },
      }));
    }
    const prefix = (m as { prefix?: unknown }).prefix;
    if (typeof prefix === 'boolean') out.prefix = prefix;
  } else if (m.role === 'tool') {
    if (m.tool_call_id) out.tool_call_id = mistralToolCallId(m.tool_call_id);
    if (m.name) out.name = m.name;
  }
  return out;
}

/** The Mistral chat or embeddings body: only the fields Mistral accepts, OpenAI names translated. */
export function mistralBody(req: ChatRoute | EmbeddingsRoute, ctx: TargetContext): Json {
  const out: Json = { model: ctx.model };
  if (req.routeType === 'llm/v1/embeddings') {
    out.input = req.body.input;
    const copy: Json = { ...req.body };
    if (copy.output_dimension === undefined && copy.dimensions !== undefined) copy.output_dimension = copy.dimensions;
    for (const k of EMBEDDING_FIELDS) if (copy[k] !== undefined) out[k] = copy[k];
    return out;
  }
  out.messages = req.body.messages.map(mistralMessage);
  const copy: Json = { ...req.body };
  if (copy.random_seed === undefined && copy.seed !== undefined) copy.random_seed = copy.seed;
  if (copy.max_tokens === undefined && copy.max_completion_tokens !== undefined) copy.max_tokens = copy.max_completion_tokens;
  if (copy.tool_choice === 'required') copy.tool_choice = 'any';
  for (const k of CHAT_FIELDS) if (copy[k] !== undefined && copy[k] !== null) out[k] = copy[k];
  out.stream = ctx.stream;
  return out;
}
