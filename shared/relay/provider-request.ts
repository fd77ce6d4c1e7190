// A provider's request built, and a failure to build it said as whose it is: a request the translation
// cannot express (the client's 400; another target may take it), a credential that could not be had
// (Kong's 500 "LLM request failed before proxying"), or our own bug (a 500 naming the provider, the stack
// logged by the caller). One rule for every kind of call (shared/relay/prepare.ts, native-call.ts).
import { CredentialError, TranslationError, type UpstreamRequest } from '../providers/core/types';
import type { Prepared } from './prepare';

export type BuildFailure = Extract<Prepared, { ok: false }>;

export async function buildProviderRequest(build: () => Promise<UpstreamRequest>, provider: string):
  Promise<{ ok: true; request: UpstreamRequest } | BuildFailure> {
  try {
    return { ok: true, request: await build() };
  } catch (e) {
    if (e instanceof TranslationError) return { ok: false, why: 'translation', status: 400, message: e.message };
    if (e instanceof CredentialError) return { ok: false, why: 'credential', status: 500, message: 'LLM request failed before proxying', cause: e };
    return { ok: false, why: 'internal', status: 500, message: `the gateway could not prepare this request for ${provider} (an internal error, logged)`, cause: e };
  }
}
