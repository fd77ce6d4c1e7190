// How Kong's nginx proxies a request to its upstream once the access phase is done
// (kong/templates/nginx_kong.lua `location /` and @unbuffered, kong/runloop/handler.lua header_filter):
//  - the request: the upstream coordinates the plugins set, Host from set_target, the X-Forwarded-* and
//    X-Real-IP headers, X-Kong-Request-Id; nginx's proxy module clears Connection, Keep-Alive, TE,
//    Upgrade and Expect (it answers the client's `Expect: 100-continue` itself);
//  - the wait: proxy_read_timeout to the millisecond between two reads; a client that goes away is
//    noticed at once (nginx watches the client connection) and the upstream connection is closed;
//  - the response: the upstream's headers minus hop-by-hop ones, its Content-Length kept, nginx's
//    hidden X-Accel-* headers consumed, `Server` kept from the upstream or set to Kong's, `Via` and
//    Kong's latency headers added; the body buffered by proxy_buffering (on unless the route says
//    response_buffering: false, overridden by the upstream's X-Accel-Buffering) or passed on as it
//    arrives.
import type { ServerResponse } from 'node:http';
import { Agent, request as undiciRequest, type Dispatcher } from 'undici';
import { KONG_MESSAGES } from './kong-errors';
import type { HeaderEntry, RequestContext } from './request-context';

/** Request headers nginx never passes upstream (the proxy module's defaults and hop-by-hop ones). */
const NOT_SENT_UPSTREAM = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect',
  'content-length', 'host',
]);

/** Response headers nginx does not pass to the client: hop-by-hop, and proxy_hide_header's defaults. */
const NOT_PASSED_DOWNSTREAM = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'x-accel-expires', 'x-accel-redirect', 'x-accel-limit-rate', 'x-accel-buffering', 'x-accel-charset',
]);

/** One proxy buffer (proxy_buffer_size / proxy_buffers: one memory page on Linux x86-64). */
export const DEFAULT_PROXY_BUFFER_SIZE = 4096;

export interface ProxyEnv {
  kongVersion: string;
  proxyBufferSize: number;
  log(level: string, message: string): void;
  /** Kong's own error response (502, 504). */
  sendKongError(res: ServerResponse, status: number, message: string, ctx: RequestContext): void;
  /** Headers every response gets (plugins' kong.response.set_header, X-Kong-Request-Id). */
  responseHeaders(ctx: RequestContext, upstream: Map<string, HeaderEntry>): Record<string, string | string[]>;
}

/**
 * What to do with a whole buffered upstream response before it is sent (the `response` phase of the
 * plugins that have one): 'sent' when the plugins already answered.
 */
export type ResponsePhase = () => Promise<'continue' | 'sent'>;

export function toHeaderMap(h: Record<string, string | string[]>): Map<string, HeaderEntry> {
  const m = new Map<string, HeaderEntry>();
  for (const [k, v] of Object.entries(h)) m.set(k.toLowerCase(), { name: k, values: Array.isArray(v) ? v : [v] });
  return m;
}

export class UpstreamProxy {
  private readonly agents = new Map<string, Agent>();

  constructor(private readonly env: ProxyEnv) {}

  private agentFor(connectMs: number, tlsVerify: boolean): Agent {
    const key = `${connectMs}:${tlsVerify}`;
    let a = this.agents.get(key);
    if (!a) {
      a = new Agent({ connect: { timeout: connectMs, rejectUnauthorized: tlsVerify }, keepAliveTimeout: 60_000 });
      this.agents.set(key, a);
    }
    return a;
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.close()));
  }

  private upstreamHeaders(ctx: RequestContext): Record<string, string | string[]> {
    const up = ctx.upstream;
    const hostHeader = up.targetSet || (up.port === 80 && up.scheme === 'http') || (up.port === 443 && up.scheme === 'https')
      ? up.host : `${up.host}:${up.port}`;
    const headers: Record<string, string | string[]> = {};
    for (const [k, e] of up.headers) {
      if (NOT_SENT_UPSTREAM.has(k)) continue;
      headers[k] = e.values.length === 1 ? e.values[0]! : e.values;
    }
    const clientHost = ctx.client.headers.find(([n]) => n.toLowerCase() === 'host')?.[1] ?? '';
    headers.host = ctx.route.preserve_host && !up.targetSet ? clientHost : hostHeader;
    headers['x-forwarded-for'] = ctx.client.remoteAddress;
    headers['x-forwarded-proto'] = ctx.client.scheme;
    headers['x-forwarded-host'] = ctx.client.host;
    headers['x-forwarded-port'] = String(ctx.client.port);
    headers['x-forwarded-path'] = ctx.clientPath;
    headers['x-real-ip'] = ctx.client.remoteAddress;
    // Kong 3.5+ default `headers_upstream = X-Kong-Request-Id`: the request id travels upstream.
    headers['x-kong-request-id'] = ctx.id;
    return headers;
  }

  /**
   * Proxies the request and writes the answer. `responsePhase` set: Kong.response() buffers the whole
   * answer and runs the plugins' response phase before anything is sent.
   */
  async proxy(res: ServerResponse, ctx: RequestContext, responsePhase: ResponsePhase | undefined): Promise<void> {
    const up = ctx.upstream;
    const headers = this.upstreamHeaders(ctx);
    const hasBody = up.body.length > 0 || !['GET', 'HEAD'].includes(up.method);
    if (hasBody) headers['content-length'] = String(up.body.length);
    const url = `${up.scheme}://${up.host.includes(':') ? `[${up.host}]` : up.host}:${up.port}${ctx.upstreamUri}`;

    ctx.upstreamStartedAt = Date.now();
    ctx.tries = 1;
    // nginx's proxy_read_timeout, to the millisecond, between two reads (the headers are the first):
    // undici's own timeouts tick every half second and may fire that much early or late, so they are
    // only a backstop here.
    const abort = new AbortController();
    let readTimedOut = false;
    let clientGone = false;
    let upstreamBody: Dispatcher.ResponseData['body'] | undefined;
    const cancel = (reason: string): void => {
      if (upstreamBody) upstreamBody.destroy(new Error(reason));
      else abort.abort();
    };
    const readTimer = setTimeout(() => { readTimedOut = true; cancel('upstream timed out (proxy_read_timeout)'); }, up.timeouts.read);
    // nginx notices a client that closes its connection at once, and closes the upstream one.
    const onClientClose = (): void => {
      if (res.writableFinished) return;
      clientGone = true;
      cancel('client closed the connection');
    };
    res.once('close', onClientClose);
    const done = (): void => {
      clearTimeout(readTimer);
      res.off('close', onClientClose);
    };
    if (res.destroyed) onClientClose();

    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await undiciRequest(url, {
        method: up.method as Dispatcher.HttpMethod,
        headers,
        body: hasBody ? up.body : undefined,
        dispatcher: this.agentFor(up.timeouts.connect, up.tlsVerify ?? true),
        headersTimeout: up.timeouts.read + 1000,
        bodyTimeout: up.timeouts.read + 1000,
        signal: abort.signal,
      });
      upstreamBody = upstream.body;
      readTimer.refresh();
    } catch (e) {
      done();
      if (clientGone) {
        ctx.sent = { status: 499, headers: new Map(), size: 0 };
        return;
      }
      const code = readTimedOut ? 'UND_ERR_HEADERS_TIMEOUT' : (e as { code?: string }).code ?? '';
      const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
      this.env.log('error', `upstream ${url.split('?')[0]}: ${code || (e as Error).message}`);
      const status = timedOut ? 504 : 502;
      this.env.sendKongError(res, status, timedOut ? KONG_MESSAGES.timeout : KONG_MESSAGES.badGateway, ctx);
      return;
    }
    ctx.upstreamFirstByteAt = Date.now();
    const upHeaders = new Map<string, HeaderEntry>();
    for (const [k, v] of Object.entries(upstream.headers)) {
      if (v === undefined) continue;
      upHeaders.set(k, { name: k, values: Array.isArray(v) ? v : [v] });
    }
    ctx.upstreamResponse = { status: upstream.statusCode, headers: upHeaders, body: undefined };

    if (responsePhase) {
      // Kong.response(): the whole upstream body first, then the response phase, then one print.
      clearTimeout(readTimer); // buffered: undici's timeout (coarse) is the only one here
      let body: Buffer;
      try {
        body = Buffer.from(await upstream.body.arrayBuffer());
      } catch (e) {
        done();
        if (clientGone) { ctx.sent = { status: 499, headers: new Map(), size: 0 }; return; }
        this.env.log('error', `upstream body: ${(e as Error).message}`);
        this.env.sendKongError(res, 502, KONG_MESSAGES.badGateway, ctx);
        return;
      }
      done();
      ctx.upstreamResponse.body = body;
      if (await responsePhase() === 'sent') return;
      const out = this.clientHeaders(ctx, upHeaders);
      delete out['Content-Length'];
      delete out['content-length'];
      out['Content-Length'] = String(body.length);
      res.writeHead(ctx.downstreamStatus ?? upstream.statusCode, out);
      res.end(body);
      ctx.sent = { status: ctx.downstreamStatus ?? upstream.statusCode, headers: toHeaderMap(out), size: body.length };
      return;
    }

    const out = this.clientHeaders(ctx, upHeaders);
    const status = ctx.downstreamStatus ?? upstream.statusCode;
    const accel = upHeaders.get('x-accel-buffering')?.values[0]?.toLowerCase();
    const buffering = accel === 'yes' ? true : accel === 'no' ? false : ctx.route.response_buffering;
    res.socket?.setNoDelay(true);
    res.writeHead(status, out);
    res.flushHeaders();
    let size = 0;
    const pending: Buffer[] = [];
    let pendingBytes = 0;
    const write = async (chunk: Buffer): Promise<void> => {
      if (!res.write(chunk)) await new Promise((r) => { res.once('drain', r); res.once('close', r); });
    };
    try {
      for await (const chunk of upstream.body) {
        readTimer.refresh();
        const b = chunk as Buffer;
        size += b.length;
        if (!buffering) {
          await write(b);
          continue;
        }
        // proxy_buffering: bytes wait in the proxy buffers until one is full or the upstream is done.
        pending.push(b);
        pendingBytes += b.length;
        if (pendingBytes >= this.env.proxyBufferSize) {
          await write(Buffer.concat(pending));
          pending.length = 0;
          pendingBytes = 0;
        }
      }
      if (pendingBytes > 0) await write(Buffer.concat(pending));
      res.end();
    } catch (e) {
      if (!clientGone) {
        // nginx cuts the client connection when the upstream breaks mid-body.
        this.env.log('error', `upstream body: ${(e as Error).message}`);
        res.destroy();
      }
    } finally {
      done();
    }
    ctx.sent = { status: clientGone ? 499 : status, headers: toHeaderMap(out), size };
  }

  /** The response headers Kong's header_filter gives a proxied answer. */
  private clientHeaders(ctx: RequestContext, upHeaders: Map<string, HeaderEntry>): Record<string, string | string[]> {
    const passed = new Map([...upHeaders].filter(([k]) => !NOT_PASSED_DOWNSTREAM.has(k)));
    // A Content-Length goes on as nginx passes it; without one (chunked upstream) the client gets chunks.
    const out = this.env.responseHeaders(ctx, passed);
    out['X-Kong-Upstream-Latency'] = String(ctx.upstreamFirstByteAt - ctx.upstreamStartedAt);
    out['X-Kong-Proxy-Latency'] = String(ctx.upstreamStartedAt - ctx.startedAt);
    const via = upHeaders.get('via')?.values.join(', ');
    out.Via = via ? `${via}, 1.1 kong/${this.env.kongVersion}` : `1.1 kong/${this.env.kongVersion}`;
    delete out.via;
    // The upstream's Server passes (proxy_pass_header Server); without one, Kong sets its own.
    if (!upHeaders.has('server')) out.Server = `kong/${this.env.kongVersion}`;
    return out;
  }
}
