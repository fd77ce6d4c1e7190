// OpenAI's Responses API (POST /v1/responses) as clients speak it: the request, its input items, the
// response object and the typed stream events. Only what the gateway reads or writes is typed; other
// fields pass through as unknown. Field names as in OpenAI's API reference
// (https://platform.openai.com/docs/api-reference/responses).

export interface InputText { type: 'input_text'; text: string }
export interface InputImage { type: 'input_image'; image_url?: string | null; file_id?: string | null; detail?: 'low' | 'high' | 'auto' }
export interface InputFile { type: 'input_file'; file_id?: string | null; file_url?: string; file_data?: string; filename?: string }
export interface OutputText { type: 'output_text'; text: string; annotations: unknown[] }
export interface OutputRefusal { type: 'refusal'; refusal: string }
export type InputContent = InputText | InputImage | InputFile | OutputText | OutputRefusal;

/** A message item; `type` may be left out (OpenAI's "easy input message"). */
export interface MessageItem {
  type?: 'message';
  role: 'user' | 'assistant' | 'system' | 'developer';
  content: string | InputContent[];
  id?: string;
  status?: string;
}

export interface FunctionCallItem {
  type: 'function_call';
  call_id: string;
  name: string;
  arguments: string;
  id?: string;
  status?: 'in_progress' | 'completed' | 'incomplete';
}

export interface FunctionCallOutputItem {
  type: 'function_call_output';
  call_id: string;
  output: string | Array<InputText | InputImage | InputFile>;
  id?: string;
}

/** Reasoning a model returned earlier: opaque to other providers, dropped on translation. */
export interface ReasoningItem { type: 'reasoning'; id?: string; summary?: unknown[]; encrypted_content?: string | null }

/** An earlier item by id: needs the state OpenAI keeps and the gateway does not. */
export interface ItemReference { type: 'item_reference'; id: string }

export type InputItem = MessageItem | FunctionCallItem | FunctionCallOutputItem | ReasoningItem | ItemReference;

export interface FunctionTool {
  type: 'function';
  name: string;
  description?: string | null;
  parameters?: Record<string, unknown> | null;
  strict?: boolean | null;
}

export type ResponsesToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; name: string } | { type: string; [k: string]: unknown };

export type TextFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; description?: string; strict?: boolean | null };

export interface ResponsesRequest {
  model?: string;
  input?: string | InputItem[];
  instructions?: string | null;
  tools?: Array<FunctionTool | { type: string; [k: string]: unknown }>;
  tool_choice?: ResponsesToolChoice;
  parallel_tool_calls?: boolean | null;
  max_output_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  text?: { format?: TextFormat; verbosity?: string | null } | null;
  reasoning?: { effort?: string | null; summary?: string | null } | null;
  stream?: boolean | null;
  store?: boolean | null;
  previous_response_id?: string | null;
  conversation?: unknown;
  background?: boolean | null;
  metadata?: Record<string, string> | null;
  user?: string;
  [k: string]: unknown;
}

export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface OutputMessage {
  type: 'message';
  id: string;
  status: 'in_progress' | 'completed' | 'incomplete';
  role: 'assistant';
  content: Array<OutputText | OutputRefusal>;
}

export interface OutputFunctionCall {
  type: 'function_call';
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: 'in_progress' | 'completed' | 'incomplete';
}

export type OutputItem = OutputMessage | OutputFunctionCall;

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  model: string;
  output: OutputItem[];
  usage: ResponsesUsage | null;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  parallel_tool_calls: boolean;
  previous_response_id: null;
  reasoning: { effort: string | null; summary: string | null };
  store: boolean;
  temperature: number | null;
  text: { format: TextFormat };
  tool_choice: ResponsesToolChoice;
  tools: unknown[];
  top_p: number | null;
  truncation: 'disabled';
  metadata: Record<string, string>;
  user?: string;
}

/** A stream event: its `type` names it; every event carries its place in the stream. */
export interface ResponsesEvent {
  type: string;
  sequence_number: number;
  [k: string]: unknown;
}
