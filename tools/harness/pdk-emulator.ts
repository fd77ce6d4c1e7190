// Kong's Lua PDK as an external plugin sees it through the RPC bridge (docs/kong-plugin-protocol.md §2.4,
// §2.5, §3, §4): each method returns only its first value, multimaps and raw bodies are packed as Kong
// packs them, argument errors and phase errors are Lua errors, and in the log phase (a timer, from a
// snapshot) only the overridden getters work. A method this table does not know is a harness violation.
import { EMPTY_MAP } from './lua-values';
import { httpErrorMessage, kongErrorBody } from './kong-errors';
import type { HeaderEntry, Phase, RequestContext } from './request-context';

/** A Lua error raised inside a PDK call: Kong answers 500 and never steps the event again. */
export class LuaError extends Error {}

export interface PdkEnv {
  kongVersion: string;
  clientBodyBufferSize: number;
  nodeId: string;
  hostname: string;
  log: (plugin: string, level: string, message: string) => void;
}

export interface CallScope {
  ctx: RequestContext;
  plugin: string;
  pluginId: string;
  phase: Phase;
  /** The serializer output frozen when the log phase was scheduled. */
  serialized?: unknown;
  /** Set by exit/error: the conversation ends. */
  ended?: boolean;
}

type Method = (s: CallScope, env: PdkEnv, args: unknown[]) => unknown;

/** Methods Kong's exposed_api overrides so they work in the log timer from the saved snapshot. */
const LOG_PHASE_METHODS = new Set([
  'kong.log.serialize', 'kong.request.get_header', 'kong.request.get_headers', 'kong.request.get_uri_captures',
  'kong.response.get_status', 'kong.response.get_header', 'kong.response.get_headers', 'kong.response.get_source',
  'kong.ctx.shared.get', 'kong.ctx.shared.set', 'kong.nginx.get_ctx', 'kong.nginx.set_ctx',
  'kong.nginx.req_start_time', 'kong.plugin.get_id', 'kong.node.get_id', 'kong.node.get_hostname',
  'kong.log.debug', 'kong.log.info', 'kong.log.notice', 'kong.log.warn', 'kong.log.err', 'kong.log.crit',
  'kong.log.alert', 'kong.log.emerg', 'kong.log.inspect', 'kong.log.set_serialize_value',
  'kong.router.get_route', 'kong.router.get_service', 'kong.client.get_consumer', 'kong.client.get_credential',
]);

const MULTIMAP_METHODS = new Set([
  'kong.request.get_query', 'kong.request.get_headers', 'kong.response.get_headers', 'kong.service.response.get_headers',
]);

export function stepMethodFor(method: string): string {
  if (MULTIMAP_METHODS.has(method)) return 'plugin.StepMultiMap';
  switch (method) {
    case 'kong.client.get_credential': case 'kong.client.authenticate': return 'plugin.StepCredential';
    case 'kong.client.get_consumer': case 'kong.client.load_consumer': return 'plugin.StepConsumer';
    case 'kong.node.get_memory_stats': return 'plugin.StepMemoryStats';
    case 'kong.router.get_route': return 'plugin.StepRoute';
    case 'kong.router.get_service': return 'plugin.StepService';
    default: return 'plugin.Step';
  }
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new LuaError(`${what} must be a string`);
  return v;
}

function luaNum(v: unknown, what: string): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new LuaError(`${what} must be a number`);
  return v;
}

function bytes(v: unknown, what: string): Buffer {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw new LuaError(`${what} must be a string`);
}

function onlyIn(s: CallScope, method: string, ...phases: Phase[]): void {
  if (!phases.includes(s.phase)) {
    throw new LuaError(`function cannot be called in ${s.phase} phase (only in: ${phases.join(', ')}) [${method}]`);
  }
}

/** Kong's multimap (fix_mmap): lower-case keys, every value an array of strings, at most `max` entries. */
function multimap(entries: Iterable<HeaderEntry>, max = 100): unknown {
  const o: Record<string, string[]> = {};
  let n = 0;
  for (const e of entries) {
    if (n >= max) break;
    o[e.name.toLowerCase()] = [...e.values];
    n++;
  }
  return n === 0 ? EMPTY_MAP : o;
}

function clientHeaderEntries(s: CallScope): HeaderEntry[] {
  const m = new Map<string, HeaderEntry>();
  for (const [name, value] of s.ctx.client.headers) {
    const k = name.toLowerCase();
    const e = m.get(k);
    if (e) e.values.push(value);
    else m.set(k, { name: k, values: [value] });
  }
  return [...m.values()];
}

function headerName(name: string): string {
  return name.toLowerCase().replace(/_/g, '-');
}

function queryEntries(raw: string): HeaderEntry[] {
  const m = new Map<string, HeaderEntry>();
  if (!raw) return [];
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = decodeURIComponent((eq === -1 ? part : part.slice(0, eq)).replace(/\+/g, ' '));
    const e = m.get(k) ?? { name: k, values: [] };
    // A flag without a value is `true` in Lua, packed by fix_mmap as an empty array.
    if (eq !== -1) e.values.push(decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' ')));
    m.set(k, e);
  }
  return [...m.values()];
}

function setHeader(map: Map<string, HeaderEntry | null> | Map<string, HeaderEntry>, name: unknown, value: unknown, add: boolean): void {
  const n = str(name, 'header name');
  let values: string[];
  if (Array.isArray(value)) values = value.map((v) => String(v));
  else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') values = [String(value)];
  else throw new LuaError(`invalid header value for "${n}": got ${value === null ? 'nil' : typeof value}, expected array of string, string, number or boolean`);
  for (const v of values) {
    if (/[\r\n]/.test(v)) throw new LuaError(`invalid header value for "${n}": contains a newline`);
  }
  const k = n.toLowerCase();
  const existing = map.get(k);
  if (add && existing) existing.values.push(...values);
  else (map as Map<string, HeaderEntry>).set(k, { name: n, values });
}

function headersArg(v: unknown): Map<string, HeaderEntry> {
  const m = new Map<string, HeaderEntry>();
  if (v === undefined || v === null) return m;
  if (typeof v !== 'object' || Array.isArray(v)) throw new LuaError('headers must be a table');
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) setHeader(m, k, val, false);
  return m;
}

function responseBody(v: unknown, headers: Map<string, HeaderEntry>): Buffer {
  if (v === undefined || v === null) return Buffer.alloc(0);
  if (typeof v === 'string' || v instanceof Uint8Array) return bytes(v, 'body');
  if (typeof v === 'object') {
    // Kong JSON-encodes a table body with cjson (an empty table becomes {}) and sets the content type.
    if (!headers.has('content-type')) headers.set('content-type', { name: 'Content-Type', values: ['application/json; charset=utf-8'] });
    const isEmpty = Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0;
    return Buffer.from(isEmpty ? '{}' : JSON.stringify(v), 'utf8');
  }
  throw new LuaError('body must be a nil, string or table');
}

function exitWith(s: CallScope, status: unknown, body: Buffer, headers: Map<string, HeaderEntry>, source: 'exit' | 'error'): void {
  onlyIn(s, `kong.response.${source}`, 'rewrite', 'access', 'response');
  const code = luaNum(status, 'code');
  if (!Number.isInteger(code) || code < 100 || code > 599) throw new LuaError('code must be a number between 100 and 599');
  s.ctx.exit = { status: code, body, headers, source, plugin: s.plugin };
  s.ended = true;
}

function entity(o: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(o, (k, v) => (k === 'service' && typeof v === 'object' && v !== null ? { id: v.id } : v)));
}

const M: Record<string, Method> = {
  // kong.request
  'kong.request.get_scheme': (s) => s.ctx.client.scheme,
  'kong.request.get_host': (s) => s.ctx.client.host,
  'kong.request.get_port': (s) => s.ctx.client.port,
  'kong.request.get_forwarded_scheme': (s) => s.ctx.client.scheme,
  'kong.request.get_forwarded_host': (s) => s.ctx.client.host,
  'kong.request.get_forwarded_port': (s) => s.ctx.client.port,
  'kong.request.get_forwarded_path': (s) => s.ctx.clientPath,
  'kong.request.get_forwarded_prefix': () => null,
  'kong.request.get_http_version': (s) => s.ctx.client.httpVersion,
  'kong.request.get_method': (s) => s.ctx.client.method,
  'kong.request.get_path': (s) => s.ctx.clientPath,
  'kong.request.get_raw_path': (s) => s.ctx.clientPath,
  'kong.request.get_path_with_query': (s) => s.ctx.client.rawUri,
  'kong.request.get_raw_query': (s) => s.ctx.clientQuery,
  'kong.request.get_query_arg': (s, _e, [name]) => {
    const e = queryEntries(s.ctx.clientQuery).find((q) => q.name === str(name, 'query argument name'));
    return e ? (e.values.length ? e.values[0] : true) : null;
  },
  'kong.request.get_query': (s) => multimap(queryEntries(s.ctx.clientQuery)),
  'kong.request.get_header': (s, _e, [name]) => {
    const n = headerName(str(name, 'header name'));
    return clientHeaderEntries(s).find((h) => h.name === n)?.values[0] ?? null;
  },
  'kong.request.get_headers': (s, _e, [max]) => multimap(clientHeaderEntries(s), typeof max === 'number' ? max : 100),
  'kong.request.get_raw_body': (s, env, [maxFile]) => {
    onlyIn(s, 'kong.request.get_raw_body', 'rewrite', 'access', 'response');
    const body = s.ctx.client.body;
    if (body.length <= env.clientBodyBufferSize) return body;
    // Spooled to disk. Kong returns nil, err; fix_raw(nil) then fails while packing: a Lua error.
    const minor = Number(env.kongVersion.split('.')[1] ?? 0);
    if (minor >= 8 && typeof maxFile === 'number' && (maxFile === 0 || body.length <= maxFile)) return body;
    throw new LuaError("MessagePack.lua:126: attempt to get length of local 'str' (a nil value)");
  },
  'kong.request.get_body': (s, env) => {
    const ct = clientHeaderEntries(s).find((h) => h.name === 'content-type')?.values[0] ?? '';
    if (!ct.toLowerCase().startsWith('application/json')) return null;
    if (s.ctx.client.body.length > env.clientBodyBufferSize) return null;
    try {
      const v: unknown = JSON.parse(s.ctx.client.body.toString('utf8'));
      return typeof v === 'object' && v !== null ? v : null;
    } catch {
      return null;
    }
  },
  'kong.request.get_start_time': (s) => s.ctx.startedAt,
  'kong.request.get_uri_captures': (s) => s.ctx.uriCaptures,

  // kong.client
  'kong.client.get_ip': (s) => s.ctx.client.remoteAddress,
  'kong.client.get_forwarded_ip': (s) => s.ctx.client.remoteAddress,
  'kong.client.get_port': (s) => s.ctx.client.remotePort,
  'kong.client.get_forwarded_port': (s) => s.ctx.client.remotePort,
  'kong.client.get_protocol': (s) => s.ctx.client.scheme,
  'kong.client.get_consumer': () => null,
  'kong.client.get_credential': () => null,

  // kong.service
  'kong.service.set_target': (s, _e, [host, port]) => {
    onlyIn(s, 'kong.service.set_target', 'rewrite', 'access');
    const h = str(host, 'host');
    const p = luaNum(port, 'port');
    if (!Number.isInteger(p) || p < 0 || p > 65535) throw new LuaError('port must be an integer between 0 and 65535');
    Object.assign(s.ctx.upstream, { host: h, port: p, targetSet: true });
    return null;
  },
  'kong.service.set_upstream': (s) => { onlyIn(s, 'kong.service.set_upstream', 'access'); return null; },
  'kong.service.set_timeouts': (s, _e, [c, w, r]) => {
    onlyIn(s, 'kong.service.set_timeouts', 'rewrite', 'access');
    for (const [v, n] of [[c, 'connect_timeout'], [w, 'write_timeout'], [r, 'read_timeout']] as const) {
      const x = luaNum(v, n);
      if (!Number.isInteger(x) || x < 1 || x > 2147483646) throw new LuaError(`${n} must be an integer between 1 and 2147483646`);
    }
    s.ctx.upstream.timeouts = { connect: c as number, write: w as number, read: r as number };
    return null;
  },
  'kong.service.set_tls_verify': (s, _e, [on]) => {
    if (typeof on !== 'boolean') throw new LuaError('argument must be a boolean');
    s.ctx.upstream.tlsVerify = on;
    return true;
  },

  // kong.service.request
  'kong.service.request.enable_buffering': (s) => { onlyIn(s, 'kong.service.request.enable_buffering', 'rewrite', 'access'); s.ctx.upstream.buffered = true; return null; },
  'kong.service.request.set_scheme': (s, _e, [v]) => {
    const x = str(v, 'scheme');
    if (x !== 'http' && x !== 'https') throw new LuaError(`invalid scheme: ${x}`);
    s.ctx.upstream.scheme = x;
    return null;
  },
  'kong.service.request.set_path': (s, _e, [v]) => {
    const x = str(v, 'path');
    if (!x.startsWith('/')) throw new LuaError('path must start with /');
    s.ctx.upstream.path = x;
    return null;
  },
  'kong.service.request.set_raw_query': (s, _e, [v]) => { s.ctx.upstream.rawQuery = str(v, 'query'); return null; },
  'kong.service.request.set_query': (s, _e, [v]) => {
    if (typeof v !== 'object' || v === null) throw new LuaError('args must be a table');
    const parts: string[] = [];
    for (const k of Object.keys(v).sort()) {
      const val = (v as Record<string, unknown>)[k];
      for (const x of Array.isArray(val) ? val : [val]) {
        parts.push(x === true ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(String(x))}`);
      }
    }
    s.ctx.upstream.rawQuery = parts.join('&');
    return null;
  },
  'kong.service.request.set_method': (s, _e, [v]) => { s.ctx.upstream.method = str(v, 'method').toUpperCase(); return null; },
  'kong.service.request.set_header': (s, _e, [n, v]) => { setHeader(s.ctx.upstream.headers, n, v, false); return null; },
  'kong.service.request.add_header': (s, _e, [n, v]) => { setHeader(s.ctx.upstream.headers, n, v, true); return null; },
  'kong.service.request.clear_header': (s, _e, [n]) => { s.ctx.upstream.headers.delete(str(n, 'header name').toLowerCase()); return null; },
  'kong.service.request.set_headers': (s, _e, [h]) => {
    for (const [k, e] of headersArg(h)) s.ctx.upstream.headers.set(k, e);
    return null;
  },
  'kong.service.request.set_raw_body': (s, _e, [b]) => {
    onlyIn(s, 'kong.service.request.set_raw_body', 'rewrite', 'access');
    s.ctx.upstream.body = bytes(b, 'body');
    return null;
  },

  // kong.service.response (only with a buffered upstream response)
  'kong.service.response.get_status': (s) => s.ctx.upstreamResponse?.status ?? null,
  'kong.service.response.get_headers': (s, _e, [max]) => multimap(s.ctx.upstreamResponse?.headers.values() ?? [], typeof max === 'number' ? max : 100),
  'kong.service.response.get_header': (s, _e, [n]) => s.ctx.upstreamResponse?.headers.get(str(n, 'header name').toLowerCase())?.values[0] ?? null,
  'kong.service.response.get_raw_body': (s) => {
    onlyIn(s, 'kong.service.response.get_raw_body', 'response');
    return s.ctx.upstreamResponse?.body ?? null;
  },

  // kong.response
  'kong.response.get_status': (s) => s.ctx.sent?.status ?? s.ctx.downstreamStatus ?? s.ctx.upstreamResponse?.status ?? 200,
  'kong.response.get_header': (s, _e, [n]) => {
    const k = str(n, 'header name').toLowerCase();
    return (s.ctx.sent?.headers ?? s.ctx.upstreamResponse?.headers)?.get(k)?.values[0] ?? null;
  },
  'kong.response.get_headers': (s, _e, [max]) => multimap((s.ctx.sent?.headers ?? s.ctx.upstreamResponse?.headers)?.values() ?? [], typeof max === 'number' ? max : 100),
  'kong.response.get_source': (s) => (s.ctx.exit ? 'exit' : s.ctx.upstreamResponse ? 'service' : 'error'),
  'kong.response.set_status': (s, _e, [v]) => { s.ctx.downstreamStatus = luaNum(v, 'code'); return null; },
  'kong.response.set_header': (s, _e, [n, v]) => { setHeader(s.ctx.downstreamHeaders as Map<string, HeaderEntry>, n, v, false); return null; },
  'kong.response.add_header': (s, _e, [n, v]) => { setHeader(s.ctx.downstreamHeaders as Map<string, HeaderEntry>, n, v, true); return null; },
  'kong.response.clear_header': (s, _e, [n]) => { s.ctx.downstreamHeaders.set(str(n, 'header name').toLowerCase(), null); return null; },
  'kong.response.set_headers': (s, _e, [h]) => {
    for (const [k, e] of headersArg(h)) s.ctx.downstreamHeaders.set(k, e);
    return null;
  },
  'kong.response.exit': (s, _e, [status, body, headers]) => {
    const h = headersArg(headers);
    exitWith(s, status, responseBody(body, h), h, 'exit');
    return null;
  },
  'kong.response.error': (s, _e, [status, message, headers]) => {
    const h = headersArg(headers);
    const code = luaNum(status, 'code');
    const msg = typeof message === 'string' ? message : httpErrorMessage(code);
    const accept = s.ctx.client.headers.find(([n]) => n.toLowerCase() === 'accept')?.[1];
    const out = kongErrorBody(msg, s.ctx.id, h.get('content-type')?.values[0] ?? accept);
    h.set('content-type', { name: 'Content-Type', values: [out.contentType] });
    exitWith(s, code, Buffer.from(out.body), h, 'error');
    return null;
  },

  // kong.log
  'kong.log.serialize': (s, env) => JSON.stringify(s.serialized ?? serializeForLog(s.ctx, env)),
  'kong.log.set_serialize_value': (s, _e, [key, value]) => {
    const k = str(key, 'key');
    if (value !== null && value !== undefined && !['string', 'number', 'boolean', 'object'].includes(typeof value)) {
      throw new LuaError('value must be a number, string, boolean or a non-self-referencial table containing numbers, string and booleans');
    }
    // Too late in the log phase: Kong's own loggers have already serialized the request.
    if (s.phase !== 'log') setPath(s.ctx.serializeValues, k, value);
    return null;
  },
  'kong.log.inspect': () => null,

  // kong.ctx.shared (values are copies: msgpack round trip)
  'kong.ctx.shared.get': (s, _e, [k]) => s.ctx.ctxShared.get(str(k, 'key')) ?? null,
  'kong.ctx.shared.set': (s, _e, [k, v]) => {
    const key = str(k, 'key');
    if (v === null || v === undefined) s.ctx.ctxShared.delete(key);
    else s.ctx.ctxShared.set(key, structuredClone(v));
    return null;
  },

  // kong.nginx
  'kong.nginx.get_var': (s, _e, [name]) => nginxVar(s, str(name, 'variable name')),
  'kong.nginx.get_ctx': (s, _e, [k]) => s.ctx.ngxCtx.get(str(k, 'key')) ?? null,
  'kong.nginx.set_ctx': (s, _e, [k, v]) => { s.ctx.ngxCtx.set(str(k, 'key'), v); return null; },
  'kong.nginx.req_start_time': (s) => s.ctx.startedAt / 1000,
  'kong.nginx.get_subsystem': () => 'http',

  // kong.plugin, kong.node, kong.router
  'kong.plugin.get_id': (s) => s.pluginId,
  'kong.node.get_id': (_s, env) => env.nodeId,
  'kong.node.get_hostname': (_s, env) => env.hostname,
  'kong.router.get_route': (s) => entity(s.ctx.route),
  'kong.router.get_service': (s) => entity(s.ctx.service),
};

for (const level of ['debug', 'info', 'notice', 'warn', 'err', 'crit', 'alert', 'emerg']) {
  M[`kong.log.${level}`] = (s, env, args) => {
    env.log(s.plugin, level, args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(''));
    return null;
  };
}

function nginxVar(s: CallScope, name: string): unknown {
  const c = s.ctx;
  switch (name) {
    case 'kong_request_id': case 'request_id': return c.id;
    case 'request_uri': return c.client.rawUri;
    case 'uri': return c.clientPath;
    case 'args': return c.clientQuery || null;
    case 'request_method': return c.client.method;
    case 'upstream_uri': return c.upstreamUri;
    case 'upstream_scheme': return c.upstream.scheme;
    case 'upstream_host': return c.upstream.targetSet ? c.upstream.host : c.service.host;
    case 'remote_addr': case 'realip_remote_addr': return c.client.remoteAddress;
    case 'remote_port': return String(c.client.remotePort);
    case 'server_port': return String(c.client.port);
    case 'scheme': return c.client.scheme;
    case 'host': return c.client.host;
    case 'content_length': return String(c.client.body.length);
    case 'content_type': return c.client.headers.find(([n]) => n.toLowerCase() === 'content-type')?.[1] ?? null;
    default:
      if (name.startsWith('http_')) {
        const h = name.slice(5).replace(/_/g, '-');
        return c.client.headers.find(([n]) => n.toLowerCase() === h)?.[1] ?? null;
      }
      return null;
  }
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let o = target;
  for (const p of parts.slice(0, -1)) {
    const next = o[p];
    if (typeof next !== 'object' || next === null) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  const last = parts[parts.length - 1]!;
  if (value === null || value === undefined) delete o[last];
  else o[last] = structuredClone(value);
}

const REDACTED_HEADERS = new Set(['authorization', 'proxy-authorization']);

/** A subset of kong.log.serialize() with Kong's key names, merged with the set_serialize_value values. */
export function serializeForLog(ctx: RequestContext, _env: PdkEnv): Record<string, unknown> {
  const reqHeaders: Record<string, string | string[]> = {};
  for (const [n, v] of ctx.client.headers) {
    const k = n.toLowerCase();
    const val = REDACTED_HEADERS.has(k) ? 'REDACTED' : v;
    const prev = reqHeaders[k];
    reqHeaders[k] = prev === undefined ? val : Array.isArray(prev) ? [...prev, val] : [prev, val];
  }
  const respHeaders: Record<string, string> = {};
  for (const e of ctx.sent?.headers.values() ?? []) respHeaders[e.name.toLowerCase()] = e.values.join(', ');
  const now = Date.now();
  const out: Record<string, unknown> = {
    request: {
      uri: ctx.client.rawUri,
      url: `${ctx.client.scheme}://${ctx.client.host}:${ctx.client.port}${ctx.client.rawUri}`,
      querystring: Object.fromEntries(queryEntries(ctx.clientQuery).map((e) => [e.name, e.values.length ? e.values.join(',') : true])),
      method: ctx.client.method,
      headers: reqHeaders,
      size: ctx.client.body.length,
      id: ctx.id,
    },
    upstream_uri: ctx.upstreamUri,
    response: { status: ctx.sent?.status ?? null, headers: respHeaders, size: ctx.sent?.size ?? 0 },
    latencies: {
      request: now - ctx.startedAt,
      proxy: ctx.upstreamFirstByteAt ? ctx.upstreamFirstByteAt - ctx.upstreamStartedAt : -1,
      kong: ctx.upstreamStartedAt ? ctx.upstreamStartedAt - ctx.startedAt : now - ctx.startedAt,
    },
    tries: ctx.tries ? [{ ip: ctx.upstream.host, port: ctx.upstream.port }] : [],
    client_ip: ctx.client.remoteAddress,
    started_at: ctx.startedAt,
    route: { id: ctx.route.id, name: ctx.route.name, paths: ctx.route.paths },
    service: { id: ctx.service.id, name: ctx.service.name, host: ctx.service.host, port: ctx.service.port, protocol: ctx.service.protocol },
    source: ctx.exit ? 'kong' : 'upstream',
  };
  return deepMerge(out, ctx.serializeValues);
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(b)) {
    const cur = a[k];
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof cur === 'object' && cur !== null && !Array.isArray(cur)) {
      a[k] = deepMerge({ ...(cur as Record<string, unknown>) }, v as Record<string, unknown>);
    } else {
      a[k] = structuredClone(v);
    }
  }
  return a;
}

export type PdkOutcome = { kind: 'value'; value: unknown } | { kind: 'unknown' };

/**
 * Runs one PDK call as Kong's call_pdk_method does. Throws LuaError where Lua would raise.
 * Returns 'unknown' for a method Kong would not find (Kong logs it and replies nil).
 */
export function callPdk(scope: CallScope, env: PdkEnv, method: string, args: unknown[]): PdkOutcome {
  const fn = M[method];
  if (!fn) return { kind: 'unknown' };
  if (scope.phase === 'log' && !LOG_PHASE_METHODS.has(method)) {
    throw new LuaError('API disabled in the context of ngx.timer');
  }
  return { kind: 'value', value: fn(scope, env, args) };
}

export const KNOWN_PDK_METHODS: readonly string[] = Object.keys(M);
