// The configuration records Kong's ai-proxy (3.9) and ai-proxy-advanced (3.13) share: auth, model,
// logging, the target (ai-proxy's top level is one target), and ai-proxy-advanced's balancer,
// embeddings and vectordb, declared once with Kong's field names, types, defaults and constraints
// (docs/kong-ai-plugins.md §1, §3), and Kong's entity checks with Kong's messages (§1.5).
import { arr, bool, int, json, num, record, str, allOrNone, type ConfigCheck, type ValueOf } from '../config-schema';
import { azureEntraConfigProblem, type EntraAuthFields, type Env } from '../providers/azure/entra-identity';
import { isVertexPartnerModel } from '../providers/gemini';

export const PROVIDERS = ['openai', 'azure', 'anthropic', 'cohere', 'mistral', 'llama2', 'gemini', 'bedrock', 'huggingface'] as const;
export const ROUTE_TYPES = ['llm/v1/chat', 'llm/v1/completions', 'llm/v1/embeddings', 'llm/v1/responses', 'preserve'] as const;

export const authRecord = () => record({
  header_name: str({ referenceable: true, description: 'Header name carrying the provider credential, e.g. Authorization.' }),
  header_value: str({ referenceable: true, encrypted: true, description: 'Header value, e.g. "Bearer <key>"; a vault reference keeps it out of the config.' }),
  param_name: str({ referenceable: true, description: 'Name of the query or body parameter carrying the credential.' }),
  param_value: str({ referenceable: true, encrypted: true, description: 'Value of the credential parameter.' }),
  param_location: str({ one_of: ['query', 'body'], description: 'Where param_name/param_value go: query or body.' }),
  azure_use_managed_identity: bool({ default: false }),
  azure_client_id: str({ referenceable: true }),
  azure_client_secret: str({ referenceable: true, encrypted: true }),
  azure_tenant_id: str({ referenceable: true }),
  gcp_use_service_account: bool({ default: false }),
  gcp_service_account_json: str({ referenceable: true, encrypted: true }),
  aws_access_key_id: str({ referenceable: true, encrypted: true }),
  aws_secret_access_key: str({ referenceable: true, encrypted: true }),
  allow_override: bool({ default: false, description: "Keep the client's own credential when it sends one." }),
}, { required: false });

export const modelRecord = () => record({
  provider: str({ required: true, one_of: PROVIDERS, description: 'AI provider to proxy to.' }),
  name: str({ description: 'Model name; when unset, the model named in the request body is used.' }),
  options: record({
    max_tokens: int(),
    input_cost: num({ gt: 0 }),
    output_cost: num({ gt: 0 }),
    temperature: num({ between: [0, 5] }),
    top_p: num({ between: [0, 1] }),
    top_k: int({ between: [0, 500] }),
    anthropic_version: str(),
    azure_instance: str(),
    azure_api_version: str({ default: '2023-05-15' }),
    azure_deployment_id: str(),
    llama2_format: str({ one_of: ['raw', 'openai', 'ollama'] }),
    mistral_format: str({ one_of: ['openai', 'ollama'] }),
    upstream_url: str({ description: 'Replaces the provider URL (scheme, host, port and path).' }),
    upstream_path: str({ description: 'Replaces the operation path (deprecated by Kong in favour of upstream_url).' }),
    gemini: record({
      api_endpoint: str(),
      project_id: str(),
      location_id: str(),
    }, { required: false, entity_checks: [{ mutually_required: ['api_endpoint', 'project_id', 'location_id'] }] }),
    bedrock: record({ aws_region: str() }, { required: false }),
    huggingface: record({ use_cache: bool(), wait_for_model: bool() }, { required: false }),
  }, { required: false }),
});

export const loggingRecord = () => record({
  log_statistics: bool({ required: true, default: false }),
  log_payloads: bool({ required: true, default: false }),
});

/** One model target: ai-proxy's own top-level fields, an element of ai-proxy-advanced's `targets`. */
export const targetFields = () => ({
  route_type: str({ required: true, one_of: ROUTE_TYPES, description: "The model API this route serves: chat, completions, embeddings, OpenAI's Responses API, or preserve." }),
  auth: authRecord(),
  model: modelRecord(),
  logging: loggingRecord(),
});

/** An element of ai-proxy-advanced's `targets` (Kong 3.13): a target plus its balancing fields. */
export const targetRecord = () => record({
  ...targetFields(),
  weight: int({ default: 100, between: [1, 65535] }),
  description: str({ description: "What the target is for (semantic routing); the literal CATCHALL marks the target for prompts that match none." }),
  metadata: json({ type: 'object' }, { description: 'Free-form data about the target (Kong: for internal use); not used by the proxy.' }),
});

/** A target as the relay serves it: the fields every target has, whichever plugin configured it. */
export type TargetConfig = Omit<ValueOf<ReturnType<typeof targetRecord>>, 'weight' | 'description' | 'metadata'>;

/** nginx's proxy_next_upstream conditions, as Kong's balancer.failover_criteria names them. */
export const FAILOVER_CRITERIA = ['error', 'timeout', 'invalid_header', 'http_500', 'http_502', 'http_503', 'http_504',
  'http_403', 'http_404', 'http_429', 'non_idempotent'] as const;
export type FailoverCriterion = (typeof FAILOVER_CRITERIA)[number];

export const BALANCER_ALGORITHMS = ['round-robin', 'consistent-hashing', 'lowest-latency', 'lowest-usage', 'priority',
  'least-connections', 'semantic'] as const;

const MS_MAX = 2147483646;
const INT32_MAX = 2147483647;

export const balancerRecord = () => record({
  algorithm: str({ default: 'round-robin', one_of: BALANCER_ALGORITHMS }),
  tokens_count_strategy: str({ default: 'total-tokens', one_of: ['total-tokens', 'prompt-tokens', 'completion-tokens', 'cost', 'llm-accuracy'] }),
  latency_strategy: str({ default: 'tpot', one_of: ['tpot', 'e2e'] }),
  hash_on_header: str({ default: 'X-Kong-LLM-Request-ID' }),
  slots: int({ default: 10000, between: [10, 65536] }),
  retries: int({ default: 5, between: [0, 32767] }),
  connect_timeout: int({ default: 60000, between: [1, MS_MAX] }),
  read_timeout: int({ default: 60000, between: [1, MS_MAX] }),
  write_timeout: int({ default: 60000, between: [1, MS_MAX] }),
  failover_criteria: arr(str({ one_of: FAILOVER_CRITERIA }), { default: ['error', 'timeout'], description: "When to try another target: nginx's proxy_next_upstream conditions (error, timeout, http_429, non_idempotent...)." }),
  max_fails: int({ default: 0, between: [0, 32767], description: 'Failures within fail_timeout that open a target circuit (0: no circuit breaker).' }),
  fail_timeout: int({ default: 10000, between: [1, MS_MAX], description: 'How long (ms) a failing target is left out, and the window its failures are counted in.' }),
  // Ours, off by default.
  hedge_delay: int({ between: [1, MS_MAX], description: 'Ours: when a target has not answered (response headers) within this many ms, the same request also starts on another target; the first good answer wins.' }),
});

export const EMBEDDINGS_PROVIDERS = ['openai', 'azure', 'bedrock', 'gemini', 'huggingface', 'mistral'] as const;

/** The model that embeds target descriptions and prompts for semantic routing (Kong 3.13 `embeddings`). */
export const embeddingsRecord = () => record({
  auth: authRecord(),
  model: record({
    provider: str({ required: true, one_of: EMBEDDINGS_PROVIDERS }),
    name: str({ required: true }),
    options: record({
      upstream_url: str({ description: 'Replaces the embeddings URL of the provider.' }),
      azure: record({ instance: str(), deployment_id: str(), api_version: str({ default: '2023-05-15' }) }, { required: false }),
      bedrock: record({ aws_region: str() }, { required: false }),
      gemini: record({ api_endpoint: str(), project_id: str(), location_id: str() }, {
        required: false, entity_checks: [{ mutually_required: ['api_endpoint', 'project_id', 'location_id'] }],
      }),
      huggingface: record({ use_cache: bool(), wait_for_model: bool() }, { required: false }),
    }, { required: false }),
  }),
}, { required: false });

/** Where semantic routing keeps the description vectors (Kong 3.13 `vectordb`; `memory` is ours). */
export const vectordbRecord = () => record({
  strategy: str({ required: true, one_of: ['redis', 'pgvector', 'memory'] }),
  dimensions: int({ required: true, gt: 0 }),
  distance_metric: str({ required: true, one_of: ['cosine', 'euclidean'] }),
  threshold: num({ description: 'Largest distance at which a description still matches a prompt (cosine distance: 1 - similarity).' }),
  redis: record({
    host: str({ default: '127.0.0.1', referenceable: true }),
    // Stricter than Kong (port 0, a negative database): refused here rather than on the first semantic request.
    port: int({ default: 6379, between: [1, 65535] }),
    database: int({ default: 0, between: [0, INT32_MAX] }),
    username: str({ referenceable: true }),
    password: str({ referenceable: true, encrypted: true }),
    ssl: bool({ default: false }),
    ssl_verify: bool({ default: false }),
    server_name: str({ referenceable: true }),
    connect_timeout: int({ default: 2000, between: [0, MS_MAX] }),
    read_timeout: int({ default: 2000, between: [0, MS_MAX] }),
    send_timeout: int({ default: 2000, between: [0, MS_MAX] }),
  }, { required: false }),
  pgvector: record({
    host: str({ default: '127.0.0.1' }),
    port: int({ default: 5432, between: [1, 65535] }),
    database: str({ default: 'kong-pgvector' }),
    user: str({ default: 'postgres', referenceable: true }),
    password: str({ referenceable: true, encrypted: true }),
    ssl: bool({ default: false }),
    ssl_required: bool({ default: false }),
    ssl_verify: bool({ default: false }),
    ssl_version: str({ default: 'tlsv1_2', one_of: ['any', 'tlsv1_2', 'tlsv1_3'] }),
    ssl_cert: str(),
    ssl_cert_key: str(),
    timeout: num({ default: 5000, gt: 0 }),
  }, { required: false, entity_checks: [{ mutually_required: ['ssl_cert', 'ssl_cert_key'] }] }),
}, { required: false });

interface AuthLike extends EntraAuthFields {
  readonly allow_override: boolean;
  readonly header_name: string | null;
  readonly param_location?: string | null;
}

/** What the credential checks read: a record with an `auth` and a provider (a target, the embeddings model). */
interface CredentialLike {
  readonly auth: AuthLike | null;
  readonly model: { readonly provider: string };
}

interface ModelLike extends CredentialLike {
  readonly auth: AuthLike | null;
  readonly model: {
    readonly provider: string;
    readonly name?: string | null;
    readonly options: {
      readonly gemini?: { readonly api_endpoint: string | null } | null;
      readonly upstream_url: string | null;
      readonly llama2_format: string | null;
      readonly mistral_format: string | null;
      readonly anthropic_version: string | null;
      readonly azure_instance: string | null;
      readonly azure_api_version: string | null;
      readonly azure_deployment_id: string | null;
    } | null;
  };
}

const MUST_SET: ReadonlyArray<[provider: string, option: keyof NonNullable<ModelLike['model']['options']>, message: string]> = [
  ['llama2', 'llama2_format', "must set 'model.options.llama2_format' for llama2 provider"],
  ['mistral', 'mistral_format', "must set 'model.options.mistral_format' for mistral provider"],
  ['anthropic', 'anthropic_version', "must set 'model.options.anthropic_version' for anthropic provider"],
  ['azure', 'azure_instance', "must set 'model.options.azure_instance' for azure provider"],
  ['azure', 'azure_api_version', "must set 'model.options.azure_api_version' for azure provider"],
  ['azure', 'azure_deployment_id', "must set 'model.options.azure_deployment_id' for azure provider"],
  ['llama2', 'upstream_url', "must set 'model.options.upstream_url' for self-hosted providers/models"],
];

/** `c` placed at `prefix` ("targets[1].", "embeddings."), so that field paths named with the prefix resolve. */
function at(prefix: string, c: unknown): unknown {
  return prefix.split('.').filter((key) => key !== '').reduceRight<unknown>((inner, key) => ({ [key]: inner }), c);
}

/**
 * Kong's mutually_required checks on `auth` (kong/llm/schemas/init.lua: header, param), then ours: the
 * AWS keys (one without the other fails every request: shared/providers/bedrock/credentials.ts), the
 * Entra ID fields, which may be completed by the plugin server's AZURE_* variables (`env`). For
 * any record with an `auth`; `prefix` names its place.
 */
function credentialChecks(prefix: string, env: Env): ConfigCheck<CredentialLike>[] {
  const p = (s: string) => `${prefix}${s}`;
  return [
    (c) => allOrNone(p('auth.header_name'), p('auth.header_value'))(at(prefix, c)),
    (c) => allOrNone(p('auth.param_name'), p('auth.param_value'), p('auth.param_location'))(at(prefix, c)),
    (c) => allOrNone(p('auth.aws_access_key_id'), p('auth.aws_secret_access_key'))(at(prefix, c)),
    (c) => azureEntraConfigProblem(c.model.provider, c.auth, env, prefix),
  ];
}

/**
 * Ours: Gemini takes its key in the query (`key`) or a header; in a translated JSON body it is an
 * unknown field, a 400 on every request (shared/providers/gemini/index.ts withAuth).
 */
function geminiBodyCredentialProblem(c: CredentialLike, prefix: string): string | undefined {
  return c.model.provider === 'gemini' && c.auth?.param_location === 'body'
    ? `${prefix}auth.param_location 'body' is not supported by the gemini provider; use 'query' (param_name 'key') or a header`
    : undefined;
}

function upstreamUrlProblem(u: string | null | undefined, prefix: string): string | undefined {
  if (!u) return undefined;
  try {
    const url = new URL(u);
    return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : `${prefix}model.options.upstream_url: must be an http or https URL`;
  } catch {
    return `${prefix}model.options.upstream_url: not a valid URL: ${u}`;
  }
}

/**
 * Kong's entity checks on auth and model, with Kong's messages; `prefix` names the record's place. Then
 * ours: the Entra ID fields, Mistral's Ollama format (self-hosted, so it needs the upstream's address,
 * as llama2 does), the upstream URL.
 */
export function modelChecks(prefix = '', env: Env = process.env): ConfigCheck<ModelLike>[] {
  return [
    ...credentialChecks(prefix, env),
    (c) => (['bedrock', 'gemini'].includes(c.model.provider) && c.auth?.allow_override === true
      ? 'bedrock and gemini only support auth.allow_override = false' : undefined),
    (c) => {
      for (const [provider, option, message] of MUST_SET) {
        if (c.model.provider === provider && !c.model.options?.[option]) return message;
      }
      return undefined;
    },
    (c) => (c.model.provider === 'mistral' && c.model.options?.mistral_format === 'ollama' && !c.model.options.upstream_url
      ? "must set 'model.options.upstream_url' for mistral provider with mistral_format 'ollama'" : undefined),
    (c) => upstreamUrlProblem(c.model.options?.upstream_url, prefix),
    (c) => vertexPartnerModelProblem(c, prefix),
  ];
}

/** Ours: a Vertex AI partner model cannot be called in Gemini's format (shared/providers/gemini/index.ts). */
function vertexPartnerModelProblem(c: ModelLike, prefix: string): string | undefined {
  const g = c.model.options?.gemini;
  const name = c.model.name;
  if (c.model.provider !== 'gemini' || !g?.api_endpoint || typeof name !== 'string' || name.includes('$(')) return undefined;
  return isVertexPartnerModel(name)
    ? `${prefix}model.name: '${name}' is a Vertex AI partner model, which is not served in Gemini's format; use the anthropic or mistral provider with its own endpoint`
    : undefined;
}

interface RoutedLike extends ModelLike {
  readonly route_type: string;
}

/**
 * Ours: a target no request could ever be served by is refused here rather than on every request: a
 * route type its provider, in the format its options name, has no translation for (Kong's request-time
 * message, kong/llm/drivers/anthropic.lua), and a credential the provider cannot take. `serves` is the
 * request path's own rule (shared/relay/prepare.ts targetServesRouteType).
 */
export function targetChecks<T extends RoutedLike>(serves: (target: T) => boolean, prefix = ''): ConfigCheck<T>[] {
  return [
    (c) => (serves(c) ? undefined : `${prefix}route_type: no transformer for ${c.model.provider}://${c.route_type}`),
    (c) => (c.route_type === 'preserve' ? undefined : geminiBodyCredentialProblem(c, prefix)),
  ];
}

/** The embeddings record, as its checks read it. */
interface EmbeddingsLike extends CredentialLike {
  readonly model: {
    readonly provider: string;
    readonly options: {
      readonly upstream_url: string | null;
      readonly azure: { readonly instance: string | null; readonly deployment_id: string | null } | null;
    } | null;
  };
}

/**
 * The checks of a target's model that apply to the embeddings model (its record has no format options
 * and no client credential to override), each naming `embeddings.` fields; and Azure's address, which
 * the embeddings record spells `options.azure.instance` / `deployment_id` (shared/relay/embeddings-client.ts).
 */
export function embeddingsChecks(env: Env = process.env): ConfigCheck<EmbeddingsLike>[] {
  const prefix = 'embeddings.';
  return [
    ...credentialChecks(prefix, env),
    (c) => geminiBodyCredentialProblem(c, prefix),
    (c) => {
      const o = c.model.options;
      if (c.model.provider !== 'azure' || o?.upstream_url) return undefined;
      const missing = (['instance', 'deployment_id'] as const).filter((k) => !o?.azure?.[k]);
      return missing.length === 0 ? undefined
        : `must set ${missing.map((k) => `'${prefix}model.options.azure.${k}'`).join(' and ')} (or '${prefix}model.options.upstream_url') for the azure embeddings provider`;
    },
    (c) => upstreamUrlProblem(c.model.options?.upstream_url, prefix),
  ];
}

interface FormatLike extends ModelLike {
  readonly route_type: string;
  readonly llm_format: string;
}

/**
 * Kong's llm_format checks (3.9.1, with its messages): a native format (the client speaking the
 * provider's own API, shared/relay/native-call.ts) only on the chat route, to its own provider.
 */
export function llmFormatChecks(): ConfigCheck<FormatLike>[] {
  return [
    (c) => (c.llm_format !== 'openai' && c.route_type !== 'llm/v1/chat'
      ? "native provider options in llm_format can only be used with the 'llm/v1/chat' route_type" : undefined),
    (c) => (c.llm_format !== 'openai' && c.model.provider !== c.llm_format
      ? `native llm_format '${c.llm_format}' can only be used with the '${c.llm_format}' model.provider` : undefined),
  ];
}
