// The unix-socket side: accepts Kong's connections, frames and decodes requests, dispatches them, and
// writes `[1, msgid, err, result]` replies. Replaces kong-pdk's listener.js, which died on split or
// coalesced messages (§5.1), had no 'error' listener on sockets (§5.2) and let anything on the Server
// object be called by name.
//
// Per connection: one MsgpackFramer (streaming, linear in the input), an 'error' listener (ECONNRESET
// and EPIPE are routine when Kong closes a connection that still has an unread reply), and replies are
// dropped once the socket can no longer be written. A malformed message gets an error reply when its
// msgid can be recovered; otherwise, or when the byte stream itself is invalid, that connection is
// closed. Nothing here lets one connection take the process down.
import fs = require('node:fs');
import net = require('node:net');
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

export class RpcListener {
  private server: net.Server | undefined;
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

  /** Unlinks a stale socket file and listens. Rejects if listening fails (e.g. EACCES). */
  listen(): Promise<void> {
    const socketPath = this.options.socketPath;
    try {
      fs.unlinkSync(socketPath);
      this.logger.debug(`removed stale socket ${socketPath}`);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') return Promise.reject(err);
    }
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
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
      server.listen(socketPath);
    });
  }

  /** Stops listening, drops every connection and unlinks the socket file. Synchronous. */
  close(): void {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.close();
      server.on('error', () => undefined);
    }
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    try {
      fs.unlinkSync(this.options.socketPath);
    } catch {
      // already gone
    }
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
