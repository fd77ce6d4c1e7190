// Kong's side of one plugin-server RPC connection (kong/runloop/plugin_servers/rpc/mp_rpc.lua, Rpc:call):
// connect to the unix socket, send `[0, msgid, method, [param]]` in a single write, read until exactly
// one reply is decoded, check `[1, msgid]`, hand type-2 notifications to the caller, then keep the
// connection alive in a per-worker pool. One request in flight per connection, never pipelined. Lean,
// as Kong's is: decoding is synchronous and each connection has one timer, so the harness's own CPU
// per round trip stays near Kong's and does not skew what the benchmark measures.
import { connect, type Socket } from 'node:net';
import { Decoder, Encoder } from '@msgpack/msgpack';
import { MsgpackFramer } from '../../shared/plugin-server/msgpack-framer';

export class RpcTransportError extends Error {}

/** The error string a plugin server put in a reply: `[1, msgid, err, nil]`. */
export class RpcReplyError extends Error {}

export type Notification = (label: unknown, args: unknown) => void;

const encoder = new Encoder({ ignoreUndefined: false });
const decoder = new Decoder();

/**
 * One connection: messages are framed and decoded as they arrive (synchronously, as lua-MessagePack
 * unpacks what receiveany returns), and one timer per connection bounds each wait for a reply.
 */
class PooledConnection {
  private readonly framer = new MsgpackFramer();
  private readonly inbox: unknown[] = [];
  private waiter: { resolve(v: unknown): void; reject(e: Error): void } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private ended: RpcTransportError | undefined;
  closed = false;

  constructor(readonly socket: Socket, private readonly timeoutMs: number) {
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = this.framer.push(chunk);
      } catch (e) {
        this.fail(new RpcTransportError((e as Error).message));
        return;
      }
      for (const f of frames) {
        const msg = decoder.decode(f);
        const w = this.waiter;
        if (w) {
          this.waiter = undefined;
          w.resolve(msg);
        } else {
          this.inbox.push(msg);
        }
      }
    });
    socket.on('close', () => this.fail(new RpcTransportError('closed')));
    socket.on('error', (e) => this.fail(new RpcTransportError(e.message)));
  }

  private fail(e: RpcTransportError): void {
    this.closed = true;
    this.ended ??= e;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(this.ended);
  }

  /** The next message, within the timeout (the connection is dropped past it, as Kong's cosocket does). */
  next(): Promise<unknown> {
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.ended) return Promise.reject(this.ended);
    if (this.timer) this.timer.refresh();
    else {
      this.timer = setTimeout(() => {
        if (!this.waiter) return;
        this.fail(new RpcTransportError('timeout'));
        this.socket.destroy();
      }, this.timeoutMs);
      this.timer.unref();
    }
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject }; });
  }

  /** In the pool: closed if still unused after `ms`. */
  idleSince(ms: number): void {
    this.idleTimer = setTimeout(() => this.destroy(), ms);
    this.idleTimer.unref();
  }

  busy(): void {
    clearTimeout(this.idleTimer);
  }

  destroy(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.timer);
    this.closed = true;
    this.socket.destroy();
  }
}

/**
 * A worker's keepalive pool for one socket path: cosocket connect() takes an idle pooled connection
 * first (lua_socket_pool_size 256), and one idle for lua_socket_keepalive_timeout (60 s) is closed.
 */
export class RpcPool {
  private readonly idle: PooledConnection[] = [];
  private readonly all = new Set<PooledConnection>();

  constructor(readonly socketPath: string, readonly timeoutMs = 60_000, readonly maxIdle = 256,
    readonly keepaliveTimeoutMs = 60_000) {}

  private open(): Promise<PooledConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.socketPath);
      const onError = (err: Error) => reject(new RpcTransportError(`trying to connect: ${err.message}`));
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        const c = new PooledConnection(socket, this.timeoutMs);
        this.all.add(c);
        socket.on('close', () => this.all.delete(c));
        resolve(c);
      });
    });
  }

  private async take(): Promise<PooledConnection> {
    while (this.idle.length > 0) {
      const c = this.idle.pop()!;
      c.busy();
      if (!c.closed) return c;
    }
    return this.open();
  }

  private release(c: PooledConnection): void {
    if (!c.closed && this.idle.length < this.maxIdle) {
      this.idle.push(c);
      c.idleSince(this.keepaliveTimeoutMs);
    } else {
      c.destroy();
    }
  }

  /** One request/reply. Returns the result, throws RpcReplyError or RpcTransportError. */
  async call(msgid: number, method: string, params: unknown[], onNotification: Notification): Promise<unknown> {
    const conn = await this.take();
    let bytes: Uint8Array;
    try {
      bytes = encoder.encode([0, msgid, method, params]);
    } catch (e) {
      this.release(conn);
      throw e;
    }
    conn.socket.write(bytes);
    for (;;) {
      const msg = await conn.next();
      if (!Array.isArray(msg)) {
        conn.destroy();
        throw new RpcTransportError(`malformed reply: ${JSON.stringify(msg)}`);
      }
      if (msg[0] === 2) {
        onNotification(msg[1], msg[2]);
        continue;
      }
      // Kong asserts these; an assertion failure is a Lua error for the request.
      if (msg[0] !== 1) throw new RpcTransportError('RPC response expected from Go plugin server');
      if (msg[1] !== msgid) throw new RpcTransportError('unexpected RPC response ID from Go plugin server');
      this.release(conn);
      if (msg[2] !== null && msg[2] !== undefined) throw new RpcReplyError(String(msg[2]));
      return msg[3];
    }
  }

  close(): void {
    for (const c of this.all) c.destroy();
    this.all.clear();
    this.idle.length = 0;
  }
}
