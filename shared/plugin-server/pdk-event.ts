// One event: one phase of one request, running one plugin instance. It replaces kong-pdk's PipePair
// between the RPC side (HandleEvent / Step* from Kong) and the plugin side (kong-pdk's PDK proxy), and
// fixes what that pipe got wrong (docs/kong-plugin-protocol.md §2.3, §5.3–5.5, §5.10):
//
//  - kong.response.exit / kong.response.error end the event: Kong never steps again after them, so the
//    event is closed (and removed from the server's map) as soon as the call is handed to Kong, and any
//    PDK call the plugin makes afterwards rejects at once with a "protocol violation" error.
//  - a phase that throws or rejects before exiting answers 500 through kong.response.exit (fail closed)
//    in phases where Kong allows exit; elsewhere (log) it is only logged.
//  - an event Kong stops stepping is abandoned after a TTL: removed, and pending PDK calls rejected.
//  - PDK arguments are encoded when the call is made, so an unencodable argument (a function, a BigInt)
//    rejects that call in the plugin instead of breaking the reply to Kong.
//  - `await kong.request` (which calls `kong.request.then(resolve, reject)` through the proxy) rejects
//    with a TypeError instead of sending an RPC with function arguments and hanging.
import type { KongInstance, PdkPipe } from './kong-pdk';
import { encodeValue } from './rpc-codec';
import { errorMessage, errorStack, type Logger } from './logger';

export const MSG_RET = 'ret';

/** Methods after which Kong never sends another Step for the event (pdk.js: NON_RETURN_METHODS). */
export const TERMINAL_METHODS: ReadonlySet<string> = new Set(['kong.response.exit', 'kong.response.error']);

/** Phases in which an exception answers 500 through kong.response.exit. */
export const FAIL_CLOSED_PHASES: ReadonlySet<string> = new Set(['access', 'rewrite', 'response', 'certificate', 'preread']);

/** Phases in which Kong does not allow kong.response.exit / error at all. */
export const NO_EXIT_PHASES: ReadonlySet<string> = new Set(['log']);

export const INTERNAL_ERROR_STATUS = 500;
export const INTERNAL_ERROR_HEADERS: Readonly<Record<string, string>> = { 'Content-Type': 'application/json' };

/** The body of the 500 sent when a phase throws: never the exception text, which may hold secrets. */
export function internalErrorBody(pluginName: string): string {
  return JSON.stringify({
    error: { message: `An unexpected error occurred in plugin ${pluginName}`, type: 'server_error' },
  });
}

export interface PdkCall {
  Method: string;
  Args: unknown[];
}

export type EventOutput =
  | { readonly kind: 'call'; readonly call: PdkCall; readonly encoded: Uint8Array }
  | { readonly kind: 'ret' }
  | { readonly kind: 'abandoned' };

/**
 * running:   the phase runs; PDK calls go to Kong
 * exiting:   the plugin called exit/error (or failed closed); that call waits to be handed to Kong
 * returning: the phase returned; "ret" waits to be handed to Kong
 * closed:    finished (exit or ret handed over) or abandoned
 */
export type EventState = 'running' | 'exiting' | 'returning' | 'closed';
export type CloseReason = 'ret' | 'exit' | 'abandoned';

/** What an event needs from the server that owns it. */
export interface EventHost {
  readonly logger: Logger;
  /** The event is finished or abandoned: forget it. */
  eventClosed(event: PluginEvent, reason: CloseReason): void;
  /** A PDK call after the event ended (already logged by the event). */
  protocolViolation(event: PluginEvent, method: string): void;
  /** A phase threw or rejected (already logged by the event). */
  phaseError(event: PluginEvent): void;
  /** Returns true the first time a plugin/method pair is reported (to log a diagnostic once). */
  firstArgumentHole(event: PluginEvent, method: string): boolean;
}

interface PendingCall {
  readonly method: string;
  resolve(value: readonly [unknown, unknown]): void;
  reject(err: Error): void;
}

const IMMEDIATE_NONE: readonly [unknown, unknown] = [undefined, undefined];

export class PluginEvent {
  private stateValue: EventState = 'running';
  private closeReason: CloseReason | undefined;
  /** The terminal call (exit/error) that ended the event, if any. */
  private terminal: string | undefined;
  /** Outputs waiting for Kong to ask (HandleEvent / Step). */
  private readonly outbox: EventOutput[] = [];
  /** Kong's request waiting for the next output. */
  private waiter: ((out: EventOutput) => void) | undefined;
  /** PDK calls handed to Kong (or queued), waiting for their Step data, oldest first. */
  private pending: PendingCall[] = [];
  /** The method of the newest PDK call. */
  private lastMethod = 'a PDK call';
  /** A result for the very next get() (set by put() when the call is answered locally). */
  private immediate: (readonly [unknown, unknown]) | undefined;
  private lastActivityMs: number = Date.now();
  readonly startedAtMs: number = this.lastActivityMs;

  /** The pipe kong-pdk's PDK class talks through. */
  readonly pipe: PdkPipe = {
    put: (value: unknown): void => this.put(value),
    get: (): Promise<readonly [unknown, unknown]> => this.get(),
  };

  constructor(
    readonly id: number,
    readonly instanceId: number,
    readonly pluginName: string,
    readonly phase: string,
    private readonly host: EventHost,
  ) {}

  get state(): EventState {
    return this.stateValue;
  }

  /** Milliseconds since the epoch of the last HandleEvent/Step activity. */
  get lastActivity(): number {
    return this.lastActivityMs;
  }

  /** Runs the phase on the next turn of the event loop (as kong-pdk does, to keep RPC I/O flowing). */
  start(instance: KongInstance, kong: unknown): void {
    setImmediate(() => {
      void this.run(instance, kong);
    });
  }

  /** The next output for Kong: a PDK call, "ret", or 'abandoned'. One request may wait at a time. */
  next(): Promise<EventOutput> {
    this.lastActivityMs = Date.now();
    const queued = this.outbox.shift();
    if (queued !== undefined) {
      this.delivered(queued);
      return Promise.resolve(queued);
    }
    if (this.stateValue === 'closed') return Promise.resolve({ kind: 'abandoned' });
    if (this.waiter !== undefined) {
      return Promise.reject(new Error(`event ${this.id} already has a request in flight`));
    }
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /**
   * Step data from Kong for the oldest PDK call in flight. Returns false if no call is waiting for data
   * (Kong stepped an event that did not ask anything).
   */
  supply(data: unknown, isError: boolean): boolean {
    this.lastActivityMs = Date.now();
    const call = this.pending.shift();
    if (call === undefined) return false;
    call.resolve(isError ? [undefined, data] : [data, undefined]);
    return true;
  }

  /** Kong stopped stepping: drop the event and unwind the plugin's pending PDK calls. */
  abandon(idleSeconds: number): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    this.closeReason = 'abandoned';
    this.outbox.length = 0;
    const calls = this.pending;
    this.pending = [];
    for (const call of calls) {
      call.reject(new Error(
        `event ${this.id} abandoned: Kong sent no Step for ${Math.round(idleSeconds)} s, ` +
        `so ${call.method} will never be answered`));
    }
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter !== undefined) waiter({ kind: 'abandoned' });
    this.host.eventClosed(this, 'abandoned');
  }

  // --- plugin side ---------------------------------------------------------------------------------

  private put(value: unknown): void {
    const { Method, Args } = (value ?? {}) as { Method?: unknown; Args?: unknown };
    const method = typeof Method === 'string' ? Method : String(Method);
    const args = Array.isArray(Args) ? (Args as unknown[]) : [];

    if (method.endsWith('.then') && typeof args[0] === 'function') {
      // `await kong.request` / `return kong` from an async function: the PDK proxy looks thenable.
      const reject = args[1];
      const err = new TypeError(
        `${method.slice(0, -'.then'.length)} is a PDK namespace, not a promise: do not await it or return it from an async function`);
      if (typeof reject === 'function') (reject as (e: unknown) => void)(err);
      this.immediate = IMMEDIATE_NONE;
      return;
    }

    if (this.stateValue !== 'running') throw this.lateCall(method);
    this.lastMethod = method;

    const terminal = TERMINAL_METHODS.has(method);
    if (terminal && NO_EXIT_PHASES.has(this.phase)) {
      this.host.logger.error(
        `plugin ${this.pluginName} called ${method} in the ${this.phase} phase (instance #${this.instanceId}, ` +
        `event ${this.id}); Kong does not allow it there, the call is refused`);
      throw new Error(`${method} cannot be called in the ${this.phase} phase: the response has already been sent`);
    }

    this.checkArgumentHoles(method, args);
    const call: PdkCall = { Method: method, Args: args };
    let encoded: Uint8Array;
    try {
      encoded = encodeValue(call);
    } catch (err) {
      throw new TypeError(`cannot send ${method} to Kong: an argument cannot be encoded as msgpack (${errorMessage(err)})`);
    }
    if (terminal) {
      this.stateValue = 'exiting';
      this.terminal = method;
    }
    this.emit({ kind: 'call', call, encoded });
  }

  private get(): Promise<readonly [unknown, unknown]> {
    const immediate = this.immediate;
    if (immediate !== undefined) {
      this.immediate = undefined;
      return Promise.resolve(immediate);
    }
    // pdk.js calls put() and then get() synchronously, so the newest call is the one being awaited.
    const method = this.lastMethod;
    return new Promise((resolve, reject) => {
      this.pending.push({ method, resolve, reject });
    });
  }

  private lateCall(method: string): Error {
    if (this.closeReason === 'abandoned') {
      return new Error(`event ${this.id} was abandoned (Kong stopped stepping it); ${method} cannot be sent`);
    }
    const after = this.terminal !== undefined
      ? `after ${this.terminal} ended the request`
      : `after the ${this.phase} phase returned`;
    this.host.logger.error(
      `protocol violation: plugin ${this.pluginName} called ${method} ${after} ` +
      `(phase ${this.phase}, instance #${this.instanceId}, event ${this.id}); the call is rejected`);
    this.host.protocolViolation(this, method);
    return new Error(`protocol violation: ${method} called ${after}; Kong sends no further Step for this event`);
  }

  private checkArgumentHoles(method: string, args: readonly unknown[]): void {
    // lua-MessagePack leaves a nil in the middle of Args and Lua's `#` may stop there, so the
    // arguments after it can be lost (docs/kong-plugin-protocol.md §2.5). Tell the plugin author once per
    // method.
    let sawHole = false;
    for (let k = 0; k < args.length; k++) {
      if (args[k] === undefined) sawHole = true;
      else if (sawHole) {
        if (this.host.firstArgumentHole(this, method)) {
          this.host.logger.warn(
            `plugin ${this.pluginName} passed undefined before argument ${k + 1} of ${method}; ` +
            `Kong may drop the arguments after it (pass "" or null instead)`);
        }
        return;
      }
    }
  }

  private async run(instance: KongInstance, kong: unknown): Promise<void> {
    try {
      await instance.executePhase(this.phase, kong);
    } catch (err) {
      this.failed(err);
    }
    if (this.stateValue === 'running') {
      this.stateValue = 'returning';
      this.emit({ kind: 'ret' });
    }
  }

  private failed(err: unknown): void {
    const where = `plugin ${this.pluginName} phase ${this.phase} (instance #${this.instanceId}, event ${this.id})`;
    this.host.phaseError(this);
    if (this.stateValue === 'running' && FAIL_CLOSED_PHASES.has(this.phase)) {
      this.host.logger.error(`unhandled exception in ${where}; answering ${INTERNAL_ERROR_STATUS}: ${errorStack(err)}`);
      const call: PdkCall = {
        Method: 'kong.response.exit',
        Args: [INTERNAL_ERROR_STATUS, internalErrorBody(this.pluginName), { ...INTERNAL_ERROR_HEADERS }],
      };
      this.stateValue = 'exiting';
      this.terminal = call.Method;
      this.emit({ kind: 'call', call, encoded: encodeValue(call) });
    } else if (this.stateValue === 'running') {
      this.host.logger.error(`unhandled exception in ${where}: ${errorStack(err)}`);
    } else {
      this.host.logger.error(`unhandled exception in ${where} after the response was handed to Kong: ${errorStack(err)}`);
    }
  }

  // --- hand-over -----------------------------------------------------------------------------------

  private emit(out: EventOutput): void {
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      this.delivered(out);
      waiter(out);
    } else {
      this.outbox.push(out);
    }
  }

  /** `out` is being handed to Kong. */
  private delivered(out: EventOutput): void {
    this.lastActivityMs = Date.now();
    if (out.kind === 'ret') {
      this.close('ret');
    } else if (out.kind === 'call' && TERMINAL_METHODS.has(out.call.Method)) {
      this.close('exit');
    }
  }

  private close(reason: CloseReason): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    this.closeReason = reason;
    // Calls still waiting for data can never be answered now (the plugin fired them without awaiting
    // and exited/returned before Kong answered them all: not possible while Kong answers in order, but
    // cheap to guard).
    const calls = this.pending;
    this.pending = [];
    for (const call of calls) {
      call.reject(new Error(`protocol violation: ${call.method} was not answered before the event ended`));
    }
    this.host.eventClosed(this, reason);
  }

  /** Seconds this event has been idle, for the TTL sweep. */
  idleSeconds(nowMs: number = Date.now()): number {
    return (nowMs - this.lastActivityMs) / 1000;
  }
}
