// The AI metrics of Kong's prometheus plugin (kong/plugins/prometheus/exporter.lua, 3.9), kept by the
// plugin server process because usage is known only after the response, when Kong's own exporter has
// already run. Same names (with Kong's `kong_` prefix), help texts, label names and order, buckets and
// feeding rules (cost only when > 0, latency only when > 0, each token type only when > 0), plus one
// metric of ours for token counts that were estimated rather than reported by the provider.

export const AI_LABELS = ['ai_provider', 'ai_model', 'cache_status', 'vector_db', 'embeddings_provider', 'embeddings_model', 'workspace'] as const;
const TOKEN_LABELS = ['ai_provider', 'ai_model', 'cache_status', 'vector_db', 'embeddings_provider', 'embeddings_model', 'token_type', 'workspace'] as const;

/** Kong's AI_LLM_PROVIDER_LATENCY_BUCKETS. */
export const PROVIDER_LATENCY_BUCKETS = [250, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000, 10000, 30000, 60000] as const;

/**
 * Distinct label sets kept per metric. `ai_model` comes from the request when the config names no model,
 * so a client could otherwise grow the registry without bound; past the cap, new series are folded
 * into one with ai_model="other".
 */
export const MAX_SERIES_PER_METRIC = 5000;

export type TokenType = 'prompt_tokens' | 'completion_tokens' | 'total_tokens';

export interface AiObservation {
  provider: string;
  /** Kong labels by the request model. */
  requestModel: string;
  workspace: string;
  /** ms from the start of access until the provider's response headers (Kong's llm_latency). */
  llmLatency: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  cost: number;
  /** Which of the counts were estimated by us (the provider gave none). */
  estimated: { prompt: boolean; completion: boolean };
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(names: readonly string[], values: readonly string[]): string {
  return names.map((n, i) => `${n}="${escapeLabel(values[i] ?? '')}"`).join(',');
}

function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  // Enough digits for costs (fractions of a cent) without float noise such as 0.00037000000000000005.
  return String(Number(n.toPrecision(12)));
}

abstract class Metric {
  protected readonly series = new Map<string, { labels: string[] }>();

  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[]) {}

  /** The series key for these label values, folding new ones into ai_model="other" past the cap. */
  protected key(values: string[]): string {
    // Label values never hold U+0000 (Kong's come from config and model names): a cheap, exact key.
    let key = values.join('\u0000');
    if (!this.series.has(key) && this.series.size >= MAX_SERIES_PER_METRIC) {
      const i = this.labelNames.indexOf('ai_model');
      if (i >= 0) values[i] = 'other';
      key = values.join('\u0000');
    }
    if (!this.series.has(key)) this.series.set(key, { labels: values });
    return key;
  }

  abstract render(): string;
}

class Counter extends Metric {
  private readonly values = new Map<string, number>();

  inc(labels: string[], by = 1): void {
    const k = this.key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n`;
    for (const [k, s] of this.series) out += `${this.name}{${labelText(this.labelNames, s.labels)}} ${formatNumber(this.values.get(k) ?? 0)}\n`;
    return out;
  }
}

class Histogram extends Metric {
  private readonly data = new Map<string, { buckets: number[]; sum: number; count: number }>();

  constructor(name: string, help: string, labelNames: readonly string[], private readonly bounds: readonly number[]) {
    super(name, help, labelNames);
  }

  observe(labels: string[], value: number): void {
    const k = this.key(labels);
    let d = this.data.get(k);
    if (!d) {
      d = { buckets: this.bounds.map(() => 0), sum: 0, count: 0 };
      this.data.set(k, d);
    }
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]!) d.buckets[i]!++;
    d.sum += value;
    d.count++;
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    for (const [k, s] of this.series) {
      const d = this.data.get(k)!;
      const l = labelText(this.labelNames, s.labels);
      this.bounds.forEach((b, i) => { out += `${this.name}_bucket{${l},le="${b}"} ${d.buckets[i]}\n`; });
      out += `${this.name}_bucket{${l},le="+Inf"} ${d.count}\n`;
      out += `${this.name}_count{${l}} ${d.count}\n`;
      out += `${this.name}_sum{${l}} ${formatNumber(d.sum)}\n`;
    }
    return out;
  }
}

/** A target of an ai-proxy-advanced config, as its metrics name it. */
export interface BalancedTarget {
  readonly index: number;
  readonly provider: string;
  readonly model: string;
}

/** What the metrics read of a balancer (shared/balancer/target-balancer.ts). */
export interface BalancerView {
  status(now: number): ReadonlyArray<{ readonly state: 'closed' | 'open' | 'half-open'; readonly rateLimited: boolean; readonly failures: number; readonly attempts: number }>;
}

const TARGET_LABELS = ['plugin_id', 'target', 'ai_provider', 'ai_model'] as const;
const CIRCUIT_STATES = ['closed', 'open', 'half-open'] as const;

/**
 * ai-proxy-advanced's targets (ours, no Kong counterpart): each target's circuit state, attempts and
 * failures that count for the circuit breaker. The latest config of each plugin is shown.
 */
class BalancerMetrics {
  private readonly balancers = new Map<string, { targets: readonly BalancedTarget[]; view: BalancerView }>();

  track(pluginId: string, targets: readonly BalancedTarget[], view: BalancerView): void {
    this.balancers.set(pluginId, { targets, view });
  }

  render(now: number): string {
    if (this.balancers.size === 0) return '';
    let state = '# HELP kong_ai_target_circuit_state Circuit state of an ai-proxy-advanced target (1 for the current state)\n'
      + '# TYPE kong_ai_target_circuit_state gauge\n';
    let limited = '# HELP kong_ai_target_rate_limited 1 while a target is left out after a 429 Retry-After\n'
      + '# TYPE kong_ai_target_rate_limited gauge\n';
    let attempts = '# HELP kong_ai_target_attempts_total Attempts sent to an ai-proxy-advanced target\n'
      + '# TYPE kong_ai_target_attempts_total counter\n';
    let failures = '# HELP kong_ai_target_failures_total Attempts on an ai-proxy-advanced target that counted as failures (circuit breaker rules)\n'
      + '# TYPE kong_ai_target_failures_total counter\n';
    for (const [pluginId, b] of this.balancers) {
      const status = b.view.status(now);
      for (const t of b.targets) {
        const s = status[t.index]!;
        const l = labelText(TARGET_LABELS, [pluginId, String(t.index), t.provider, t.model]);
        for (const c of CIRCUIT_STATES) state += `kong_ai_target_circuit_state{${l},state="${c}"} ${s.state === c ? 1 : 0}\n`;
        limited += `kong_ai_target_rate_limited{${l}} ${s.rateLimited ? 1 : 0}\n`;
        attempts += `kong_ai_target_attempts_total{${l}} ${s.attempts}\n`;
        failures += `kong_ai_target_failures_total{${l}} ${s.failures}\n`;
      }
    }
    return state + limited + attempts + failures;
  }
}

export class AiMetrics {
  private readonly targets = new BalancerMetrics();
  private readonly requests = new Counter('kong_ai_llm_requests_total', 'AI requests total per ai_provider in Kong', AI_LABELS);
  private readonly cost = new Counter('kong_ai_llm_cost_total', 'AI requests cost per ai_provider/cache in Kong', AI_LABELS);
  // Kong's help text for the token counter really is the cost one (exporter.lua); kept for parity.
  private readonly tokens = new Counter('kong_ai_llm_tokens_total', 'AI requests cost per ai_provider/cache in Kong', TOKEN_LABELS);
  private readonly latency = new Histogram('kong_ai_llm_provider_latency_ms',
    'LLM response Latency for each AI plugins per ai_provider in Kong', AI_LABELS, PROVIDER_LATENCY_BUCKETS);
  private readonly estimatedTokens = new Counter('kong_ai_llm_tokens_estimated_total',
    'Part of kong_ai_llm_tokens_total that was estimated by the gateway because the provider reported no count', TOKEN_LABELS);

  observe(o: AiObservation): void {
    const base = [o.provider, o.requestModel, '', '', '', '', o.workspace];
    this.requests.inc([...base]);
    if (o.cost > 0) this.cost.inc([...base], o.cost);
    if (o.llmLatency > 0) this.latency.observe([...base], o.llmLatency);
    const tokens = (type: TokenType) => [o.provider, o.requestModel, '', '', '', '', type, o.workspace];
    const counts: Array<[TokenType, number, boolean]> = [
      ['prompt_tokens', o.promptTokens, o.estimated.prompt],
      ['completion_tokens', o.completionTokens, o.estimated.completion],
      ['total_tokens', o.totalTokens, o.estimated.prompt || o.estimated.completion],
    ];
    for (const [type, n, estimated] of counts) {
      if (n <= 0) continue;
      this.tokens.inc(tokens(type), n);
      if (estimated) {
        const part = type === 'total_tokens'
          ? (o.estimated.prompt ? o.promptTokens : 0) + (o.estimated.completion ? o.completionTokens : 0)
          : n;
        if (part > 0) this.estimatedTokens.inc(tokens(type), part);
      }
    }
  }

  /** An ai-proxy-advanced config's targets and balancer, shown until the plugin's next config replaces it. */
  trackBalancer(pluginId: string, targets: readonly BalancedTarget[], view: BalancerView): void {
    this.targets.track(pluginId, targets, view);
  }

  /** Prometheus text exposition format 0.0.4. */
  render(now = Date.now()): string {
    return [this.requests, this.cost, this.tokens, this.latency, this.estimatedTokens].map((m) => m.render()).join('') + this.targets.render(now);
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
