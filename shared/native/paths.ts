// Which native operation a client's request path names, and the model and stream mode it carries
// (Kong's adapters read them off the path: kong/llm/adapters/gemini.lua, bedrock.lua
// `extract_model_and_stream`). Anchored at the end, so any route prefix in front works.
import type { NativeFormat } from './formats';

export type NativeOperation =
  | { readonly ok: true; readonly model: string | null; readonly stream: boolean }
  | { readonly ok: false; readonly message: string };

/** The @google/genai SDK's `/v1beta/models/{model}:op`, and Vertex AI's `.../publishers/google/models/{model}:op`. */
const GEMINI = /\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
/** The AWS SDK's Converse paths, the model id one URL-encoded segment. */
const BEDROCK = /\/model\/([^/]+)\/(converse|converse-stream)$/;
const ANTHROPIC = /\/v1\/messages$/;

function decoded(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function fromPath(match: RegExpExecArray | null, streamOp: string, expected: string): NativeOperation {
  if (!match) return { ok: false, message: `this route serves ${expected} only` };
  const model = decoded(match[1]!);
  if (model === null || model === '' || model === '.' || model === '..') return { ok: false, message: 'the model in the request path is not valid' };
  return { ok: true, model, stream: match[2] === streamOp };
}

/** The operation of a request to a native route; `body` is read for Anthropic, whose model and stream are in it. */
export function nativeOperation(format: NativeFormat, path: string, body: Readonly<Record<string, unknown>>): NativeOperation {
  const p = path.replace(/\/+$/, '');
  switch (format) {
    case 'gemini':
      return fromPath(GEMINI.exec(p), 'streamGenerateContent', "Gemini's POST .../models/{model}:generateContent and :streamGenerateContent");
    case 'bedrock':
      return fromPath(BEDROCK.exec(p), 'converse-stream', "Bedrock's POST .../model/{modelId}/converse and /converse-stream");
    case 'anthropic': {
      if (!ANTHROPIC.test(p)) return { ok: false, message: "this route serves Anthropic's POST .../v1/messages only" };
      if (body.model !== undefined && typeof body.model !== 'string') return { ok: false, message: 'model: expected a string' };
      if (body.stream !== undefined && typeof body.stream !== 'boolean') return { ok: false, message: 'stream: expected a boolean' };
      return { ok: true, model: typeof body.model === 'string' && body.model !== '' ? body.model : null, stream: body.stream === true };
    }
  }
}

/** The model as configured names it: Gemini clients may say `models/<name>`. */
export function sameModel(format: NativeFormat, asked: string, configured: string): boolean {
  if (format === 'gemini') {
    const bare = (m: string) => m.replace(/^(publishers\/google\/)?models\//, '');
    return bare(asked) === bare(configured);
  }
  return asked === configured;
}
