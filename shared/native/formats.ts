// The native formats ai-proxy serves besides OpenAI's (`llm_format`, Kong 3.9.1+ for gemini and bedrock,
// docs/kong-ai-plugins.md §2.8; anthropic is ours): the client speaks the provider's own API and the
// request and answer pass unchanged apart from the credential.
export const NATIVE_FORMATS = ['gemini', 'bedrock', 'anthropic'] as const;
export type NativeFormat = (typeof NATIVE_FORMATS)[number];

/** Every value of `llm_format`: OpenAI's, then the native ones. */
export const LLM_FORMATS = ['openai', ...NATIVE_FORMATS] as const;

export function isNativeFormat(v: string): v is NativeFormat {
  return (NATIVE_FORMATS as readonly string[]).includes(v);
}
