// The upstream request almost every provider sends: a JSON body POSTed to one URL.
import type { UpstreamRequest } from './types';

export function jsonRequest(url: string, body: unknown, headers: Record<string, string> = {}): UpstreamRequest {
  return { method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}
