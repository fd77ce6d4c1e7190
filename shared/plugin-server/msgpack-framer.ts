// Splits a byte stream of concatenated msgpack values into whole values ("frames"), however the stream
// is cut into chunks: a frame may be split at any byte, a chunk may hold several frames, and a frame may
// be many MB. kong-pdk's listener re-decoded the concatenation from the start on every chunk and died
// on any split that was not inside a string (docs/kong-plugin-protocol.md §5.1).
//
// The framer never decodes values. It walks the type bytes and length fields only, and skips str/bin/ext
// payloads in bulk, so each byte is looked at once at most and large bodies cost one copy: when a frame
// spans chunks, they are concatenated once, when it is complete. The state survives between chunks, so
// a split inside a length field or between the head byte and its payload is resumed, not restarted.

export class MsgpackFrameError extends Error {
  override get name(): string {
    return 'MsgpackFrameError';
  }
}

export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024 * 1024;

// What a length field that has just been read is the length of.
const LEN_PAYLOAD = 0; // str, bin: skip that many bytes
const LEN_EXT = 1; // ext: skip that many bytes plus the type byte
const LEN_ARRAY = 2; // array: that many more values
const LEN_MAP = 3; // map: twice that many more values

export class MsgpackFramer {
  /** Chunks holding the frame in progress; it starts at `firstOffset` of chunks[0]. */
  private chunks: Buffer[] = [];
  private firstOffset = 0;
  /** Bytes of the frame in progress seen so far. */
  private frameBytes = 0;
  /** Values still missing before the frame is complete (1 while no byte of it has been seen). */
  private pending = 1;
  /** Payload bytes still to skip. */
  private skip = 0;
  /** Bytes of a big-endian length field still to read, its value so far, and what it measures. */
  private lenBytes = 0;
  private lenValue = 0;
  private lenKind = LEN_PAYLOAD;

  constructor(private readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {}

  /** True when part of a frame is buffered. */
  get hasPartialFrame(): boolean {
    return this.frameBytes > 0;
  }

  /** Bytes of the frame in progress buffered so far. */
  get bufferedBytes(): number {
    return this.frameBytes;
  }

  /**
   * Feeds one chunk and returns the frames it completes (possibly none). Throws MsgpackFrameError on a
   * byte that cannot start a msgpack value or on a frame larger than the limit; the stream cannot be
   * resynchronised after that, so the caller should drop the connection.
   */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    const n = chunk.length;
    if (n === 0) return frames;
    this.chunks.push(chunk);
    let i = 0;
    while (i < n) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - i);
        this.skip -= take;
        i += take;
        this.frameBytes += take;
        if (this.skip === 0 && --this.pending === 0) this.cut(chunk, i, frames);
        continue;
      }
      if (this.lenBytes > 0) {
        this.lenValue = this.lenValue * 256 + chunk[i]!;
        i++;
        this.frameBytes++;
        if (--this.lenBytes === 0) {
          this.lengthRead();
          if (this.pending === 0) this.cut(chunk, i, frames);
        }
        continue;
      }
      const b = chunk[i]!;
      i++;
      this.frameBytes++;
      this.startValue(b);
      if (this.pending === 0) this.cut(chunk, i, frames);
    }
    if (this.frameBytes === 0) {
      this.chunks = [];
      this.firstOffset = 0;
    }
    return frames;
  }

  /** Forgets any partial frame. */
  reset(): void {
    this.chunks = [];
    this.firstOffset = 0;
    this.frameBytes = 0;
    this.pending = 1;
    this.skip = 0;
    this.lenBytes = 0;
    this.lenValue = 0;
  }

  private startValue(b: number): void {
    if (b <= 0x7f || b >= 0xe0) {
      this.pending--; // positive / negative fixint
    } else if (b <= 0x8f) {
      this.container(2 * (b - 0x80)); // fixmap
    } else if (b <= 0x9f) {
      this.container(b - 0x90); // fixarray
    } else if (b <= 0xbf) {
      this.payload(b - 0xa0); // fixstr
    } else {
      switch (b) {
        case 0xc0: case 0xc2: case 0xc3: this.pending--; break; // nil, false, true
        case 0xc4: this.length(1, LEN_PAYLOAD); break; // bin 8/16/32
        case 0xc5: this.length(2, LEN_PAYLOAD); break;
        case 0xc6: this.length(4, LEN_PAYLOAD); break;
        case 0xc7: this.length(1, LEN_EXT); break; // ext 8/16/32
        case 0xc8: this.length(2, LEN_EXT); break;
        case 0xc9: this.length(4, LEN_EXT); break;
        case 0xca: this.payload(4); break; // float 32
        case 0xcb: this.payload(8); break; // float 64
        case 0xcc: this.payload(1); break; // uint 8/16/32/64
        case 0xcd: this.payload(2); break;
        case 0xce: this.payload(4); break;
        case 0xcf: this.payload(8); break;
        case 0xd0: this.payload(1); break; // int 8/16/32/64
        case 0xd1: this.payload(2); break;
        case 0xd2: this.payload(4); break;
        case 0xd3: this.payload(8); break;
        case 0xd4: this.payload(2); break; // fixext 1/2/4/8/16 (type byte + data)
        case 0xd5: this.payload(3); break;
        case 0xd6: this.payload(5); break;
        case 0xd7: this.payload(9); break;
        case 0xd8: this.payload(17); break;
        case 0xd9: this.length(1, LEN_PAYLOAD); break; // str 8/16/32
        case 0xda: this.length(2, LEN_PAYLOAD); break;
        case 0xdb: this.length(4, LEN_PAYLOAD); break;
        case 0xdc: this.length(2, LEN_ARRAY); break; // array 16/32
        case 0xdd: this.length(4, LEN_ARRAY); break;
        case 0xde: this.length(2, LEN_MAP); break; // map 16/32
        case 0xdf: this.length(4, LEN_MAP); break;
        default:
          throw new MsgpackFrameError(`invalid msgpack type byte 0x${b.toString(16)} at frame offset ${this.frameBytes - 1}`);
      }
    }
  }

  private length(bytes: number, kind: number): void {
    this.lenBytes = bytes;
    this.lenValue = 0;
    this.lenKind = kind;
  }

  private lengthRead(): void {
    const v = this.lenValue;
    switch (this.lenKind) {
      case LEN_PAYLOAD: this.payload(v); break;
      case LEN_EXT: this.payload(v + 1); break;
      case LEN_ARRAY: this.container(v); break;
      default: this.container(2 * v); break;
    }
  }

  /** A value whose remaining `bytes` bytes are opaque. */
  private payload(bytes: number): void {
    if (bytes === 0) {
      this.pending--;
      return;
    }
    this.checkSize(bytes);
    this.skip = bytes;
  }

  /** A container with `children` values, each at least one byte. */
  private container(children: number): void {
    if (children > 0) this.checkSize(children);
    this.pending += children - 1;
  }

  /** Every value still pending takes at least one more byte, besides the `moreBytes` just declared. */
  private checkSize(moreBytes: number): void {
    if (this.frameBytes + moreBytes + this.pending - 1 > this.maxFrameBytes) {
      throw new MsgpackFrameError(`msgpack message larger than ${this.maxFrameBytes} bytes`);
    }
  }

  /** The frame in progress ends at `end` of `chunk`, the last chunk pushed. */
  private cut(chunk: Buffer, end: number, frames: Buffer[]): void {
    const chunks = this.chunks;
    if (chunks.length === 1) {
      frames.push(chunk.subarray(this.firstOffset, end));
    } else {
      const parts: Buffer[] = [chunks[0]!.subarray(this.firstOffset)];
      for (let k = 1; k < chunks.length - 1; k++) parts.push(chunks[k]!);
      parts.push(chunk.subarray(0, end));
      frames.push(Buffer.concat(parts, this.frameBytes));
    }
    this.chunks = [chunk];
    this.firstOffset = end;
    this.frameBytes = 0;
    this.pending = 1;
  }
}
