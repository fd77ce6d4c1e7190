// Typed access to kong-pdk 0.6.0's own classes (Server, Module/Instance, PDK), which ship without types.
//
// Loading them has one side effect to tame: lib/mod.js calls `require('ts-node').register()` at load
// time. With ts-node's defaults that reads a tsconfig.json from the working directory (which may not fit
// ts-node at all) and type-checks every .ts plugin, so a type error makes the plugin fail to load
// (docs/kong-plugin-protocol.md §1.2, §5.11); registering also costs about half a second because it loads
// the TypeScript compiler, which delays the moment the socket listens. So:
//  - TS_NODE_TRANSPILE_ONLY and TS_NODE_SKIP_PROJECT are forced (ts-node 10 reads these names from
//    process.env when its module is first required, see ts-node/dist/index.js DEFAULTS), and so is
//    TS_NODE_COMPILER_OPTIONS: without a project, ts-node 10.9 falls back to @tsconfig/node16
//    (module Node16 with moduleResolution node), which TypeScript 5 rejects (TS5109/TS5110) for every
//    file; CommonJS with classic node resolution works with TypeScript 4 and 5;
//  - while lib/mod.js loads, `ts-node` resolves to a stand-in whose register() does nothing, and the real
//    ts-node is registered only if a plugin directory holds TypeScript (ensureTypeScriptSupport()).
import NodeModule = require('node:module');
import path = require('node:path');

process.env.TS_NODE_TRANSPILE_ONLY = 'true';
process.env.TS_NODE_SKIP_PROJECT = 'true';
process.env.TS_NODE_COMPILER_OPTIONS = JSON.stringify({ module: 'commonjs', moduleResolution: 'node' });

/** The logger kong-pdk's Server calls (node-color-log's shape, as far as Server uses it). */
export interface PdkLogger {
  debug(...parts: unknown[]): void;
  info(...parts: unknown[]): void;
  warn(...parts: unknown[]): void;
  error(...parts: unknown[]): void;
}

/** lib/mod.js Instance: one started plugin configuration. */
export interface KongInstance {
  readonly name: string;
  readonly config: unknown;
  startTime: number;
  lastUsedTime: number;
  /** True when neither started nor used within the last `ttl` seconds. */
  isExpired(ttl?: number): boolean;
  resetExpireTs(): unknown;
  close(): void;
  /** Calls `plugin[phase](kong)` and returns whatever it returns (usually a promise). */
  executePhase(phase: string, kong: unknown): unknown;
  getName(): string;
  getConfig(): unknown;
  getStartTime(): number;
  getLastUsedTime(): number;
}

/** lib/mod.js Module: one loaded plugin file. */
export interface KongModule {
  readonly name: string;
  readonly path: string | undefined;
  /** Constructs the plugin class with `config` (throws what the constructor throws). */
  'new'(config: unknown): KongInstance;
  getName(): string;
  getPhases(): string[];
  getPriority(): number;
  getVersion(): unknown;
  getSchema(): unknown;
  getMTime(): number;
  getLoadTime(): number;
  getLastStartInstanceTime(): number;
  getLastCloseInstanceTime(): number;
}

export interface KongModuleConstructor {
  new (name: string, filePath?: string, literal?: unknown): KongModule;
}

/** The pipe pdk.js talks through: put() a `{Method, Args}` call, then await get() for `[result, error]`. */
export interface PdkPipe {
  put(value: unknown): void;
  get(): Promise<readonly [unknown, unknown]>;
}

export interface KongPdkConstructor {
  new (pipe: PdkPipe): { readonly kong: unknown };
}

export interface PluginInfo {
  Name: string;
  Version: unknown;
  Phases: string[];
  Priority: number;
  Schema: { name: string; fields: unknown[] };
}

/** server.js Server, the members this project touches. */
export interface KongServerBase {
  pluginDir: string | undefined;
  logger: PdkLogger;
  plugins: Map<string, KongModule>;
  instances: Map<number, KongInstance>;
  instanceID: number;
  events: Map<number, unknown>;
  eventID: number;
  clearExpiredPluginsTimer: NodeJS.Timeout | undefined;
  loadPlugins(): void;
  clearExpiredPlugins(ttl: number): NodeJS.Timeout | undefined;
  close(): void;
  GetStatus(): Promise<unknown>;
  GetPluginInfo(name: unknown): Promise<PluginInfo>;
  StartInstance(cfg: unknown): Promise<unknown>;
  InstanceStatus(iid: unknown): Promise<unknown>;
  CloseInstance(iid: unknown): Promise<unknown>;
  HandleEvent(event: unknown): Promise<unknown>;
  step(data: unknown, isError: boolean): Promise<unknown>;
  getLogger(): PdkLogger;
  getPlugins(): Map<string, KongModule>;
}

export interface KongServerConstructor {
  new (pluginDir: string | undefined, logger: PdkLogger, expireTtl?: number): KongServerBase;
  /** PluginServerError; its message is what the RPC error reply carries. */
  readonly Error: new (message?: string) => Error;
}

// --- loading, with ts-node stood in for while lib/mod.js is required ---------------------------------

const modPath = require.resolve('kong-pdk/lib/mod');
let tsNodePath: string | undefined;
try {
  tsNodePath = require.resolve('ts-node', { paths: [path.dirname(modPath)] });
} catch {
  tsNodePath = undefined;
}

type TsNodeState = 'deferred' | 'registered' | 'unavailable';
let tsNodeState: TsNodeState = tsNodePath ? 'deferred' : 'unavailable';

if (tsNodePath && require.cache[modPath] === undefined && require.cache[tsNodePath] === undefined) {
  const standIn = new NodeModule(tsNodePath);
  standIn.filename = tsNodePath;
  standIn.loaded = true;
  standIn.exports = { register: (): undefined => undefined };
  require.cache[tsNodePath] = standIn;
  try {
    require(modPath);
  } finally {
    delete require.cache[tsNodePath];
  }
} else if (tsNodePath && require.cache[tsNodePath] !== undefined) {
  // Someone loaded the real ts-node already (lib/mod.js registered it): nothing left to defer.
  tsNodeState = 'registered';
}

interface ModExports {
  Module: KongModuleConstructor;
}
const modExports: ModExports = require(modPath);
export const KongModuleClass: KongModuleConstructor = modExports.Module;
export const KongServer: KongServerConstructor = require('kong-pdk/server');
export const KongPdk: KongPdkConstructor = require('kong-pdk/pdk');

/**
 * Registers the real ts-node (transpile-only, no tsconfig lookup) so that .ts plugins can be required.
 * Returns false (and leaves .ts plugins to fail loading with a clear error) if ts-node is missing.
 */
export function ensureTypeScriptSupport(logger: PdkLogger): boolean {
  if (tsNodeState === 'registered') return true;
  if (tsNodeState === 'unavailable' || tsNodePath === undefined) {
    logger.error('TypeScript plugins found but ts-node cannot be resolved; they will fail to load');
    return false;
  }
  try {
    const tsNode: { register(): unknown } = require(tsNodePath);
    tsNode.register();
    tsNodeState = 'registered';
    logger.debug('ts-node registered (transpile-only) for TypeScript plugins');
    return true;
  } catch (err) {
    tsNodeState = 'unavailable';
    logger.error(`cannot register ts-node for TypeScript plugins: ${err instanceof Error ? err.message : String(err)}`);
    return false;
  }
}
