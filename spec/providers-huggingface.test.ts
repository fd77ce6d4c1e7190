// Hugging Face facts the fixture walker cannot express: refused inputs, token-level features, and the
// TGI parameter limits (temperature > 0, 0 < top_p < 1, top_k > 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { huggingfaceProvider } from '../shared/providers/huggingface';
import { tgiParameters } from '../shared/providers/tgi/request';
import { TranslationError, UpstreamFormatError, type TargetContext } from '../shared/providers/core/types';
import { buildRequest } from './support/build-request';
import { contextFor } from './support/provider-case';

function ctx(extra: Partial<Parameters<typeof contextFor>[1]> = {}): TargetContext {
  return contextFor('huggingface', { route_type: 'llm/v1/embeddings', model: 'BAAI/bge-small-en-v1.5', request: { input: '' }, ...extra });
}

test('embeddings: dimensions cannot be honoured and are refused', async () => {
  await assert.rejects(buildRequest(huggingfaceProvider, { input: 'a', dimensions: 256 }, ctx()),
    (e: unknown) => e instanceof TranslationError && /dimensions/.test(e.message));
});

test('embeddings: one vector per input, token-level features refused', () => {
  const list = huggingfaceProvider.parseResponse([[0.1, 0.2], [0.3, 0.4]], ctx());
  assert.equal(list.object, 'list');
  assert.deepEqual((list as { data: Array<{ embedding: number[] }> }).data.map((d) => d.embedding), [[0.1, 0.2], [0.3, 0.4]]);
  assert.throws(() => huggingfaceProvider.parseResponse([[[0.1, 0.2], [0.3, 0.4]]], ctx()), UpstreamFormatError);
});

test('TGI parameters: values TGI refuses but OpenAI allows are left out', () => {
  const c = ctx({ route_type: 'llm/v1/completions' });
  assert.deepEqual(tgiParameters({ prompt: 'x', temperature: 0, top_p: 1, top_k: 0, max_completion_tokens: 9 }, c),
    { max_new_tokens: 9, return_full_text: false, details: true, decoder_input_details: true });
  assert.deepEqual(tgiParameters({ prompt: 'x', temperature: 1.2, top_p: 0.5, top_k: 3, stop: 'END' }, { ...c, stream: true }),
    { temperature: 1.2, top_p: 0.5, top_k: 3, stop: ['END'], return_full_text: false, details: true });
});
