// Argument checks shared by every store, so that each refuses the same inputs with the same message
// (a VectorStoreError: a wrong dimension is a config the operator must fix, e.g. `vectordb.dimensions`
// not matching the embedding model).
import { VectorStoreError, type DistanceMetric, type VectorEntry } from './types';

export function checkMetric(metric: DistanceMetric): void {
  if (metric !== 'cosine' && metric !== 'euclidean') {
    throw new VectorStoreError(`unknown distance metric ${JSON.stringify(metric)}: use "cosine" or "euclidean"`);
  }
}

export function checkDimensions(dimensions: number): void {
  if (!Number.isInteger(dimensions) || dimensions < 1) {
    throw new VectorStoreError(`vector dimensions must be a positive integer, got ${String(dimensions)}`);
  }
}

export function checkNamespace(namespace: string): void {
  if (typeof namespace !== 'string' || namespace.length === 0) {
    throw new VectorStoreError('a vector namespace must be a non-empty string');
  }
}

/** `what` names the vector in the message: 'the query vector', 'entry "a"'. */
export function checkVector(vector: readonly number[], dimensions: number, metric: DistanceMetric, what: string): void {
  if (!Array.isArray(vector)) throw new VectorStoreError(`${what} is not an array of numbers`);
  if (vector.length !== dimensions) {
    throw new VectorStoreError(`vector dimension mismatch: ${what} has ${vector.length} dimensions, the store is configured for ${dimensions}`);
  }
  let zero = true;
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new VectorStoreError(`${what} has a value that is not a finite number at index ${i}`);
    }
    if (x !== 0) zero = false;
  }
  if (zero && metric === 'cosine') {
    throw new VectorStoreError(`${what} is the zero vector, which has no cosine distance to anything`);
  }
}

export function checkEntries(entries: readonly VectorEntry[], dimensions: number, metric: DistanceMetric, namespace: string): void {
  if (!Array.isArray(entries)) throw new VectorStoreError('entries must be an array');
  const seen = new Set<string>();
  for (const e of entries) {
    if (typeof e?.id !== 'string' || e.id.length === 0) {
      throw new VectorStoreError(`an entry of namespace ${JSON.stringify(namespace)} has no id (a non-empty string)`);
    }
    if (seen.has(e.id)) throw new VectorStoreError(`namespace ${JSON.stringify(namespace)} has two entries with id ${JSON.stringify(e.id)}`);
    seen.add(e.id);
    checkVector(e.vector, dimensions, metric, `entry ${JSON.stringify(e.id)} of namespace ${JSON.stringify(namespace)}`);
  }
}

export function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 0) {
    throw new VectorStoreError(`limit must be an integer >= 0, got ${String(limit)}`);
  }
}

export function checkMaxDistance(maxDistance: number | undefined): void {
  if (maxDistance !== undefined && (typeof maxDistance !== 'number' || !Number.isFinite(maxDistance) || maxDistance < 0)) {
    throw new VectorStoreError(`maxDistance must be a finite number >= 0, got ${String(maxDistance)}`);
  }
}

/** Nearest first; equal distances by id, so that every store orders ties the same way. */
export function byDistance(a: { readonly id: string; readonly distance: number }, b: { readonly id: string; readonly distance: number }): number {
  return a.distance - b.distance || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** A driver's error as text for a message: message, else code, else the messages an AggregateError holds. */
export function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0 && !err.message) {
    return [...new Set(err.errors.map(describeError))].join('; ');
  }
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    if (err.message) return err.message;
    if (typeof code === 'string') return code;
    return err.name;
  }
  return String(err);
}

/** Removes a secret from a text (defence in depth: no driver message is known to hold one). */
export function scrub(text: string, secrets: readonly (string | null)[]): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length > 0) out = out.split(s).join('[redacted]');
  }
  return out;
}
