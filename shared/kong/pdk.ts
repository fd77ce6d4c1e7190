// The part of Kong's PDK our plugins call, typed as it really behaves over the RPC bridge (kong-pdk's own
// .d.ts is wrong in places, docs/kong-plugin-protocol.md §5.9): every call is one round trip and resolves
// to the first Lua return value only, `undefined` for nil; raw bodies arrive as Uint8Array; multimaps as
// arrays of strings.
export type HeaderValue = string | string[];

export interface KongPDK {
  request: {
    /** With a number, Kong 3.8+ reads a body nginx spooled to disk up to that size (0: any size). */
    getRawBody(maxAllowedFileSize?: number): Promise<Uint8Array | undefined>;
    getHeaders(maxHeaders?: number): Promise<Record<string, string[]>>;
    getHeader(name: string): Promise<string | undefined>;
    getPath(): Promise<string>;
    getMethod(): Promise<string>;
    /** The route's regex captures; Lua's empty tables arrive as `[]` (kong.request.get_uri_captures). */
    getUriCaptures(): Promise<{ unnamed?: unknown; named?: unknown } | undefined>;
  };
  response: {
    /** Ends the request. Kong never answers it: the caller must return right after. */
    exit(status: number, body: string | Uint8Array, headers: Record<string, HeaderValue>): Promise<void>;
    setHeader(name: string, value: HeaderValue): Promise<void>;
  };
  service: {
    setTarget(host: string, port: number): Promise<void>;
    setTimeouts(connectMs: number, writeMs: number, readMs: number): Promise<void>;
    request: {
      setScheme(scheme: 'http' | 'https'): Promise<void>;
      setPath(path: string): Promise<void>;
      setRawQuery(query: string): Promise<void>;
      setHeader(name: string, value: HeaderValue): Promise<void>;
      setHeaders(headers: Record<string, HeaderValue>): Promise<void>;
      clearHeader(name: string): Promise<void>;
      setRawBody(body: string | Uint8Array): Promise<void>;
    };
  };
  log: {
    debug(...args: unknown[]): Promise<void>;
    info(...args: unknown[]): Promise<void>;
    notice(...args: unknown[]): Promise<void>;
    warn(...args: unknown[]): Promise<void>;
    err(...args: unknown[]): Promise<void>;
    /** Must be called during access: Kong's loggers serialize before an external log phase runs. */
    setSerializeValue(key: string, value: unknown): Promise<void>;
  };
  ctx: {
    shared: {
      get(key: string): Promise<unknown>;
      set(key: string, value: unknown): Promise<void>;
    };
  };
  plugin: {
    getId(): Promise<string>;
  };
  router: {
    /** The matched Service entity (its timeouts among its fields), undefined without one. */
    getService(): Promise<Record<string, unknown> | undefined>;
  };
}
