// Loads one provider fixture case (spec/fixtures/providers/README.md) into a TargetContext and its files.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { encodeAwsEvent } from '../../shared/providers/core/framing';
import { NO_AUTH, NO_OPTIONS, type ModelOptions, type ProviderAuth, type ProviderName, type TargetContext } from '../../shared/providers/core/types';
import type { OpenAIRequestBody, RouteType } from '../../shared/openai/types';

export const PROVIDER_FIXTURES = resolve(__dirname, '../../../spec/fixtures/providers');

export { NO_AUTH, NO_OPTIONS };

export interface CaseInput {
  route_type: RouteType;
  model: string;
  stream?: boolean;
  include_usage?: boolean;
  options?: Partial<ModelOptions>;
  auth?: Partial<ProviderAuth> | null;
  env?: Record<string, string>;
  request: OpenAIRequestBody;
  expected_usage?: unknown;
}

export interface ProviderCase {
  provider: ProviderName;
  name: string;
  dir: string;
  input: CaseInput;
  ctx: TargetContext;
  json(file: string): unknown;
  has(file: string): boolean;
  /** The upstream stream bytes, if the case has a stream. */
  stream(): Buffer | undefined;
  /** stream.expected.jsonl parsed. */
  expectedStream(): unknown[];
}

export function contextFor(provider: ProviderName, input: CaseInput): TargetContext {
  return {
    provider,
    routeType: input.route_type,
    model: input.model,
    stream: input.stream ?? false,
    includeUsage: input.include_usage ?? false,
    options: { ...NO_OPTIONS, ...input.options },
    auth: input.auth === null || input.auth === undefined ? null : { ...NO_AUTH, ...input.auth },
    env: input.env ?? {},
    now: () => 1700000000,
    requestId: 'test-request-id',
  };
}

export function loadCases(filter?: string): ProviderCase[] {
  const out: ProviderCase[] = [];
  for (const provider of readdirSync(PROVIDER_FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    if (filter && !filter.split(',').includes(provider)) continue;
    const pdir = join(PROVIDER_FIXTURES, provider);
    for (const name of readdirSync(pdir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
      const dir = join(pdir, name);
      const json = (file: string): unknown => JSON.parse(readFileSync(join(dir, file), 'utf8'));
      const input = json('case.json') as CaseInput;
      out.push({
        provider: provider as ProviderName,
        name,
        dir,
        input,
        ctx: contextFor(provider as ProviderName, input),
        json,
        has: (file) => existsSync(join(dir, file)),
        stream() {
          if (existsSync(join(dir, 'stream.txt'))) return readFileSync(join(dir, 'stream.txt'));
          const aws = join(dir, 'stream.eventstream.jsonl');
          if (!existsSync(aws)) return undefined;
          const frames = readFileSync(aws, 'utf8').split('\n').filter((l) => l.trim()).map((l) => {
            const m = JSON.parse(l) as { event?: string; exception?: string; payload: unknown };
            return m.exception !== undefined ? encodeAwsEvent(m.exception, m.payload, 'exception') : encodeAwsEvent(m.event!, m.payload);
          });
          return Buffer.concat(frames);
        },
        expectedStream() {
          return readFileSync(join(dir, 'stream.expected.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as unknown);
        },
      });
    }
  }
  return out;
}

/** The `data:` payloads of an SSE text, JSON-parsed ("[DONE]" kept as the string). */
export function sseDataValues(text: string): unknown[] {
  return text.split('\n\n').filter((e) => e.trim()).map((e) => {
    const data = e.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
    return data === '[DONE]' ? data : JSON.parse(data) as unknown;
  });
}
