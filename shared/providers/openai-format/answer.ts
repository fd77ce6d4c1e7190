// The whole OpenAI answer the translators that build one from parts produce (Anthropic, Cohere, Bedrock,
// Llama's raw format, Hugging Face's text generation), from one factory, as their stream chunks come from
// chunk.ts: a chat completion with the text and tool calls, or for legacy completions the text alone.
import type { ChatCompletion, FinishReason, TextCompletion, ToolCall, Usage } from '../../openai/types';
import type { ChunkIdentity, ChunkShape } from './chunk';

export interface AnswerParts {
  readonly text: string;
  readonly toolCalls?: readonly ToolCall[];
  /** The chat message's content when it is not `text` (null beside tool calls, as OpenAI sends it). */
  readonly content?: string | null;
  readonly finish: FinishReason | null;
  readonly usage?: Usage | undefined;
}

export function wholeAnswer(ident: ChunkIdentity, shape: ChunkShape, a: AnswerParts): ChatCompletion | TextCompletion {
  const { id, created, model } = ident;
  const usage = a.usage ? { usage: a.usage } : {};
  if (shape.completions) {
    return { id, object: 'text_completion', created, model, choices: [{ index: 0, text: a.text, finish_reason: a.finish, logprobs: null }], ...usage };
  }
  const toolCalls = a.toolCalls ?? [];
  const message: ChatCompletion['choices'][number]['message'] = {
    role: 'assistant',
    content: a.content !== undefined ? a.content : a.text,
    ...(toolCalls.length > 0 ? { tool_calls: [...toolCalls] } : {}),
  };
  const choice = shape.logprobs ? { index: 0, message, finish_reason: a.finish, logprobs: null } : { index: 0, message, finish_reason: a.finish };
  return { id, object: 'chat.completion', created, model, choices: [choice], ...usage };
}

/** OpenAI's content beside tool calls: null when the model said nothing else. */
export function contentBesideTools(text: string, toolCalls: readonly ToolCall[]): string | null {
  return text === '' && toolCalls.length > 0 ? null : text;
}
