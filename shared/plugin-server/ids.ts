// Instance and event ids. kong-pdk counts both from 0 in every process, so after a restart Kong's cached
// instance ids (and the EventIds of requests in flight) name different instances and events of the new
// process (docs/kong-plugin-protocol.md §5.7, Kong #8370). Ours start at a random point and count up from
// there, so ids of two processes practically never meet. They stay within uint32: msgpack encodes them
// compactly and Lua's doubles hold them exactly.
import { randomInt } from 'node:crypto';

const FIRST = 1;
/** Random starts fall below this, leaving 2^31 ids before the counter wraps. */
const START_LIMIT = 2 ** 31;
const LIMIT = 2 ** 32;

export class IdAllocator {
  private next: number;

  /** `inUse` tells whether an id is still taken (after a wrap-around the counter skips those). */
  constructor(private readonly inUse: (id: number) => boolean, start: number = randomInt(FIRST, START_LIMIT)) {
    this.next = start;
  }

  allocate(): number {
    for (;;) {
      const id = this.next;
      this.next = id + 1 >= LIMIT ? FIRST : id + 1;
      if (!this.inUse(id)) return id;
    }
  }
}
