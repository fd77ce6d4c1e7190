// Every provider by name: adding a provider adds its folder, its fixtures and one line here.
import { anthropicProvider } from '../anthropic';
import { azureProvider } from '../azure';
import { bedrockProvider } from '../bedrock';
import { cohereProvider } from '../cohere';
import { geminiProvider } from '../gemini';
import { huggingfaceProvider } from '../huggingface';
import { llama2Provider } from '../llama2';
import { mistralProvider } from '../mistral';
import { openaiProvider } from '../openai';
import type { Provider, ProviderName } from './types';

const providers: Record<ProviderName, Provider> = {
  openai: openaiProvider,
  anthropic: anthropicProvider,
  cohere: cohereProvider,
  gemini: geminiProvider,
  bedrock: bedrockProvider,
  azure: azureProvider,
  mistral: mistralProvider,
  llama2: llama2Provider,
  huggingface: huggingfaceProvider,
};

export function getProvider(name: ProviderName): Provider {
  return providers[name];
}

export function providerNames(): ProviderName[] {
  return Object.keys(providers) as ProviderName[];
}
