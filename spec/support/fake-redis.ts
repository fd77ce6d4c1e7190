// A tiny RESP2 server for tests of the redis vector store: it reads commands (arrays of bulk strings, as
// every client sends them) and answers what a handler returns, or nothing at all (a server that hangs).
//
// `debianRedis` answers as Debian's redis-server 7.0 (no search module) does; `emulatedSearch` plays the
// few RediSearch commands the store sends (FT._LIST, FT.CREATE, FT.SEARCH with KNN, and the store's
// replace script through EVAL), computing distances as RediSearch's VecSim does: COSINE 1 - cosine
// similarity and L2 the *squared* Euclidean distance, on FLOAT32 values. It is an emulation written from
// RediSearch's documentation, not RediSearch: it checks what the store sends and parses, not the server.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export type RespValue = { readonly simple: string } | { readonly error: string } | number | string | Buffer | null | readonly RespValue[];

/** A reply, or undefined: never answer this command (the connection stays open). */
export type RespHandler = (args: Buffer[]) => RespValue | undefined;

export function encodeResp(v: RespValue): Buffer {
  if (v === null) return Buffer.from('$-1\r\n');
  if (typeof v === 'number') return Buffer.from(`:${v}\r\n`);
  if (typeof v === 'string') return encodeResp(Buffer.from(v, 'utf8'));
  if (Buffer.isBuffer(v)) return Buffer.concat([Buffer.from(`$${v.length}\r\n`), v, Buffer.from('\r\n')]);
  if (Array.isArray(v)) return Buffer.concat([Buffer.from(`*${v.length}\r\n`), ...v.map(encodeResp)]);
  const o = v as { simple?: string; error?: string };
  if (o.error !== undefined) return Buffer.from(`-${o.error}\r\n`);
  return Buffer.from(`+${o.simple ?? ''}\r\n`);
}

/** The whole commands at the start of `buf`, and the bytes after them (a command not yet all received). */
function parseCommands(buf: Buffer): { commands: Buffer[][]; rest: Buffer } {
  const commands: Buffer[][] = [];
  let pos = 0;
  const line = (from: number): [string, number] | null => {
    const end = buf.indexOf('\r\n', from);
    return end < 0 ? null : [buf.toString('latin1', from, end), end + 2];
  };
  outer: while (pos < buf.length) {
    const head = line(pos);
    if (!head) break;
    if (!head[0].startsWith('*')) throw new Error(`fake redis: inline commands are not supported: ${head[0]}`);
    const n = Number(head[0].slice(1));
    let p = head[1];
    const args: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const len = line(p);
      if (!len) break outer;
      const size = Number(len[0].slice(1));
      if (len[1] + size + 2 > buf.length) break outer;
      args.push(buf.subarray(len[1], len[1] + size));
      p = len[1] + size + 2;
    }
    commands.push(args);
    pos = p;
  }
  return { commands, rest: buf.subarray(pos) };
}

export interface FakeRedis {
  readonly host: string;
  readonly port: number;
  /** Every command received, as strings (binary arguments as latin1). */
  readonly received: string[][];
  close(): Promise<void>;
}

export async function startFakeRedis(handler: RespHandler): Promise<FakeRedis> {
  const received: string[][] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      const { commands, rest } = parseCommands(pending);
      pending = Buffer.from(rest);
      for (const args of commands) {
        received.push(args.map((a) => a.toString('latin1')));
        const reply = handler(args);
        if (reply !== undefined && !socket.destroyed) socket.write(encodeResp(reply));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    received,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** Debian's redis-server 7.0.15 on an unknown command (checked on this machine; note the trailing space). */
export function debianUnknownCommand(args: Buffer[]): string {
  const name = args[0]?.toString('latin1') ?? '';
  const rest = args.slice(1).map((a) => `'${a.toString('latin1')}' `).join('');
  return `ERR unknown command '${name}', with args beginning with: ${rest}`;
}

/** A redis-server without any search module. */
export const debianRedis: RespHandler = (args) => {
  const cmd = args[0]?.toString('latin1').toUpperCase();
  if (cmd === 'PING') return { simple: 'PONG' };
  if (cmd === 'SELECT' || cmd === 'AUTH') return { simple: 'OK' };
  if (cmd === 'MODULE' && args[1]?.toString('latin1').toUpperCase() === 'LIST') return [];
  return { error: debianUnknownCommand(args) };
};

/**
 * Debian's redis-server with Debian's redis-redisearch (RediSearch 1.2.2) loaded: FT._LIST is still an
 * unknown command there, and MODULE LIST shows the module "ft", ver 10200 (checked on this machine).
 */
export const debianRedisWithRedisearch12: RespHandler = (args) => {
  const cmd = args[0]?.toString('latin1').toUpperCase();
  if (cmd === 'MODULE' && args[1]?.toString('latin1').toUpperCase() === 'LIST') {
    return [['name', 'ft', 'ver', 10200, 'path', '/usr/lib/redis/modules/redisearch.so', 'args', []]];
  }
  return debianRedis(args);
};

interface EmulatedIndex {
  readonly prefix: string;
  readonly dim: number;
  readonly metric: string;
}

/** RediSearch's subset that the store uses, in memory (see the top of the file). */
export function emulatedSearch(): { handler: RespHandler; hashes: Map<string, Buffer>; sets: Map<string, Set<string>>; indexes: Map<string, EmulatedIndex> } {
  const hashes = new Map<string, Buffer>(); // key -> its 'vector' field
  const sets = new Map<string, Set<string>>();
  const indexes = new Map<string, EmulatedIndex>();
  const s = (b: Buffer | undefined): string => b?.toString('utf8') ?? '';
  const floats = (b: Buffer): number[] => {
    const out: number[] = [];
    for (let i = 0; i + 4 <= b.length; i += 4) out.push(b.readFloatLE(i));
    return out;
  };
  const handler: RespHandler = (args) => {
    const cmd = s(args[0]).toUpperCase();
    switch (cmd) {
      case 'PING': return { simple: 'PONG' };
      case 'SELECT': return { simple: 'OK' };
      case 'FT._LIST': return [...indexes.keys()];
      case 'FT.CREATE': {
        const name = s(args[1]);
        if (indexes.has(name)) return { error: 'Index already exists' };
        const a = args.map(s);
        const at = (word: string): string => a[a.indexOf(word) + 1] ?? '';
        indexes.set(name, { prefix: at('PREFIX') === '1' ? a[a.indexOf('PREFIX') + 2] : '', dim: Number(at('DIM')), metric: at('DISTANCE_METRIC') });
        return { simple: 'OK' };
      }
      case 'EVAL': {
        // The store's replace script: KEYS = [ids set, ...entry keys], ARGV = [entry prefix, ...vectors, ...ids].
        const numKeys = Number(s(args[2]));
        const keys = args.slice(3, 3 + numKeys).map(s);
        const argv = args.slice(3 + numKeys);
        const n = keys.length - 1;
        const prefix = s(argv[0]);
        for (const id of sets.get(keys[0]) ?? []) hashes.delete(prefix + id);
        sets.delete(keys[0]);
        const ids = new Set<string>();
        for (let i = 0; i < n; i++) {
          hashes.set(keys[i + 1], Buffer.from(argv[i + 1]));
          ids.add(s(argv[n + 1 + i]));
        }
        if (ids.size > 0) sets.set(keys[0], ids);
        return n;
      }
      case 'FT.SEARCH': {
        const index = indexes.get(s(args[1]));
        if (!index) return { error: 'Unknown Index name' };
        const a = args.map(s);
        const m = /^\*=>\[KNN (\d+) @vector \$BLOB AS dist\]$/.exec(a[2] ?? '');
        if (!m) return { error: `Syntax error: ${a[2]}` };
        const k = Number(m[1]);
        const blob = args[a.indexOf('BLOB') + 1];
        if (blob.length !== index.dim * 4) return { error: 'Error parsing vector similarity query: query vector blob size does not match index\'s expected size.' };
        const q = floats(blob);
        const results: [string, number][] = [];
        for (const [key, v] of hashes) {
          if (!key.startsWith(index.prefix) || v.length !== index.dim * 4) continue;
          const x = floats(v);
          let d: number;
          if (index.metric === 'L2') {
            d = x.reduce((acc, xi, i) => acc + (xi - q[i]) ** 2, 0); // squared, as VecSim's FP32_L2Sqr
          } else {
            const dot = x.reduce((acc, xi, i) => acc + xi * q[i], 0);
            const nx = Math.hypot(...x);
            const nq = Math.hypot(...q);
            d = 1 - dot / (nx * nq);
          }
          results.push([key, Math.fround(d)]);
        }
        results.sort((p, r) => p[1] - r[1]);
        const top = results.slice(0, k);
        // RediSearch returns KNN results in no promised order without SORTBY: shuffle them.
        top.reverse();
        const reply: RespValue[] = [top.length];
        for (const [key, d] of top) reply.push(key, ['dist', String(d)]);
        return reply;
      }
      default:
        return { error: debianUnknownCommand(args) };
    }
  };
  return { handler, hashes, sets, indexes };
}
