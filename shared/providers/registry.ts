// Every provider by name: adding a provider adds its module, its fixtures and one line here.
import { anthropicProvider } from './anthropic';
import { bedrockProvider } from './bedrock';
import { cohereProvider } from './cohere';
import { geminiProvider } from './gemini';
import { openaiProvider } from './openai';
import type { Provider, ProviderName } from './types';

const providers: Partial<Record<ProviderName, Provider>> = {
  openai: openaiProvider,
  anthropic: anthropicProvider,
  cohere: cohereProvider,
  gemini: geminiProvider,
  bedrock: bedrockProvider,
};

export function getProvider(name: ProviderName): Provider | undefined {
  return providers[name];
}

export function providerNames(): ProviderName[] {
  return Object.keys(providers) as ProviderName[];
}
