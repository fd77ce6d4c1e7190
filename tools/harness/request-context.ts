// The per-request state Kong keeps and external plugins read and change through the PDK: the client's
// request, the matched route and service, the upstream request being built, the early response,
// kong.ctx.shared, ngx.ctx and the values for Kong's log serializer.
import { randomUUID } from 'node:crypto';
import type { RouteEntity, ServiceEntity } from './declarative-config';

export interface ClientRequest {
  method: string;
  /** Path and query exactly as the client sent them. */
  rawUri: string;
  /** Header pairs in the order received, names as sent. */
  headers: Array<[string, string]>;
  body: Buffer;
  remoteAddress: string;
  remotePort: number;
  host: string;
  port: number;
  scheme: 'http' | 'https';
  httpVersion: number;
}

export interface HeaderEntry {
  name: string;
  values: string[];
}

export interface UpstreamRequest {
  scheme: string;
  host: string;
  port: number;
  /** set_path; undefined = computed from the route and service. */
  path: string | undefined;
  /** set_raw_query/set_query; undefined = the client's query string (Kong keeps it). */
  rawQuery: string | undefined;
  method: string;
  /** Keyed by lower-case name. */
  headers: Map<string, HeaderEntry>;
  body: Buffer;
  timeouts: { connect: number; write: number; read: number };
  targetSet: boolean;
  tlsVerify: boolean | undefined;
  buffered: boolean;
}

export interface EarlyResponse {
  status: number;
  body: Buffer;
  headers: Map<string, HeaderEntry>;
  source: 'exit' | 'error';
  plugin: string;
}

export interface UpstreamResponse {
  status: number;
  headers: Map<string, HeaderEntry>;
  body: Buffer | undefined;
}

export type Phase = 'rewrite' | 'access' | 'response' | 'log';

export class RequestContext {
  readonly id = randomUUID().replace(/-/g, '');
  readonly startedAt = Date.now();
  readonly upstream: UpstreamRequest;
  /** Header changes made with kong.response.* before the response is sent. */
  readonly downstreamHeaders = new Map<string, HeaderEntry | null>();
  downstreamStatus: number | undefined;
  exit: EarlyResponse | undefined;
  upstreamResponse: UpstreamResponse | undefined;
  /** What was finally sent to the client, for the log phase snapshot. */
  sent: { status: number; headers: Map<string, HeaderEntry>; size: number } | undefined;
  readonly ctxShared = new Map<string, unknown>();
  readonly ngxCtx = new Map<string, unknown>();
  readonly serializeValues: Record<string, unknown> = {};
  readonly pluginLogs: Array<{ plugin: string; level: string; message: string }> = [];
  phase: Phase = 'access';
  /** upstream timing, for the serializer's latencies. */
  upstreamStartedAt = 0;
  upstreamFirstByteAt = 0;
  tries = 0;

  constructor(readonly client: ClientRequest, readonly route: RouteEntity, readonly service: ServiceEntity,
    readonly strippedPath: string, readonly uriCaptures: { unnamed: string[]; named: Record<string, string> }) {
    const headers = new Map<string, HeaderEntry>();
    for (const [name, value] of client.headers) {
      const k = name.toLowerCase();
      const e = headers.get(k);
      if (e) e.values.push(value);
      else headers.set(k, { name, values: [value] });
    }
    this.upstream = {
      scheme: service.protocol,
      host: service.host,
      port: service.port,
      path: undefined,
      rawQuery: undefined,
      method: client.method,
      headers,
      body: client.body,
      timeouts: { connect: service.connect_timeout, write: service.write_timeout, read: service.read_timeout },
      targetSet: false,
      tlsVerify: service.tls_verify ?? undefined,
      buffered: false,
    };
  }

  get clientPath(): string {
    const q = this.client.rawUri.indexOf('?');
    return q === -1 ? this.client.rawUri : this.client.rawUri.slice(0, q);
  }

  get clientQuery(): string {
    const q = this.client.rawUri.indexOf('?');
    return q === -1 ? '' : this.client.rawUri.slice(q + 1);
  }

  /** The upstream path as Kong computes it when no plugin called set_path. */
  get defaultUpstreamPath(): string {
    const base = this.service.path ?? '/';
    if (this.route.strip_path === false) return joinPath(base, this.clientPath);
    return joinPath(base, this.strippedPath);
  }

  get upstreamUri(): string {
    const path = this.upstream.path ?? this.defaultUpstreamPath;
    const query = this.upstream.rawQuery ?? this.clientQuery;
    return query ? `${path}?${query}` : path;
  }
}

function joinPath(base: string, rest: string): string {
  if (rest === '' || rest === '/') return base;
  if (base.endsWith('/')) return base + (rest.startsWith('/') ? rest.slice(1) : rest);
  return base + (rest.startsWith('/') ? rest : `/${rest}`);
}
