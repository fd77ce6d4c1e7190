// The unix-socket side: accepts Kong's connections, frames and decodes requests, dispatches them, and
// writes `[1, msgid, err, result]` replies. Replaces kong-pdk's listener.js, which died on split or
// coalesced messages (docs/kong-plugin-protocol.md §5.1), had no 'error' listener on sockets (§5.2)
// and let anything on the Server object be called by name.
//
// Per connection: one MsgpackFramer (streaming, linear in the input), an 'error' listener (ECONNRESET
// and EPIPE are routine when Kong closes a connection that still has an unread reply), and replies are
// dropped once the socket can no longer be written. A malformed message gets an error reply when its
// msgid can be recovered; otherwise, or when the byte stream itself is invalid, that connection is
// closed. Nothing here lets one connection take the process down.
//
// The socket path is shared between generations: on `kong reload` the next generation's server starts
// on the same path while this one still runs, and this one gets SIGTERM seconds later. So the path is
// taken over atomically (bind under a private name, rename) and given up only while it is still ours.
import fs = require('node:fs');
import net = require('node:net');
import path = require('node:path');
import { randomBytes } from 'node:crypto';
import { MsgpackFramer, DEFAULT_MAX_FRAME_BYTES } from './msgpack-framer';
import { decodeMessage, encodeResponse, errorText } from './rpc-codec';
import { errorMessage, type Logger } from './logger';

export interface RpcDispatcher {
  hasRpcMethod(name: string): boolean;
  callRpc(name: string, params: readonly unknown[]): Promise<unknown>;
}

export interface RpcListenerOptions {
  socketPath: string;
  dispatcher: RpcDispatcher;
  logger: Logger;
  /** Largest accepted request, in bytes (default 1 GiB). */
  maxMessageBytes?: number;
}

const NAMESPACE = 'plugin';
const ROUTINE_SOCKET_ERRORS: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Longest unix socket path Linux accepts (sun_path is 108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH_BYTES = 107;

/** A name of this process's own beside `socketPath`, or undefined if it would be too long. */
function stagingPath(socketPath: string): string | undefined {
  const dir = path.dirname(socketPath);
  const p = path.join(dir, `.${path.basename(socketPath)}.${process.pid}.${randomBytes(3).toString('hex')}`);
  return Buffer.byteLength(p) <= MAX_SOCKET_PATH_BYTES ? p : undefined;
}

export class RpcListener {
  private server: net.Server | undefined;
  /** The socket file this listener created, to tell it from a later server's at the same path. */
  private owned: { dev: number; ino: number; boundInPlace: boolean } | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly logger: Logger;
  private readonly maxMessageBytes: number;
  private nextConnectionId = 1;

  constructor(private readonly options: RpcListenerOptions) {
    this.logger = options.logger;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  get socketPath(): string {
    return this.options.socketPath;
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  /**
   * Listens on the socket path. The socket is bound under a name of this process's own in the same
   * directory and then renamed over the path: a server already listening there (the previous
   * generation during `kong reload`) keeps serving until the rename, and Kong never finds the path
   * missing. Rejects if listening fails (e.g. EACCES).
   */
  async listen(): Promise<void> {
    const socketPath = this.options.socketPath;
    const staging = stagingPath(socketPath);
    const bindPath = staging ?? socketPath;
    if (staging === undefined) {
      // No room for a private name (unix socket paths are limited to 107 bytes): bind in place.
      try {
        fs.unlinkSync(socketPath);
        this.logger.debug(`removed stale socket ${socketPath}`);
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') throw err;
      }
    }
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        server.off('listening', onListening);
        reject(err);
      };
      const onListening = (): void => {
        server.off('error', onError);
        server.on('error', (err) => this.logger.error(`socket server error: ${errorMessage(err)}`));
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(bindPath);
    });
    try {
      if (staging !== undefined) fs.renameSync(staging, socketPath);
      const st = fs.statSync(socketPath);
      this.owned = { dev: st.dev, ino: st.ino, boundInPlace: staging === undefined };
    } catch (err) {
      server.close();
      throw err;
    }
    this.server = server;
  }

  /** True while the socket path is still the one this listener created (not replaced by another server). */
  ownsSocketPath(): boolean {
    if (!this.owned) return false;
    try {
      const st = fs.statSync(this.options.socketPath);
      return st.dev === this.owned.dev && st.ino === this.owned.ino;
    } catch {
      return false;
    }
  }

  /**
   * Stops accepting connections; established ones keep being served. The socket path is unlinked only
   * while it is still ours: after a reload it belongs to the next generation's server.
   */
  stopAccepting(): void {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const ours = this.ownsSocketPath();
    // libuv unlinks the path a server was bound to when it closes. Bound under our private name, that
    // name is gone since the rename; bound in place, closing would unlink another server's socket.
    if (ours || !this.owned?.boundInPlace) {
      server.close();
      server.on('error', () => undefined);
    }
    if (ours) {
      try {
        fs.unlinkSync(this.options.socketPath);
      } catch {
        // already gone
      }
    }
    this.owned = undefined;
  }

  /** Stops accepting, drops every connection, and unlinks the socket path if it is still ours. */
  close(): void {
    this.stopAccepting();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private accept(socket: net.Socket): void {
    const connId = this.nextConnectionId++;
    const framer = new MsgpackFramer(this.maxMessageBytes);
    this.sockets.add(socket);
    socket.on('error', (err) => {
      const code = errorCode(err);
      if (code !== undefined && ROUTINE_SOCKET_ERRORS.has(code)) {
        this.logger.debug(`connection ${connId}: ${code}`);
      } else {
        this.logger.warn(`connection ${connId}: socket error: ${errorMessage(err)}`);
      }
    });
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (framer.hasPartialFrame) {
        this.logger.debug(`connection ${connId} closed with ${framer.bufferedBytes} bytes of an incomplete message`);
      }
    });
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = framer.push(chunk);
      } catch (err) {
        this.logger.warn(`connection ${connId}: ${errorMessage(err)}; closing the connection`);
        framer.reset();
        socket.destroy();
        return;
      }
      for (const frame of frames) this.handleFrame(socket, connId, frame);
    });
  }

  private handleFrame(socket: net.Socket, connId: number, frame: Buffer): void {
    const msg = decodeMessage(frame);
    if (msg.kind === 'notification') {
      this.logger.debug(`connection ${connId}: ignoring a non-request message`);
      return;
    }
    if (msg.kind === 'invalid') {
      if (msg.msgid === undefined) {
        this.logger.warn(`connection ${connId}: ${msg.reason}; closing the connection`);
        socket.destroy();
      } else {
        this.logger.warn(`connection ${connId}: rpc #${msg.msgid}: ${msg.reason}`);
        this.reply(socket, msg.msgid, 'request', msg.reason, undefined);
      }
      return;
    }

    const { msgid, method, params } = msg;
    const dot = method.indexOf('.');
    const ns = dot < 0 ? method : method.slice(0, dot);
    const cmd = dot < 0 ? '' : method.slice(dot + 1);
    if (this.logger.isEnabled('debug')) {
      this.logger.debug(`connection ${connId}: rpc #${msgid} ${method} (${frame.length} bytes)`);
    }
    if (ns !== NAMESPACE) {
      this.reply(socket, msgid, method, `RPC for ${ns} is not supported`, undefined);
      return;
    }
    if (!this.options.dispatcher.hasRpcMethod(cmd)) {
      const err = `method ${cmd} not implemented`;
      this.logger.warn(`rpc #${msgid}: ${err}`);
      this.reply(socket, msgid, method, err, undefined);
      return;
    }

    let pending: Promise<unknown>;
    try {
      pending = this.options.dispatcher.callRpc(cmd, params);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (result) => this.reply(socket, msgid, method, undefined, result),
      (err: unknown) => {
        const text = errorText(err);
        // "no plugin instance" is routine (Kong restarts the instance); other failures deserve a look.
        if (text.startsWith('no plugin instance')) this.logger.debug(`rpc #${msgid} ${method} failed: ${text}`);
        else this.logger.warn(`rpc #${msgid} ${method} failed: ${text}`);
        this.reply(socket, msgid, method, text, undefined);
      },
    );
  }

  private reply(socket: net.Socket, msgid: number, method: string, err: string | undefined, result: unknown): void {
    let bytes: Uint8Array;
    try {
      bytes = encodeResponse(msgid, err, result);
    } catch (encodeErr) {
      const text = `cannot encode the reply to ${method}: ${errorMessage(encodeErr)}`;
      this.logger.error(`rpc #${msgid}: ${text}`);
      bytes = encodeResponse(msgid, text, undefined);
    }
    if (socket.destroyed || !socket.writable) {
      this.logger.debug(`rpc #${msgid} ${method}: connection gone, reply of ${bytes.length} bytes dropped`);
      return;
    }
    if (this.logger.isEnabled('debug')) {
      this.logger.debug(`rpc #${msgid} ${method}: ${err === undefined ? 'reply' : 'error reply'} of ${bytes.length} bytes`);
    }
    socket.write(bytes);
  }
}
