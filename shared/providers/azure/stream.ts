// Azure OpenAI's stream: OpenAI's (openai-format/stream.ts), with the prompt filter results of its first,
// choice-less event carried on the first real chunk, and annotation-only choices given an empty delta.
import { isObject, type Json } from '../core/json';
import type { StreamTranslator, TargetContext } from '../core/types';
import { openaiStreamTranslator } from '../openai-format/stream';

export function azureStreamTranslator(ctx: TargetContext): StreamTranslator {
  let promptFilter: { key: string; value: unknown } | undefined;
  let emitted = false;
  return openaiStreamTranslator(ctx, {
    inspect: (v) => {
      if (emitted) return;
      // `prompt_annotations` is the name older api-versions used.
      for (const key of ['prompt_filter_results', 'prompt_annotations']) {
        if (v[key] !== undefined) promptFilter = { key, value: v[key] };
      }
    },
    edit: (c) => {
      if (!emitted && promptFilter && c[promptFilter.key] === undefined) c[promptFilter.key] = promptFilter.value;
      emitted = true;
      for (const choice of c.choices as Json[]) {
        if (!isObject(choice.delta)) choice.delta = {};
      }
    },
  });
}
