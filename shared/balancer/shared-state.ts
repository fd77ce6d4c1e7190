// Kong starts one plugin instance per worker for the same plugin config, all in this one process, so
// balancer state lives here, keyed by what identifies the config (the plugin id and the config itself,
// never an instance's __seq__): every worker's instance then shares the same state. A config replaced
// by a newer one is dropped once MAX_CONFIGS newer ones have been built (the oldest first).
const MAX_CONFIGS = 1000;

const states = new Map<string, object>();

export function sharedState<T extends object>(key: string, create: () => T): T {
  let s = states.get(key) as T | undefined;
  if (s === undefined) {
    s = create();
    if (states.size >= MAX_CONFIGS) states.delete(states.keys().next().value!);
    states.set(key, s);
  }
  return s;
}
