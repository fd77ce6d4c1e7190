// The contract every provider fulfils: four pure functions between OpenAI's format and the provider's
// own (docs/design.md §4), and the errors they throw. No sockets, no Kong: the proxies call these, the tests
// call them directly.
import type { OpenAIErrorBody } from '../../openai/errors';
import type { PROVIDERS, TargetConfig } from '../../llm/config-fields';
import type {
  ChatCompletionChunk, ChatRequest, CompletionRequest, EmbeddingsRequest, FinishReason, OpenAIResponseBody, RouteType,
  TextCompletion, Usage,
} from '../../openai/types';

export type ProviderName = (typeof PROVIDERS)[number];

type Nullable<T> = { readonly [K in keyof T]: T[K] | null };

/**
 * The config's `model.options`, as the plugins' schema declares it (shared/llm/config-fields.ts). Any
 * option may be null: a target without an options record has none of them.
 */
export type ModelOptions = Nullable<NonNullable<TargetConfig['model']['options']>>;

/** The config's `auth`, as the plugins' schema declares it. */
export type ProviderAuth = NonNullable<TargetConfig['auth']>;

/** No option set. */
export const NO_OPTIONS: ModelOptions = {
  max_tokens: null, temperature: null, top_p: null, top_k: null, anthropic_version: null, azure_instance: null,
  azure_api_version: null, azure_deployment_id: null, llama2_format: null, mistral_format: null, upstream_url: null,
  upstream_path: null, gemini: null, bedrock: null, huggingface: null, input_cost: null, output_cost: null,
};

/** No credential configured. */
export const NO_AUTH: ProviderAuth = {
  header_name: null, header_value: null, param_name: null, param_value: null, param_location: null,
  azure_use_managed_identity: false, azure_client_id: null, azure_client_secret: null, azure_tenant_id: null,
  gcp_use_service_account: false, gcp_service_account_json: null, aws_access_key_id: null, aws_secret_access_key: null,
  allow_override: false,
};

/** Everything a translation needs to know about the call, fixed for one request. */
export interface TargetContext {
  readonly provider: ProviderName;
  readonly routeType: RouteType;
  /** The model to call: the configured name, else the one in the request body. */
  readonly model: string;
  readonly stream: boolean;
  /** The client asked for a final usage chunk (`stream_options.include_usage`). */
  readonly includeUsage: boolean;
  readonly options: ModelOptions;
  readonly auth: ProviderAuth | null;
  /**
   * Environment for credential fallbacks (AWS_REGION, AWS_ACCESS_KEY_ID, GCP_SERVICE_ACCOUNT, ...):
   * process.env in production, a fixed object in tests.
   */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Seconds since the epoch, for `created` when the provider gives none (tests fix it). */
  readonly now: () => number;
  /** Unique per request; ids the provider does not give are built from it (`chatcmpl-<requestId>`). */
  readonly requestId: string;
}

export interface UpstreamRequest {
  method: 'POST' | 'GET';
  /** Absolute URL, query included. */
  url: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

/** A provider error in OpenAI's shape; the provider's status is kept (429 and 529 stay distinct). */
export interface ProviderError {
  status: number;
  body: OpenAIErrorBody;
}

/**
 * A request the provider cannot be sent: the client asked for something this provider's format cannot
 * express (buildRequest throws it; the proxy answers 400 with its message).
 */
export class TranslationError extends Error {}

/**
 * The provider's answer could not be read: a response, stream event or stream end that is not what the
 * provider's format promises (parseResponse, stream translators and framing throw it). Not the client's
 * fault: the proxy answers 500 (Kong: "transformation failed"), or ends a stream with an error event.
 * Not a TranslationError: the type says whose fault it is.
 */
export class UpstreamFormatError extends Error {}

/**
 * A credential could not be had (no AWS region or keys, an unusable GCP service account, a refused token
 * exchange): not the client's fault, so the proxy answers 500 "LLM request failed before proxying", as
 * Kong does, and logs the reason.
 */
export class CredentialError extends Error {}

/** How a provider frames its stream on the wire; decoded once, in framing.ts, before translation. */
export type StreamFraming = 'sse' | 'ndjson' | 'aws-eventstream';

/**
 * One decoded upstream stream event: SSE `event`/`data`; an NDJSON line (data); an AWS event-stream
 * message (event = its `:event-type` header, or `:exception-type` with `exception: true`; data = payload
 * text).
 */
export interface UpstreamEvent {
  event?: string;
  data: string;
  exception?: boolean;
}

export type TextCompletionChunk = Omit<TextCompletion, 'usage'> & { usage?: Usage | null };
export type StreamChunk = ChatCompletionChunk | TextCompletionChunk;

/**
 * On a chunk a translator passes on exactly as the provider sent it: the provider's JSON text, which
 * the stream pipeline writes instead of serialising the object again. A translator sets it only on a
 * chunk nobody changes afterwards, and only for one-line text (an SSE data line).
 */
export const VERBATIM: unique symbol = Symbol('verbatim');
export type VerbatimChunk = StreamChunk & { [VERBATIM]?: string };

export interface StreamEnd {
  chunks: StreamChunk[];
  /** The stream's usage, from the provider's counts (never invented; absent if the provider gave none). */
  usage?: Usage;
}

/**
 * State for one stream. `push` returns the OpenAI chunks an upstream event yields (often none).
 * A chunk carrying only usage (`choices: []`) is emitted by the stream pipeline, not by translators:
 * translators report usage through `usage()` / `end()`. An upstream error event throws ProviderStreamError.
 */
export interface StreamTranslator {
  push(event: UpstreamEvent): StreamChunk[];
  /** Called when the upstream stream ended normally. Throws UpstreamFormatError if it ended too early. */
  end(): StreamEnd;
  /** Usage known so far (prompt tokens may arrive first), for statistics on a broken stream. */
  usage(): Usage | undefined;
}

/** An error the provider sent inside a stream (Anthropic `error` event, Bedrock exception, ...). */
export class ProviderStreamError extends Error {
  constructor(readonly error: ProviderError) {
    super(error.body.error.message);
  }
}

/**
 * What buildRequest translates: the route type with the body it carries, so that narrowing on
 * `routeType` types the body. `preserve` bodies are the provider's own format, passed through.
 */
export type ChatRoute = { readonly routeType: 'llm/v1/chat'; readonly body: ChatRequest };
export type CompletionsRoute = { readonly routeType: 'llm/v1/completions'; readonly body: CompletionRequest };
export type EmbeddingsRoute = { readonly routeType: 'llm/v1/embeddings'; readonly body: EmbeddingsRequest };
export type PreserveRoute = { readonly routeType: 'preserve'; readonly body: Record<string, unknown> };
/** The two route types that generate text (chat and legacy completions). */
export type GenerationRoute = ChatRoute | CompletionsRoute;
/** Every route type but `preserve`: the ones a provider translates. */
export type TranslatedRoute = GenerationRoute | EmbeddingsRoute;
export type RouteRequest = TranslatedRoute | PreserveRoute;

export interface Provider {
  readonly name: ProviderName;
  readonly routeTypes: readonly RouteType[];
  /**
   * Narrows `routeTypes` by the configured options, for a provider whose formats serve different route
   * types (Mistral's API has no legacy completions, Llama's raw format no embeddings). Pure: the
   * configuration check and the request path both ask it (shared/relay/prepare.ts `providerServes`).
   * Absent: every route type in `routeTypes` is served.
   */
  serves?(routeType: RouteType, options: ModelOptions): boolean;
  /**
   * Present when the provider speaks OpenAI's Responses API itself (openai, azure): an llm/v1/responses
   * request then passes through as the client wrote it, with the configured model, options and
   * credential, and its answer passes back; every other provider gets it as chat (shared/responses/).
   */
  buildResponsesRequest?(body: Readonly<Record<string, unknown>>, ctx: TargetContext): Promise<UpstreamRequest>;
  /** The stream framing of this provider for this call (some depend on a format option). */
  framing(ctx: TargetContext): StreamFraming;
  /**
   * Translates an OpenAI request (already checked, model and option defaults applied) into the
   * provider's request: URL (with upstream_url / upstream_path overrides), headers, body, and the
   * auth: the config's header/param credential through `applyConfiguredAuth` (auth.ts) where the
   * provider takes one, and the provider's own scheme (Anthropic version header, SigV4 signing last,
   * GCP token). `req.routeType` is `ctx.routeType`. Throws TranslationError on input it cannot translate
   * (the proxy answers 400 with it), CredentialError when a credential cannot be had.
   */
  buildRequest(req: RouteRequest, ctx: TargetContext): Promise<UpstreamRequest>;
  /**
   * Non-streaming: the provider's JSON body (status 2xx) into OpenAI's. Throws UpstreamFormatError.
   * Embeddings come back as float vectors; the proxy applies a client's `encoding_format: base64`
   * (shared/openai/embeddings-encoding.ts).
   */
  parseResponse(body: unknown, ctx: TargetContext): OpenAIResponseBody;
  streamTranslator(ctx: TargetContext): StreamTranslator;
  /** A non-2xx response (body parsed as JSON when it was JSON, else the text) into OpenAI's error shape. */
  parseError(status: number, body: unknown, ctx: TargetContext): ProviderError;

  // Optional knowledge of the provider the proxy needs beyond translation.

  /**
   * `preserve` without upstream_url or upstream_path: the call goes to the client's own path (Kong's
   * rule, the default) or to the one the provider computes from the model ('model': Bedrock, Gemini).
   */
  readonly preservePath?: 'client' | 'model';
  /** Options the client's query string may change (Azure takes the client's `api-version`, as Kong does). */
  optionsFromQuery?(options: ModelOptions, query: URLSearchParams): ModelOptions;
  /** Token counts in the provider's own response body (`preserve` passes it through untranslated). */
  nativeUsage?(body: unknown, ctx: TargetContext): Usage | undefined;
  /** The provider's own fields in Kong's `ai.proxy.meta` log table (Azure: instance, deployment, api version). */
  logMeta?(ctx: TargetContext): Readonly<Record<string, unknown>>;
  /**
   * The HTTP status an error answer counts as for failover and the circuit breaker, in nginx's terms
   * (http_503, ...): Anthropic's 529 "overloaded" is a 503. Default: the status itself.
   */
  failoverStatus?(status: number): number;
}

export type { FinishReason };
