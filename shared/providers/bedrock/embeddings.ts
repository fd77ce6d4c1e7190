// Embeddings through Bedrock's InvokeModel (`/model/{id}/invoke`): the Converse API has no embeddings, so
// the body is the model family's own. Amazon Titan text embeddings take one text per call; Cohere embed
// takes a list. Other embedding families (Nova multimodal, Marengo, ...) are refused with a clear message.
import type { EmbeddingsList, EmbeddingsRequest } from '../../openai/types';
import { TranslationError, UpstreamFormatError, type TargetContext } from '../core/types';
import { isObject } from '../core/json';

type Family = 'titan' | 'cohere';

/** The embedding family of a model id, foundation model, inference profile (`us.`...) or ARN, if known. */
function familyOf(model: string): Family | undefined {
  const id = model.toLowerCase();
  if (/(^|[./:])amazon\.titan-embed-/.test(id)) return 'titan';
  if (/(^|[./:])cohere\.embed-/.test(id)) return 'cohere';
  return undefined;
}

/** The embedding family of the model a request names; other families are refused. */
export function embeddingFamily(model: string): Family {
  const family = familyOf(model);
  if (family === undefined) {
    throw new TranslationError(
      `embeddings through Bedrock support Amazon Titan text (amazon.titan-embed-*) and Cohere (cohere.embed-*) models, not '${model}'`);
  }
  return family;
}

function texts(input: unknown): string[] {
  const list = typeof input === 'string' ? [input] : Array.isArray(input) ? input : [];
  if (list.length === 0 || !list.every((x): x is string => typeof x === 'string')) {
    throw new TranslationError('Bedrock embeddings take text input (a string or an array of strings), not token ids');
  }
  return list;
}

export function embeddingsBody(body: EmbeddingsRequest, ctx: TargetContext): Record<string, unknown> {
  const input = texts(body.input);
  if (embeddingFamily(ctx.model) === 'titan') {
    if (input.length !== 1) {
      throw new TranslationError('Amazon Titan embeddings take one input per request; send the texts one at a time');
    }
    // `dimensions` exists on Titan Text Embeddings V2 only; V1 refuses it (Bedrock's message then says so).
    return { inputText: input[0], ...(typeof body.dimensions === 'number' ? { dimensions: body.dimensions } : {}) };
  }
  // Cohere requires input_type. OpenAI has none: the client may send Cohere's own value, else
  // search_document (what a vector store holds; Kong EE's default, `classification`, suits fewer uses).
  const inputType = typeof body.input_type === 'string' ? body.input_type : 'search_document';
  return {
    texts: input,
    input_type: inputType,
    ...(typeof body.truncate === 'string' ? { truncate: body.truncate } : {}),
    // Embed v4 only; older Cohere models refuse it.
    ...(typeof body.dimensions === 'number' ? { output_dimension: body.dimensions } : {}),
  };
}

function isVector(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number');
}

/**
 * Vectors are returned as floats; a client's `encoding_format: base64` is applied by the proxy
 * (shared/openai/embeddings-encoding.ts).
 */
export function parseEmbeddings(body: unknown, ctx: TargetContext): EmbeddingsList {
  if (!isObject(body)) throw new UpstreamFormatError('failed to decode bedrock embeddings response');
  let vectors: number[][];
  let promptTokens = 0;
  if (familyOf(ctx.model) === 'titan') {
    if (!isVector(body.embedding)) throw new UpstreamFormatError("'embedding' not in bedrock titan embeddings response");
    vectors = [body.embedding];
    if (typeof body.inputTextTokenCount === 'number') promptTokens = body.inputTextTokenCount;
  } else {
    // `embeddings` is a list of vectors (embeddings_floats) or, when embedding types were asked for,
    // an object by type (embeddings_by_type): only float vectors are OpenAI's.
    const e = body.embeddings;
    const list = isObject(e) ? e.float : e;
    if (!Array.isArray(list) || !list.every(isVector)) throw new UpstreamFormatError("float 'embeddings' not in bedrock cohere embeddings response");
    vectors = list;
    // Bedrock reports Cohere's token count only in a response header; the body may carry Cohere's meta.
    const billed = isObject(body.meta) && isObject(body.meta.billed_units) ? body.meta.billed_units.input_tokens : undefined;
    if (typeof billed === 'number') promptTokens = billed;
  }
  return {
    object: 'list',
    data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: v })),
    model: ctx.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}
