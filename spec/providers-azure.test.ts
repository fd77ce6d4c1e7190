// Azure facts the fixture walker cannot express: which api-versions take stream_options, required options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { azureProvider } from '../shared/providers/azure';
import { azureTakesStreamOptions } from '../shared/providers/azure/request';
import { TranslationError } from '../shared/providers/core/types';
import { buildRequest } from './support/build-request';
import { contextFor } from './support/provider-case';

test('stream_options only from api-version 2024-09-01 (and the undated v1 API)', () => {
  for (const v of ['2023-05-15', '2024-02-01', '2024-06-01', '2024-08-01-preview']) assert.equal(azureTakesStreamOptions(v), false, v);
  for (const v of ['2024-09-01-preview', '2024-10-21', '2025-04-01-preview', 'v1', 'preview', 'latest']) assert.equal(azureTakesStreamOptions(v), true, v);
});

test('without upstream_url, azure_instance and azure_deployment_id are required', async () => {
  const c = contextFor('azure', { route_type: 'llm/v1/chat', model: 'gpt-4o', request: { messages: [] }, options: { azure_instance: 'x' } });
  await assert.rejects(buildRequest(azureProvider, { messages: [{ role: 'user', content: 'hi' }] }, c),
    (e: unknown) => e instanceof TranslationError && /azure_deployment_id/.test(e.message));
});
