// Reads the client's body once and parses it as a JSON object. getRawBody(0) lets Kong 3.8+ read a body
// nginx spooled to disk (without the argument Kong crashes packing nil, docs/kong-plugin-protocol.md §4);
// the size limit is then enforced here so an oversized body gets a clear 413 instead of a Lua error and a
// hung call.
import type { KongPDK } from './pdk';

export type JsonBodyResult =
  | { ok: true; body: Record<string, unknown>; size: number }
  | { ok: false; status: number; message: string };

const decoder = new TextDecoder('utf-8', { fatal: true });

export function parseJsonObject(raw: Uint8Array, maxSize: number): JsonBodyResult {
  if (maxSize > 0 && raw.byteLength > maxSize) {
    return { ok: false, status: 413, message: `request body is ${raw.byteLength} bytes, over the limit of ${maxSize} bytes` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(raw));
  } catch {
    return { ok: false, status: 400, message: 'request body is not valid JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, status: 400, message: 'request body must be a JSON object' };
  }
  return { ok: true, body: parsed as Record<string, unknown>, size: raw.byteLength };
}

export async function readJsonBody(kong: KongPDK, maxSize: number): Promise<JsonBodyResult> {
  const raw = await kong.request.getRawBody(0);
  if (raw === undefined) return { ok: false, status: 400, message: 'request body could not be read' };
  return parseJsonObject(raw, maxSize);
}
