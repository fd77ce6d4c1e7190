// A tiny raw msgpack client for a plugin server's unix socket, speaking exactly as Kong does: requests
// `[0, msgid, "plugin.<Method>", [param]]`, each in a single write (or deliberately split), one request in
// flight per connection, replies `[1, msgid, err, result]`. Plus a minimal Kong-like event driver.
import net = require('node:net');
import { decodeMultiStream, encode } from '@msgpack/msgpack';

export interface RpcReply {
  err: string | null;
  result: unknown;
}

export function encodeRequest(msgid: number, method: string, param: unknown): Buffer {
  return Buffer.from(encode([0, msgid, `plugin.${method}`, [param]]));
}

/** Where to cut a request into separate writes: offsets, or a function of the request's length. */
export type Cuts = readonly number[] | ((length: number) => readonly number[]);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class RawRpcClient {
  private msgid = 0;
  private readonly inbox: unknown[] = [];
  private readonly waiters: Array<{ resolve(v: unknown): void; reject(e: Error): void }> = [];
  private ended: Error | undefined;
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.read();
  }

  static connect(socketPath: string): Promise<RawRpcClient> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(socketPath);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawRpcClient(socket));
      });
    });
  }

  private async read(): Promise<void> {
    try {
      for await (const msg of decodeMultiStream(this.socket)) {
        const w = this.waiters.shift();
        if (w) w.resolve(msg);
        else this.inbox.push(msg);
      }
      this.fail(new Error('connection closed'));
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private fail(err: Error): void {
    this.ended = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  nextMsgId(): number {
    return ++this.msgid;
  }

  /** The next message from the server, whatever it is. */
  receive(timeoutMs = 15_000): Promise<unknown> {
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
    });
  }

  /** Pause between the pieces of a split write, so that the server reads them separately. */
  pauseMs = 2;

  /** Writes `bytes`, cut at the given offsets into separate writes with a pause between them. */
  async writeSplit(bytes: Uint8Array, cuts: Cuts = []): Promise<void> {
    const offsets = typeof cuts === 'function' ? cuts(bytes.length) : cuts;
    let from = 0;
    for (const cut of [...offsets, bytes.length]) {
      if (cut <= from || cut > bytes.length) continue;
      await new Promise<void>((resolve, reject) =>
        this.socket.write(bytes.subarray(from, cut), (err) => (err ? reject(err) : resolve())));
      from = cut;
      if (from < bytes.length) await sleep(this.pauseMs);
    }
  }

  /** One request, optionally split at `cuts`; checks the reply is `[1, msgid, ...]`. */
  async call(method: string, param: unknown, cuts: Cuts = []): Promise<RpcReply> {
    const msgid = this.nextMsgId();
    await this.writeSplit(encodeRequest(msgid, method, param), cuts);
    return checkReply(await this.receive(), msgid);
  }

  /** Like call() but throws on an error reply. */
  async ok(method: string, param: unknown, cuts: Cuts = []): Promise<unknown> {
    const r = await this.call(method, param, cuts);
    if (r.err !== null) throw new Error(`${method} failed: ${r.err}`);
    return r.result;
  }

  close(): void {
    this.socket.destroy();
  }
}

export function checkReply(msg: unknown, msgid: number): RpcReply {
  if (!Array.isArray(msg) || msg.length !== 4 || msg[0] !== 1 || msg[1] !== msgid) {
    throw new Error(`malformed reply for msgid ${msgid}: ${JSON.stringify(msg)}`);
  }
  const err = msg[2] as unknown;
  if (err !== null && typeof err !== 'string') throw new Error(`reply error is not a string: ${JSON.stringify(err)}`);
  return { err, result: msg[3] };
}

// --- a minimal Kong-like event driver -------------------------------------------------------------------

export interface PdkCall {
  Method: string;
  Args: unknown[];
}

export interface EventData {
  Data: unknown;
  EventId: number;
}

/** Kong's choice of Step method for the result of a PDK method (docs/kong-plugin-protocol.md §2.4). */
export function stepMethodFor(method: string): string {
  if (/\.(get_credential|authenticate)$/.test(method)) return 'StepCredential';
  if (/\.(get_consumer|load_consumer)$/.test(method)) return 'StepConsumer';
  if (method === 'kong.router.get_route') return 'StepRoute';
  if (method === 'kong.router.get_service') return 'StepService';
  if (method === 'kong.node.get_memory_stats') return 'StepMemoryStats';
  if (['kong.request.get_query', 'kong.request.get_headers', 'kong.response.get_headers',
    'kong.service.response.get_headers'].includes(method)) return 'StepMultiMap';
  return 'Step';
}

export function isPdkCall(v: unknown): v is PdkCall {
  return typeof v === 'object' && v !== null && typeof (v as PdkCall).Method === 'string' && Array.isArray((v as PdkCall).Args);
}

export function asEventData(v: unknown): EventData {
  if (typeof v !== 'object' || v === null || typeof (v as EventData).EventId !== 'number') {
    throw new Error(`not an event reply: ${JSON.stringify(v)}`);
  }
  return v as EventData;
}

export interface EventOutcome {
  eventId: number;
  calls: PdkCall[];
  /** 'ret', or the exit/error call that ended the event. */
  end: 'ret' | PdkCall;
}

/**
 * Runs one phase as Kong's bridge loop does: HandleEvent, then answer each PDK call with `answer(call)`
 * (undefined = no Data) until "ret" or an exit/error call (after which Kong never steps).
 */
export async function runEvent(
  client: RawRpcClient,
  instanceId: number,
  phase: string,
  answer: (call: PdkCall) => unknown,
  cutsFor: (method: string) => Cuts = () => [],
): Promise<EventOutcome> {
  const first = await client.ok('HandleEvent', { InstanceId: instanceId, EventName: phase }, cutsFor('HandleEvent'));
  return continueEvent(client, first, answer, cutsFor);
}

/** Continues an event from the result of its HandleEvent (see runEvent). */
export async function continueEvent(
  client: RawRpcClient,
  handleEventResult: unknown,
  answer: (call: PdkCall) => unknown,
  cutsFor: (method: string) => Cuts = () => [],
): Promise<EventOutcome> {
  let reply = asEventData(handleEventResult);
  const calls: PdkCall[] = [];
  for (;;) {
    const data = reply.Data;
    if (data === 'ret') return { eventId: reply.EventId, calls, end: 'ret' };
    if (!isPdkCall(data)) throw new Error(`unexpected event data ${JSON.stringify(data)}`);
    calls.push(data);
    if (data.Method === 'kong.response.exit' || data.Method === 'kong.response.error') {
      return { eventId: reply.EventId, calls, end: data };
    }
    const value = answer(data);
    const step = stepMethodFor(data.Method);
    const param = value === undefined ? { EventId: reply.EventId } : { EventId: reply.EventId, Data: value };
    reply = asEventData(await client.ok(step, param, cutsFor(step)));
  }
}
