// The OpenAI chunk every stream translator builds, from one factory: a chat delta, or for legacy
// completions the delta's text, with the stream's id, created and model.
import type { ChatCompletionChunk, FinishReason } from '../../openai/types';
import type { StreamChunk } from '../core/types';

export type ChunkDelta = ChatCompletionChunk['choices'][number]['delta'];

/** What every chunk of one stream repeats. */
export interface ChunkIdentity {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

export interface ChunkShape {
  /** A legacy completions stream: `text_completion` chunks whose text is the delta's content. */
  readonly completions: boolean;
  /** Chat choices carry `logprobs: null` as well (as Anthropic's and Cohere's chunks always have). */
  readonly logprobs?: boolean;
}

export function streamChunk(ident: ChunkIdentity, shape: ChunkShape, delta: ChunkDelta, finish: FinishReason | null = null,
  index = 0): StreamChunk {
  const { id, created, model } = ident;
  if (shape.completions) {
    return { id, object: 'text_completion', created, model,
      choices: [{ index, text: delta.content ?? '', finish_reason: finish, logprobs: null }] };
  }
  const choice = shape.logprobs ? { index, delta, finish_reason: finish, logprobs: null } : { index, delta, finish_reason: finish };
  return { id, object: 'chat.completion.chunk', created, model, choices: [choice] };
}
