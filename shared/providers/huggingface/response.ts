// Hugging Face's answers that are not OpenAI's: the text-generation task's (TGI's native answer) and
// the feature-extraction task's (one vector per input).
import type { ChatCompletion, EmbeddingsList, TextCompletion } from '../../openai/types';
import { UpstreamFormatError, type TargetContext } from '../core/types';
import { wholeAnswer } from '../openai-format/answer';
import { parseTgiGeneration } from '../tgi/response';

/** The text-generation task's answer as a legacy completion. */
export function parseTextGeneration(body: unknown, ctx: TargetContext): ChatCompletion | TextCompletion {
  const g = parseTgiGeneration(body, ctx);
  return wholeAnswer({ id: `cmpl-${ctx.requestId}`, created: ctx.now(), model: ctx.model }, { completions: true },
    { text: g.text, finish: g.finish, usage: g.usage });
}

/** Feature-extraction output (one vector per input, inputs always sent as a list) into an embeddings list. */
export function parseFeatureExtraction(body: unknown, ctx: TargetContext): EmbeddingsList {
  if (!Array.isArray(body)) throw new UpstreamFormatError(`failed to decode ${ctx.routeType} response from huggingface`);
  const rows = body.length > 0 && typeof body[0] === 'number' ? [body] : body;
  const data = rows.map((row, index) => {
    if (!Array.isArray(row) || !row.every((x) => typeof x === 'number')) {
      // A model without sentence pooling returns one vector per token.
      throw new UpstreamFormatError('huggingface feature-extraction returned token-level features, not one embedding per input; use a sentence-embedding model');
    }
    return { object: 'embedding' as const, index, embedding: row as number[] };
  });
  // The task reports no token counts: usage says 0, the field being required by OpenAI's shape (as for Gemini).
  return { object: 'list', data, model: ctx.model, usage: { prompt_tokens: 0, total_tokens: 0 } };
}
