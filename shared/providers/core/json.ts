// Reading untyped JSON from providers: small guards every translator uses.
export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

import { UpstreamFormatError } from './types';

/** A stream event's JSON payload; a payload that is not JSON breaks the stream (UpstreamFormatError). */
export function eventJson(data: string, provider: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    throw new UpstreamFormatError(`invalid JSON in ${provider} stream event`);
  }
}

/** Parses a stream event's JSON payload; undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
