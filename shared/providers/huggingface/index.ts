// Hugging Face: chat through the Inference Providers router's OpenAI-compatible API, legacy completions
// through the text-generation task (Text Generation Inference's native `{inputs, parameters}` API),
// embeddings through the feature-extraction task. TGI's API is in tgi/, the lenient reading of the
// router's OpenAI-compatible answers in openai-compatible/ (both shared with llama2).
//
// Facts: huggingface/hub-docs docs/inference-providers/tasks/{chat-completion,text-generation,
// feature-extraction}.md; huggingface.js packages/inference/src/providers/hf-inference.ts (router URLs);
// huggingface/text-generation-inference router/src/{lib.rs,server.rs,validation.rs} (GenerateParameters,
// Details, StreamResponse, StreamDetails.input_length, ErrorResponse, error_type → status, parameter checks).
//
// Differences from Kong (docs/kong-ai-plugins.md §2.4–2.7):
// - Kong posts to https://api-inference.huggingface.co/models/{model}[/v1/chat/completions]; that serverless
//   API was replaced by the router: chat goes to https://router.huggingface.co/v1/chat/completions with
//   the model in the body, the tasks to https://router.huggingface.co/hf-inference/models/{model}[/pipeline/…].
// - Kong sends options {use_cache, wait_for_model} in the body; the API reads them as the `x-use-cache`
//   and `x-wait-for-model` headers (the body `options` object was the pre-2024 form), so we send headers.
// - Kong reports finish_reason "complete" and the route type as `object`; we map TGI's reasons
//   (eos_token, stop_sequence → stop; length) and report OpenAI objects.

import { applyConfiguredAuth } from '../core/auth';
import { jsonRequest } from '../core/json-request';
import { openaiUsage } from '../core/native-usage';
import { TranslationError, type Provider, type TargetContext } from '../core/types';
import { encodePathSegment, resolveUrl } from '../core/upstream';
import { parseCompatResponse } from '../openai-compatible/response';
import { compatStreamTranslator } from '../openai-compatible/stream';
import { openaiBody } from '../openai-format/request';
import { singlePrompt } from '../openai-format/request-fields';
import { parseTgiError } from '../tgi/errors';
import { tgiGenerateBody } from '../tgi/request';
import { tgiTokenStreamTranslator } from '../tgi/stream';
import { parseFeatureExtraction, parseTextGeneration } from './response';

const ROUTER = 'https://router.huggingface.co';

/** `x-use-cache` / `x-wait-for-model` from model.options.huggingface (sent only when configured). */
function hfHeaders(ctx: TargetContext): Record<string, string> {
  const h: Record<string, string> = {};
  const o = ctx.options.huggingface;
  if (o?.use_cache !== null && o?.use_cache !== undefined) h['x-use-cache'] = String(o.use_cache);
  if (o?.wait_for_model !== null && o?.wait_for_model !== undefined) h['x-wait-for-model'] = String(o.wait_for_model);
  return h;
}

/** A model id in a URL path: the namespace slash stays a slash. */
function modelPath(model: string): string {
  return model.split('/').map(encodePathSegment).join('/');
}

export const huggingfaceProvider: Provider = {
  name: 'huggingface',
  routeTypes: ['llm/v1/chat', 'llm/v1/completions', 'llm/v1/embeddings', 'preserve'],
  framing: () => 'sse',
  async buildRequest(req, ctx) {
    const o = ctx.options;
    const headers = hfHeaders(ctx);
    switch (req.routeType) {
      case 'preserve':
        return applyConfiguredAuth(jsonRequest(resolveUrl(o, ROUTER, ''), req.body, headers), ctx);
      case 'llm/v1/chat':
        return applyConfiguredAuth(jsonRequest(resolveUrl(o, ROUTER, '/v1/chat/completions'), openaiBody(req, ctx), headers), ctx);
      case 'llm/v1/completions': {
        const url = resolveUrl(o, `${ROUTER}/hf-inference/models/${modelPath(ctx.model)}`, '');
        const prompt = singlePrompt(req.body.prompt, ctx.provider);
        return applyConfiguredAuth(jsonRequest(url, tgiGenerateBody(prompt, req.body, ctx), headers), ctx);
      }
      case 'llm/v1/embeddings': {
        const e = req.body;
        if (e.dimensions !== undefined) throw new TranslationError('huggingface feature-extraction does not support dimensions');
        const url = resolveUrl(o, `${ROUTER}/hf-inference/models/${modelPath(ctx.model)}/pipeline/feature-extraction`, '');
        // Always a list, so the answer is always one vector per input.
        const inputs = typeof e.input === 'string' ? [e.input] : e.input;
        return applyConfiguredAuth(jsonRequest(url, { inputs }, headers), ctx);
      }
    }
  },
  parseResponse(body, ctx) {
    if (ctx.routeType === 'llm/v1/embeddings') return parseFeatureExtraction(body, ctx);
    if (ctx.routeType === 'llm/v1/completions') return parseTextGeneration(body, ctx);
    return parseCompatResponse(body, ctx);
  },
  streamTranslator(ctx) {
    return ctx.routeType === 'llm/v1/completions' ? tgiTokenStreamTranslator(ctx, { trimStart: false }) : compatStreamTranslator(ctx);
  },
  parseError: parseTgiError,
  nativeUsage: openaiUsage,
};
