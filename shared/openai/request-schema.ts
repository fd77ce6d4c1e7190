// JSON Schemas of the requests clients send (OpenAI's chat completions, legacy completions and
// embeddings; the Responses API's is in shared/responses/request-schema.ts), as strict as OpenAI is on the fields the gateway or a translation reads, and open to
// every other field (they pass through to the provider). The relay checks every request against its
// route type's schema before any translation, so that no translator sees a wrongly typed field.
// Ranges are OpenAI's (https://platform.openai.com/docs/api-reference/chat/create).
import { RESPONSES_REQUEST_SCHEMA } from '../responses/request-schema';
import type { ClientRouteType } from './types';

type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const bool: Schema = { type: 'boolean' };
const obj: Schema = { type: 'object' };
const nullable = (type: string): Schema => ({ type: [type, 'null'] });

export const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;

/** A content part: `text` needs its text, `image_url` its URL; other part types pass on as objects. */
const contentPart: Schema = {
  type: 'object',
  required: ['type'],
  properties: { type: str },
  allOf: [
    { if: { required: ['type'], properties: { type: { const: 'text' } } }, then: { required: ['text'], properties: { text: str } } },
    {
      if: { required: ['type'], properties: { type: { const: 'image_url' } } },
      then: {
        required: ['image_url'],
        properties: { image_url: { type: ['string', 'object'], required: ['url'], properties: { url: str, detail: str } } },
      },
    },
  ],
};

const content: Schema = { type: ['string', 'array', 'null'], items: contentPart };

const toolCall: Schema = {
  type: 'object',
  required: ['id', 'type', 'function'],
  properties: {
    id: str,
    type: str,
    function: { type: 'object', required: ['name', 'arguments'], properties: { name: str, arguments: str } },
  },
};

const message: Schema = {
  type: 'object',
  required: ['role'],
  properties: {
    role: { type: 'string', enum: [...ROLES] },
    content,
    name: str,
    tool_calls: { type: 'array', items: toolCall },
    tool_call_id: str,
    function_call: nullable('object'),
    refusal: nullable('string'),
  },
  allOf: [
    // Only an assistant's message may go without content (it calls tools instead).
    { if: { required: ['role'], properties: { role: { enum: ['system', 'developer', 'user', 'tool'] } } }, then: { required: ['content'], properties: { content: { type: ['string', 'array'] } } } },
    { if: { required: ['role'], properties: { role: { const: 'tool' } } }, then: { required: ['tool_call_id'], properties: { tool_call_id: str } } },
  ],
};

const tool: Schema = {
  type: 'object',
  required: ['type'],
  properties: { type: str },
  if: { required: ['type'], properties: { type: { const: 'function' } } },
  then: {
    required: ['function'],
    properties: {
      function: {
        type: 'object',
        required: ['name'],
        properties: { name: str, description: str, parameters: obj, strict: nullable('boolean') },
      },
    },
  },
};

const toolChoice: Schema = {
  type: ['string', 'object'],
  if: { type: 'string' },
  then: { enum: ['none', 'auto', 'required'] },
  else: { required: ['type'], properties: { type: str, function: { type: 'object', required: ['name'], properties: { name: str } } } },
};

const int = (minimum?: number, maximum?: number): Schema => ({
  type: ['integer', 'null'], ...(minimum !== undefined ? { minimum } : {}), ...(maximum !== undefined ? { maximum } : {}),
});
const num = (minimum: number, maximum: number): Schema => ({ type: ['number', 'null'], minimum, maximum });

/** Sampling fields of chat and completions requests. */
const sampling: Record<string, Schema> = {
  // Kong ignores a null model (it reads the configured one).
  model: nullable('string'),
  max_tokens: int(1),
  max_completion_tokens: int(1),
  temperature: num(0, 2),
  top_p: num(0, 1),
  top_k: int(0),
  n: int(1, 128),
  presence_penalty: num(-2, 2),
  frequency_penalty: num(-2, 2),
  seed: int(),
  stop: { type: ['string', 'array', 'null'], items: str, maxItems: 4 },
  stream: nullable('boolean'),
  stream_options: { type: ['object', 'null'], properties: { include_usage: bool } },
  logit_bias: nullable('object'),
  logprobs: nullable('boolean'),
  top_logprobs: int(0, 20),
  user: nullable('string'),
};

const chat: Schema = {
  type: 'object',
  required: ['messages'],
  properties: {
    ...sampling,
    messages: { type: 'array', minItems: 1, items: message },
    tools: { type: 'array', items: tool },
    tool_choice: toolChoice,
    parallel_tool_calls: bool,
    response_format: { type: 'object', required: ['type'], properties: { type: str, json_schema: obj } },
  },
};

const completions: Schema = {
  type: 'object',
  required: ['prompt'],
  properties: { ...sampling, prompt: str, suffix: nullable('string'), echo: nullable('boolean'), best_of: int(1, 20) },
};

const embeddings: Schema = {
  type: 'object',
  required: ['input'],
  properties: {
    model: nullable('string'),
    input: {
      type: ['string', 'array'],
      minItems: 1,
      items: { type: ['string', 'integer', 'array'], items: { type: 'integer' } },
    },
    dimensions: int(1),
    encoding_format: { type: 'string', enum: ['float', 'base64'] },
    user: str,
  },
};

/** The schema a route type's requests must meet; `preserve` passes any JSON object on. */
export const REQUEST_SCHEMAS: Readonly<Partial<Record<ClientRouteType, Schema>>> = {
  'llm/v1/chat': chat,
  'llm/v1/completions': completions,
  'llm/v1/embeddings': embeddings,
  'llm/v1/responses': RESPONSES_REQUEST_SCHEMA,
};
