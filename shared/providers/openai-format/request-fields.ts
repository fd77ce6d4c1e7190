// Fields of an OpenAI request read the same way by the providers whose APIs take less than OpenAI's
// (one prompt per call, stop sequences as a list).
import { TranslationError } from '../core/types';

/** A single prompt: OpenAI allows an array of prompts (a batch), which these upstreams do not. */
export function singlePrompt(prompt: unknown, provider: string): string {
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string') return prompt[0];
  throw new TranslationError(`${provider} takes one prompt per request; batched prompts are not supported`);
}

/** The stop sequences as an array (OpenAI allows a single string). */
export function stopList(stop: unknown): string[] | undefined {
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) return stop as string[];
  return undefined;
}
