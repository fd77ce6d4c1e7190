// How values cross Kong's side of the RPC (docs/kong-plugin-protocol.md §2.5): lua-MessagePack packs an
// empty Lua table as an empty array, and Kong's fix_mmap packs an empty multimap as an empty map. Arguments
// arriving from the plugin server are unpacked into a Lua table, and `unpack(args)` stops at the first hole
// (LuaJIT's `#t`).

/** Marks a value that Kong packs as an empty msgpack map (fix_mmap on an empty table). */
export const EMPTY_MAP: Readonly<Record<string, never>> = Object.freeze({});

/** Converts a value produced by the emulated Lua side into what lua-MessagePack would send. */
export function toWire(v: unknown): unknown {
  if (v === EMPTY_MAP) return {};
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map(toWire);
  if (typeof v === 'object') {
    const keys = Object.keys(v as object);
    if (keys.length === 0) return [];
    const o: Record<string, unknown> = {};
    for (const k of keys) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== null && x !== undefined) o[k] = toWire(x);
    }
    return o;
  }
  return v;
}

/** The arguments a Lua `unpack(args)` passes on: everything before the first nil. */
export function luaArgs(args: unknown): { args: unknown[]; hole: boolean } {
  if (args === null || args === undefined) return { args: [], hole: false };
  if (!Array.isArray(args)) return { args: [args], hole: false };
  const i = args.findIndex((a) => a === null || a === undefined);
  if (i === -1) return { args, hole: false };
  const hole = args.slice(i).some((a) => a !== null && a !== undefined);
  return { args: args.slice(0, i), hole };
}

/** Copies a value as a msgpack round trip would (kong.ctx.shared values are copies, not references). */
export function copyValue<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}
