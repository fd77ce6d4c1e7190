// The JSON Schema of a Responses API request (POST /v1/responses), as strict as OpenAI is on the fields
// the translation to chat reads (to-chat.ts), open to every other field. Checked by the relay with the
// chat schemas (shared/openai/validate-request.ts), so the translation sees only well-typed input.
// Types and ranges are OpenAI's (https://platform.openai.com/docs/api-reference/responses/create).
type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const nullable = (type: string | string[]): Schema => ({ type: [...(Array.isArray(type) ? type : [type]), 'null'] });
const when = (type: string, then: Schema): Schema => ({ if: { required: ['type'], properties: { type: { const: type } } }, then });

const contentPart: Schema = {
  type: 'object',
  required: ['type'],
  properties: { type: str },
  allOf: [
    when('input_text', { required: ['text'], properties: { text: str } }),
    when('output_text', { required: ['text'], properties: { text: str } }),
    when('refusal', { required: ['refusal'], properties: { refusal: str } }),
    when('input_image', { properties: { image_url: nullable('string'), file_id: nullable('string'), detail: { enum: ['low', 'high', 'auto'] } } }),
  ],
};

const messageItem: Schema = {
  required: ['role', 'content'],
  properties: {
    role: { enum: ['user', 'assistant', 'system', 'developer'] },
    content: { type: ['string', 'array'], items: contentPart },
  },
};

const inputItem: Schema = {
  type: 'object',
  properties: { type: str },
  allOf: [
    // A message may leave out its type (OpenAI's "easy input message").
    { if: { not: { required: ['type'], properties: { type: str } } }, then: messageItem },
    when('message', messageItem),
    when('function_call', { required: ['call_id', 'name', 'arguments'], properties: { call_id: str, name: str, arguments: str } }),
    when('function_call_output', {
      required: ['call_id', 'output'],
      properties: { call_id: str, output: { type: ['string', 'array'], items: contentPart } },
    }),
    when('item_reference', { required: ['id'], properties: { id: str } }),
  ],
};

const tool: Schema = {
  type: 'object',
  required: ['type'],
  properties: { type: str },
  allOf: [when('function', {
    required: ['name'],
    properties: { name: str, description: nullable('string'), parameters: nullable('object'), strict: nullable('boolean') },
  })],
};

const textFormat: Schema = {
  type: 'object',
  required: ['type'],
  properties: { type: { enum: ['text', 'json_object', 'json_schema'] } },
  allOf: [when('json_schema', {
    required: ['name', 'schema'],
    properties: { name: str, schema: { type: 'object' }, description: str, strict: nullable('boolean') },
  })],
};

export const RESPONSES_REQUEST_SCHEMA: Schema = {
  type: 'object',
  properties: {
    model: str,
    input: { type: ['string', 'array'], items: inputItem },
    instructions: nullable('string'),
    tools: { type: 'array', items: tool },
    tool_choice: { anyOf: [{ enum: ['none', 'auto', 'required'] }, { type: 'object', required: ['type'], properties: { type: str } }] },
    parallel_tool_calls: nullable('boolean'),
    max_output_tokens: { type: ['integer', 'null'], minimum: 1 },
    temperature: { type: ['number', 'null'], minimum: 0, maximum: 2 },
    top_p: { type: ['number', 'null'], minimum: 0, maximum: 1 },
    text: { type: ['object', 'null'], properties: { format: textFormat } },
    reasoning: { type: ['object', 'null'], properties: { effort: nullable('string'), summary: nullable('string') } },
    stream: nullable('boolean'),
    store: nullable('boolean'),
    background: nullable('boolean'),
    previous_response_id: nullable('string'),
    metadata: { type: ['object', 'null'], additionalProperties: str },
    user: str,
  },
};
