// A Responses API request as the chat completions request every provider translation already speaks:
// the conversation items become messages, function tools and their calls and results keep their ids,
// the output settings move to their chat names. What needs state OpenAI keeps and the gateway does not
// (previous_response_id, conversation, item references, stored prompts, background runs), and what only
// OpenAI's own tools do, is refused with a client error naming the field: sent on, it would be
// silently dropped and the model would answer another question.
import type { ChatMessage, ChatRequest, ContentPart, ResponseFormat, ToolCall, ToolChoice, ToolDefinition } from '../openai/types';
import type { FunctionCallItem, InputContent, InputItem, MessageItem, ResponsesRequest, TextFormat } from './types';

export type ToChat =
  | { ok: true; chat: ChatRequest }
  | { ok: false; message: string; param: string; code: string };

/** A request this translation cannot carry: refused as the client's to fix. */
class Unsupported extends Error {
  constructor(message: string, readonly param: string, readonly code = 'unsupported_parameter') {
    super(message);
  }
}

const STATEFUL: ReadonlyArray<[field: string, what: string]> = [
  ['previous_response_id', 'earlier responses'],
  ['conversation', 'conversations'],
  ['prompt', 'stored prompts'],
];

function isSet(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '' && v !== false;
}

function refuseStateful(req: ResponsesRequest): void {
  for (const [field, what] of STATEFUL) {
    if (isSet(req[field])) {
      throw new Unsupported(`'${field}' is not supported: this gateway keeps no ${what}; send the whole conversation in 'input'.`, field);
    }
  }
  if (req.background === true) throw new Unsupported("'background' is not supported: responses run while the request is open.", 'background');
}

function contentPart(c: InputContent, param: string): ContentPart {
  switch (c.type) {
    case 'input_text':
    case 'output_text':
      return { type: 'text', text: c.text };
    case 'refusal':
      return { type: 'text', text: c.refusal };
    case 'input_image':
      if (typeof c.image_url === 'string' && c.image_url !== '') {
        return { type: 'image_url', image_url: { url: c.image_url, ...(c.detail ? { detail: c.detail } : {}) } };
      }
      throw new Unsupported("An image by 'file_id' needs OpenAI's file store; send it as 'image_url' (a URL or a data: URL).", `${param}.file_id`);
    case 'input_file':
      throw new Unsupported("'input_file' content is available only from OpenAI and Azure; this route's provider gets text and images.", param, 'unsupported_value');
    default:
      throw new Unsupported(`Content type '${(c as { type: string }).type}' is not supported.`, `${param}.type`, 'unsupported_value');
  }
}

/** Text-only content as one string (assistant turns, tool results), the parts joined. */
function textOf(parts: ContentPart[], param: string): string {
  return parts.map((p) => {
    if (p.type === 'text') return (p as { text: string }).text;
    throw new Unsupported('Only text can be sent here (an image in an assistant turn or a tool result cannot be translated).', param, 'unsupported_value');
  }).join('');
}

function messageOf(item: MessageItem, param: string): ChatMessage {
  if (typeof item.content === 'string') return { role: item.role, content: item.content };
  const parts = item.content.map((c, j) => contentPart(c, `${param}.content[${j}]`));
  if (item.role === 'assistant') return { role: 'assistant', content: textOf(parts, `${param}.content`) };
  return { role: item.role, content: parts };
}

function toolCallOf(item: FunctionCallItem): ToolCall {
  return { id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } };
}

/** The items as chat messages: a run of function calls joins the assistant turn before it. */
function messagesOf(input: string | InputItem[] | undefined): ChatMessage[] {
  if (input === undefined) throw new Unsupported("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  const out: ChatMessage[] = [];
  input.forEach((item, i) => {
    const param = `input[${i}]`;
    const type = item.type ?? 'message';
    switch (type) {
      case 'message':
        out.push(messageOf(item as MessageItem, param));
        return;
      case 'function_call': {
        const last = out[out.length - 1];
        const call = toolCallOf(item as FunctionCallItem);
        if (last?.role === 'assistant') last.tool_calls = [...(last.tool_calls ?? []), call];
        else out.push({ role: 'assistant', content: null, tool_calls: [call] });
        return;
      }
      case 'function_call_output': {
        const o = item as Extract<InputItem, { type: 'function_call_output' }>;
        const content = typeof o.output === 'string' ? o.output : textOf(o.output.map((c, j) => contentPart(c, `${param}.output[${j}]`)), `${param}.output`);
        out.push({ role: 'tool', tool_call_id: o.call_id, content });
        return;
      }
      case 'reasoning':
        return; // a model's own reasoning, opaque to any other model
      case 'item_reference':
        throw new Unsupported("'item_reference' is not supported: this gateway keeps no earlier items; send the item itself.", param);
      default:
        throw new Unsupported(`Input item type '${type}' is available only from OpenAI and Azure.`, `${param}.type`, 'unsupported_value');
    }
  });
  return out;
}

function toolsOf(tools: ResponsesRequest['tools']): ToolDefinition[] | undefined {
  if (tools === undefined || tools.length === 0) return undefined;
  return tools.map((t, i) => {
    if (t.type !== 'function') {
      throw new Unsupported(`Tool type '${t.type}' is available only from OpenAI and Azure; this route's provider gets function tools.`, `tools[${i}].type`, 'unsupported_value');
    }
    const f = t as Extract<NonNullable<ResponsesRequest['tools']>[number], { name: string }>;
    return {
      type: 'function',
      function: {
        name: f.name,
        ...(f.description ? { description: f.description } : {}),
        ...(f.parameters ? { parameters: f.parameters } : {}),
        ...(typeof f.strict === 'boolean' ? { strict: f.strict } : {}),
      },
    };
  });
}

function toolChoiceOf(choice: ResponsesRequest['tool_choice']): ToolChoice | undefined {
  if (choice === undefined) return undefined;
  if (typeof choice === 'string') return choice;
  if (choice.type === 'function' && typeof choice.name === 'string') return { type: 'function', function: { name: choice.name } };
  throw new Unsupported(`tool_choice type '${choice.type}' is available only from OpenAI and Azure.`, 'tool_choice.type', 'unsupported_value');
}

function responseFormatOf(format: TextFormat | undefined): ResponseFormat | undefined {
  if (format === undefined || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  return {
    type: 'json_schema',
    json_schema: {
      name: format.name, schema: format.schema,
      ...(typeof format.strict === 'boolean' ? { strict: format.strict } : {}),
      ...(format.description ? { description: format.description } : {}),
    },
  };
}

/** The chat request for a Responses request, or why it cannot be one. Pure. */
export function responsesToChat(req: ResponsesRequest): ToChat {
  try {
    refuseStateful(req);
    const messages = messagesOf(req.input);
    if (typeof req.instructions === 'string' && req.instructions !== '') messages.unshift({ role: 'system', content: req.instructions });
    const chat: ChatRequest = { messages };
    if (req.model !== undefined) chat.model = req.model;
    const tools = toolsOf(req.tools);
    if (tools) chat.tools = tools;
    const choice = toolChoiceOf(req.tool_choice);
    if (choice !== undefined) chat.tool_choice = choice;
    if (typeof req.parallel_tool_calls === 'boolean' && tools) chat.parallel_tool_calls = req.parallel_tool_calls;
    if (typeof req.max_output_tokens === 'number') chat.max_tokens = req.max_output_tokens;
    if (typeof req.temperature === 'number') chat.temperature = req.temperature;
    if (typeof req.top_p === 'number') chat.top_p = req.top_p;
    const format = responseFormatOf(req.text?.format);
    if (format) chat.response_format = format;
    if (typeof req.reasoning?.effort === 'string') chat.reasoning_effort = req.reasoning.effort;
    if (typeof req.user === 'string') chat.user = req.user;
    if (req.stream === true) {
      chat.stream = true;
      // response.completed carries usage: asked for always.
      chat.stream_options = { include_usage: true };
    }
    return { ok: true, chat };
  } catch (e) {
    if (e instanceof Unsupported) return { ok: false, message: e.message, param: e.param, code: e.code };
    throw e;
  }
}
