// Kong starts one plugin instance per worker for the same plugin config, all in this one process, so
// balancer state lives here, keyed by the plugin entity and its config, not in the instance: every
// worker's instance then draws from the same rotation. Old configs age out.
import { LRUCache } from 'lru-cache';

const states = new LRUCache<string, object>({ max: 1000 });

export function sharedState<T extends object>(key: string, create: () => T): T {
  let s = states.get(key) as T | undefined;
  if (s === undefined) {
    s = create();
    states.set(key, s);
  }
  return s;
}
