// msgpack encoding and decoding of the MsgPack:1 RPC messages (docs/kong-plugin-protocol.md §2.1):
//   request  (Kong → server)  [0, msgid, "plugin.<Method>", [param, ...]]
//   response (server → Kong)  [1, msgid, error string | nil, result | nil]
import { Decoder, Encoder, type DecoderOptions } from '@msgpack/msgpack';

export const MSG_REQUEST = 0;
export const MSG_RESPONSE = 1;
export const MSG_NOTIFY = 2;

/**
 * Symbol under which an event reply ({Data, EventId}) carries its Data already encoded. PDK calls are
 * encoded when the plugin makes them (so that an unencodable argument rejects the plugin's own promise
 * instead of failing the reply to Kong); the reply then splices those bytes in instead of encoding the
 * call a second time. Symbol-keyed, so msgpack ignores it when an event reply is encoded normally.
 */
export const ENCODED_DATA: unique symbol = Symbol('encodedData');

export interface EventReply {
  Data: unknown;
  EventId: number;
  [ENCODED_DATA]?: Uint8Array;
}

// Map keys Kong can send that @msgpack/msgpack refuses by default. Lua tables may have boolean keys,
// and "__proto__" can arrive from a client (a query argument or JSON body key): refusing the whole
// message would leave the plugin's PDK call hanging and the request unprotected (fail-open), so keys
// that are not strings or numbers become strings, and "__proto__" arrives as " __proto__".
const PROTO_KEY = '__proto__';
export const RENAMED_PROTO_KEY = ' __proto__';
const PROTO_BYTES = Buffer.from(PROTO_KEY, 'latin1');

const keyDecoder = {
  canBeCached: (byteLength: number): boolean => byteLength === PROTO_BYTES.length,
  decode(bytes: Uint8Array, offset: number, byteLength: number): string {
    const key = Buffer.from(bytes.buffer, bytes.byteOffset + offset, byteLength).toString('utf8');
    return key === PROTO_KEY ? RENAMED_PROTO_KEY : key;
  },
};

const DECODER_OPTIONS: DecoderOptions = {
  keyDecoder,
  mapKeyConverter: (key: unknown): string | number =>
    typeof key === 'string' || typeof key === 'number' ? key : String(key),
};

const decoder = new Decoder(DECODER_OPTIONS);
const encoder = new Encoder();

/** Decodes one complete msgpack value (a frame from MsgpackFramer). Throws on malformed input. */
export function decodeFrame(frame: Uint8Array): unknown {
  return decoder.decode(frame);
}

/** Encodes a value with the shared encoder (returns a fresh copy). Throws on unencodable values. */
export function encodeValue(value: unknown): Uint8Array {
  return encoder.encode(value);
}

export type DecodedMessage =
  | { kind: 'request'; msgid: number; method: string; params: unknown[] }
  | { kind: 'notification' }
  | { kind: 'invalid'; msgid: number | undefined; reason: string };

/** Decodes and validates one frame as an RPC message. Never throws. */
export function decodeMessage(frame: Uint8Array): DecodedMessage {
  let msg: unknown;
  try {
    msg = decodeFrame(frame);
  } catch (err) {
    const reason = `undecodable msgpack message (${err instanceof Error ? err.message : String(err)})`;
    return { kind: 'invalid', msgid: peekMsgId(frame), reason };
  }
  if (!Array.isArray(msg) || msg.length < 3) {
    return { kind: 'invalid', msgid: undefined, reason: 'RPC message is not an array of 3 or 4 elements' };
  }
  const [type, msgid, method, params] = msg as unknown[];
  if (type === MSG_NOTIFY || type === MSG_RESPONSE) return { kind: 'notification' };
  const id = typeof msgid === 'number' && Number.isInteger(msgid) ? msgid : undefined;
  if (type !== MSG_REQUEST) return { kind: 'invalid', msgid: id, reason: 'unknown RPC message type' };
  if (id === undefined) return { kind: 'invalid', msgid: undefined, reason: 'RPC request without an integer msgid' };
  if (typeof method !== 'string') return { kind: 'invalid', msgid: id, reason: 'RPC method is not a string' };
  if (params !== undefined && params !== null && !Array.isArray(params)) {
    return { kind: 'invalid', msgid: id, reason: 'RPC parameters are not an array' };
  }
  return { kind: 'request', msgid: id, method, params: Array.isArray(params) ? params : [] };
}

/**
 * Reads the msgid of a request frame that failed to decode, if it is laid out as Kong lays requests out
 * (a 3/4-element array whose first element is a fixint and whose second is an unsigned integer).
 */
export function peekMsgId(frame: Uint8Array): number | undefined {
  if (frame.length < 3) return undefined;
  const head = frame[0]!;
  if (head !== 0x93 && head !== 0x94) return undefined;
  if (frame[1]! > 0x7f) return undefined;
  const b = frame[2]!;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  try {
    if (b <= 0x7f) return b;
    if (b === 0xcc) return view.getUint8(3);
    if (b === 0xcd) return view.getUint16(3);
    if (b === 0xce) return view.getUint32(3);
  } catch {
    return undefined;
  }
  return undefined;
}

/** Error text for an RPC error reply: the message of an Error, never a stack. */
export function errorText(err: unknown): string {
  if (typeof err === 'string') return err;
  if (err instanceof Error) return err.message || err.name;
  if (err && typeof err === 'object' && 'message' in err && typeof err.message === 'string') return err.message;
  return 'Unknown plugin server error';
}

const FIXSTR_DATA = Buffer.from([0xa4, ...Buffer.from('Data')]);
const FIXSTR_EVENT_ID = Buffer.from([0xa7, ...Buffer.from('EventId')]);

function isEventReply(result: unknown): result is EventReply & { [ENCODED_DATA]: Uint8Array } {
  return typeof result === 'object' && result !== null && (result as EventReply)[ENCODED_DATA] instanceof Uint8Array;
}

/**
 * Encodes `[1, msgid, err, result]`. An event reply whose Data is pre-encoded is assembled from parts:
 * `[1, msgid, nil, {Data: <bytes>, EventId: eid}]`. Throws if `result` cannot be encoded.
 */
export function encodeResponse(msgid: number, err: string | undefined, result: unknown): Uint8Array {
  if (err === undefined && isEventReply(result)) {
    return Buffer.concat([
      Buffer.from([0x94, MSG_RESPONSE]),
      encoder.encode(msgid),
      Buffer.from([0xc0, 0x82]),
      FIXSTR_DATA,
      result[ENCODED_DATA],
      FIXSTR_EVENT_ID,
      encoder.encode(result.EventId),
    ]);
  }
  return encoder.encode([MSG_RESPONSE, msgid, err ?? null, err === undefined ? (result ?? null) : null]);
}
