// A chat completion as the Responses API's response object: the answer's text as one message item, each
// tool call as a function_call item (its call_id the chat tool call's id, so the client's
// function_call_output finds it again), usage in the Responses names, and the request's settings echoed
// as OpenAI echoes them. The gateway stores nothing: `store` is false and no id can be fetched later.
import type { ChatCompletion, FinishReason, Usage } from '../openai/types';
import type { OutputItem, ResponseObject, ResponsesRequest, ResponsesUsage, ResponseStatus } from './types';

/** The ids of one response and its items, from one base (the relay's request id). */
export interface ResponseIds {
  base: string;
  createdAt: number;
}

export const responseId = (ids: ResponseIds) => `resp_${ids.base}`;
export const messageId = (ids: ResponseIds) => `msg_${ids.base}`;
export const functionCallId = (ids: ResponseIds, n: number) => `fc_${ids.base}_${n}`;

export function responsesUsage(u: Usage): ResponsesUsage {
  return {
    input_tokens: u.prompt_tokens,
    input_tokens_details: { cached_tokens: u.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: u.completion_tokens,
    output_tokens_details: { reasoning_tokens: u.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: u.total_tokens,
  };
}

/** A finish reason as the response's status and why it is incomplete. */
export function statusOf(finish: FinishReason | null): { status: ResponseStatus; incomplete_details: ResponseObject['incomplete_details'] } {
  if (finish === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finish === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

/** The response object around `output`, the request's settings echoed; status in_progress until told. */
export function responseShell(req: ResponsesRequest, ids: ResponseIds, model: string): ResponseObject {
  return {
    id: responseId(ids),
    object: 'response',
    created_at: ids.createdAt,
    status: 'in_progress',
    model,
    output: [],
    usage: null,
    error: null,
    incomplete_details: null,
    instructions: typeof req.instructions === 'string' ? req.instructions : null,
    max_output_tokens: typeof req.max_output_tokens === 'number' ? req.max_output_tokens : null,
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: req.reasoning?.effort ?? null, summary: req.reasoning?.summary ?? null },
    store: false,
    temperature: typeof req.temperature === 'number' ? req.temperature : null,
    text: { format: req.text?.format ?? { type: 'text' } },
    tool_choice: req.tool_choice ?? 'auto',
    tools: req.tools ?? [],
    top_p: typeof req.top_p === 'number' ? req.top_p : null,
    truncation: 'disabled',
    metadata: req.metadata ?? {},
    ...(typeof req.user === 'string' ? { user: req.user } : {}),
  };
}

/** The Responses answer for a chat completion. Pure. */
export function chatToResponse(chat: ChatCompletion, req: ResponsesRequest, ids: ResponseIds): ResponseObject {
  const choice = chat.choices[0];
  const output: OutputItem[] = [];
  const text = choice?.message.content;
  const refusal = choice?.message.refusal;
  if ((typeof text === 'string' && text !== '') || (typeof refusal === 'string' && refusal !== '')) {
    output.push({
      type: 'message', id: messageId(ids), status: 'completed', role: 'assistant',
      content: [
        ...(typeof text === 'string' && text !== '' ? [{ type: 'output_text' as const, text, annotations: [] }] : []),
        ...(typeof refusal === 'string' && refusal !== '' ? [{ type: 'refusal' as const, refusal }] : []),
      ],
    });
  }
  (choice?.message.tool_calls ?? []).forEach((call, n) => {
    output.push({
      type: 'function_call', id: functionCallId(ids, n), call_id: call.id, name: call.function.name,
      arguments: call.function.arguments, status: 'completed',
    });
  });
  return {
    ...responseShell(req, ids, chat.model),
    ...statusOf(choice?.finish_reason ?? null),
    output,
    usage: chat.usage ? responsesUsage(chat.usage) : null,
  };
}
