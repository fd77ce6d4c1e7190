// The ai-proxy plugin a deck file would configure for a provider fixture case, pointed at a fake
// provider's address (the path the case expects the provider to be called on, when it says).
import type { ProviderCase } from './provider-case';

/** Options Kong's schema requires for a provider, when the case leaves them to the translation's default. */
function requiredOptions(c: ProviderCase): Record<string, unknown> {
  const o = c.input.options ?? {};
  const out: Record<string, unknown> = {};
  if (c.provider === 'anthropic' && !o.anthropic_version) out.anthropic_version = '2023-06-01';
  if (c.provider === 'llama2' && !o.llama2_format) out.llama2_format = 'openai';
  if (c.provider === 'mistral' && !o.mistral_format) out.mistral_format = 'openai';
  if (c.provider === 'azure') {
    if (!o.azure_instance) out.azure_instance = 'test-instance';
    if (!o.azure_deployment_id) out.azure_deployment_id = 'test-deployment';
  }
  return out;
}

/** The path (and query) the provider must be called on, when the case says. */
function expectedUrl(c: ProviderCase): URL | undefined {
  if (!c.has('upstream-request.json')) return undefined;
  return new URL((c.json('upstream-request.json') as { url: string }).url);
}

export function casePlugin(c: ProviderCase, fakeUrl: string, extra: Record<string, unknown> = {}): { name: 'ai-proxy'; config: Record<string, unknown> } {
  const expected = expectedUrl(c);
  const options = { ...c.input.options, ...requiredOptions(c), upstream_url: `${fakeUrl}${expected ? expected.pathname : '/'}` };
  return {
    name: 'ai-proxy',
    config: {
      route_type: c.input.route_type,
      auth: c.input.auth ?? null,
      model: { provider: c.provider, name: c.input.route_type === 'preserve' ? null : c.input.model, options },
      logging: { log_statistics: true, log_payloads: false },
      ...extra,
    },
  };
}
