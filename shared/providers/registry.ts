// Every provider by name: adding a provider adds its module, its fixtures and one line here.
import { anthropicProvider } from './anthropic';
import { cohereProvider } from './cohere';
import { openaiProvider } from './openai';
import type { Provider, ProviderName } from './types';

const providers: Partial<Record<ProviderName, Provider>> = {
  openai: openaiProvider,
  anthropic: anthropicProvider,
  cohere: cohereProvider,
};

export function getProvider(name: ProviderName): Provider | undefined {
  return providers[name];
}

export function providerNames(): ProviderName[] {
  return Object.keys(providers) as ProviderName[];
}
