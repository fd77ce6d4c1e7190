// OpenAI's `encoding_format: "base64"` for embeddings (its SDKs ask for it by default): the vector as
// little-endian float32 bytes, base64-encoded. Providers return float vectors; the proxy encodes them
// here when the client asked, once for every provider.
import type { EmbeddingsList } from './types';

export function base64Floats(v: readonly number[]): string {
  const buf = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => buf.writeFloatLE(x, i * 4));
  return buf.toString('base64');
}

/** The list as the client asked for it; vectors already encoded (OpenAI did it) are left alone. */
export function encodeEmbeddings(list: EmbeddingsList, format: unknown): EmbeddingsList {
  if (format !== 'base64') return list;
  return { ...list, data: list.data.map((d) => (Array.isArray(d.embedding) ? { ...d, embedding: base64Floats(d.embedding) } : d)) };
}
