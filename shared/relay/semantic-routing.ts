// Semantic routing for ai-proxy-advanced: each target's `description` is embedded once per config and
// kept in a vector store; each request's prompt (its last user message) is embedded and the nearest
// description within `vectordb.threshold` names the targets to try (targets with identical
// descriptions form one fallback group); a prompt that matches none goes to the CATCHALL targets.
// The balancer then picks within the group (shared/balancer/semantic.ts).
import { createHash } from 'node:crypto';
import { groupByDescription } from '../balancer/semantic';
import type { VectorStore } from '../vectordb/types';
import type { SemanticMatch, SemanticRouting } from './context';
import { EmbeddingsError, type EmbeddingsClient } from './embeddings-client';

export const CATCHALL = 'CATCHALL';

export interface SemanticTarget {
  readonly description: string | null;
}

/**
 * The text semantic routing matches: the last user message (Kong embeds only that), or a completion
 * prompt; of a Responses API request, a string input or its last user message item.
 */
export function promptToRoute(body: Readonly<Record<string, unknown>>): string | undefined {
  if (typeof body.prompt === 'string') return body.prompt;
  if (typeof body.input === 'string' && !Array.isArray(body.messages)) return body.input;
  const turns: unknown = Array.isArray(body.messages) ? body.messages : body.input;
  if (!Array.isArray(turns)) return undefined;
  for (let i = turns.length - 1; i >= 0; i--) {
    const m = turns[i] as { role?: unknown; content?: unknown } | null;
    if (m?.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) {
      const text = m.content.map((p: { type?: unknown; text?: unknown } | null) => ((p?.type === 'text' || p?.type === 'input_text') && typeof p.text === 'string' ? p.text : ''))
        .filter(Boolean).join('\n');
      return text === '' ? undefined : text;
    }
    return undefined;
  }
  return undefined;
}

export class SemanticRouter implements SemanticRouting {
  /** Description vector id → the targets with that description. */
  private readonly groups = new Map<string, number[]>();
  private readonly descriptions = new Map<string, string>();
  private readonly catchall: number[] = [];
  private indexed: Promise<void> | undefined;
  private store: VectorStore | undefined;

  /** `makeStore` is called once, with the dimension of the first vectors (the in-process store needs it). */
  constructor(targets: readonly SemanticTarget[], private readonly embeddings: EmbeddingsClient,
    private readonly makeStore: (dimensions: number) => VectorStore,
    /** Where this config's vectors live in the store: the plugin and a hash of its config. */
    private readonly namespace: string, private readonly threshold: number | null,
    private readonly warn: (message: string) => void) {
    const descriptions = targets.map((t) => t.description ?? '');
    for (const group of groupByDescription(descriptions)) {
      const d = descriptions[group[0]!]!;
      if (d === CATCHALL) {
        this.catchall.push(...group);
        continue;
      }
      const id = createHash('sha256').update(d).digest('hex').slice(0, 32);
      this.descriptions.set(id, d);
      this.groups.set(id, group);
    }
  }

  /** Embeds the descriptions and stores them, once (again after a failure). */
  private index(): Promise<void> {
    this.indexed ??= (async () => {
      const ids = [...this.descriptions.keys()];
      if (ids.length === 0) return;
      const vectors = await this.embeddings.embed(ids.map((id) => this.descriptions.get(id)!), `semantic-index-${this.namespace}`);
      this.store ??= this.makeStore(vectors[0]!.length);
      await this.store.replace(this.namespace, ids.map((id, i) => ({ id, vector: vectors[i]! })));
    })();
    const p = this.indexed;
    p.catch(() => { if (this.indexed === p) this.indexed = undefined; });
    return p;
  }

  async route(body: Readonly<Record<string, unknown>>): Promise<SemanticMatch> {
    const prompt = promptToRoute(body);
    if (prompt === undefined) {
      return { ok: false, status: 400, message: 'semantic routing needs a prompt: a user message with text, or a completion prompt' };
    }
    try {
      await this.index();
      const [vector] = await this.embeddings.embed([prompt], 'semantic-route');
      const [best] = this.store ? await this.store.nearest(this.namespace, vector!, 1, this.threshold ?? undefined) : [];
      const group = best ? this.groups.get(best.id) : undefined;
      if (group) return { ok: true, candidates: group, matched: 'description' };
      if (this.catchall.length > 0) return { ok: true, candidates: this.catchall, matched: 'catchall' };
      return {
        ok: false, status: 500,
        message: `no target matches this prompt (semantic routing, threshold ${this.threshold ?? 'none'}) and no target is the CATCHALL`,
      };
    } catch (e) {
      const detail = e instanceof EmbeddingsError ? `${e.message}: ${e.detail}` : e instanceof Error ? e.message : String(e);
      // Without a usable vector the CATCHALL targets still serve; said in the log.
      if (this.catchall.length > 0) {
        this.warn(`semantic routing failed, the request goes to the CATCHALL target: ${detail}`);
        return { ok: true, candidates: this.catchall, matched: 'catchall' };
      }
      const message = e instanceof EmbeddingsError ? `semantic routing could not embed the prompt: ${e.message}` : 'semantic routing is unavailable: the vector store failed';
      return { ok: false, status: 502, message, detail };
    }
  }
}
