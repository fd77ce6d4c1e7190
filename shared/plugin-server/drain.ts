// What the plugin server waits for before it exits on SIGTERM. Kong sends SIGTERM when the worker that
// started the server exits (kong/runloop/plugin_servers/process.lua, stop_pluginservers): on `kong
// stop`, and on `kong reload`, where the old workers may still be finishing requests that this process
// serves (a stream through its relay, a request whose relay token it issued). Shared modules that hold
// such work (the relay) register here; the server's own live events count too (plugin-server.ts).
export interface Drainable {
  /** Shown in the log while waiting. */
  readonly name: string;
  /** Work still in flight (requests, outstanding tokens); 0 when it can be closed. */
  busy(): number;
  /** Stops for good; called once, when nothing is busy or the drain timeout passed. */
  close(): Promise<void>;
}

const drainables = new Set<Drainable>();

export function registerDrainable(d: Drainable): void {
  drainables.add(d);
}

export function unregisterDrainable(d: Drainable): void {
  drainables.delete(d);
}

export function registeredDrainables(): readonly Drainable[] {
  return [...drainables];
}
