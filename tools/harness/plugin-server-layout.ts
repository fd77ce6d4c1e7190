// The portable layout Kong needs (docs/kong-plugin-protocol.md §1.2, §1.6): one pluginserver entry per
// plugin, each with its own directory, socket, start command and query command, with absolute paths because
// Kong strips the start command's environment. The Kong image builds the same layout.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { PluginServerDef } from './plugin-server-process';

export const ENTRY_POINT = resolve(__dirname, '../../shared/plugin-server/main.js');
export const DIST_PLUGINS = resolve(__dirname, '../../plugins');

export interface LayoutOptions {
  /** Directory with plugin modules (default: dist/plugins). */
  pluginsDir?: string;
  /** Where sockets and per-plugin directories go (Kong's prefix). */
  prefix: string;
  /** 'per-plugin' (Kong 3.9-safe, the default) or one server over the whole directory. */
  mode?: 'per-plugin' | 'single';
  /** The entry point to run (default: ours). */
  entryPoint?: string;
  extraArgs?: string[];
  /** Options for node itself, before the entry point (e.g. --cpu-prof for a profile). */
  nodeArgs?: string[];
  env?: Record<string, string>;
  /** Only these plugins (per-plugin mode); default all in the directory. */
  only?: readonly string[];
  /**
   * Per-plugin mode: serve each plugin as `<namePrefix><file name>` (the shim file, hence the plugin,
   * is named so), as the Kong image does with AI_PLUGINS_NAME_PREFIX. Default: no prefix.
   */
  namePrefix?: string;
}

function def(name: string, dir: string, o: LayoutOptions): PluginServerDef {
  const entry = o.entryPoint ?? ENTRY_POINT;
  const sockName = `${name}.sock`;
  return {
    name,
    socketPath: join(o.prefix, sockName),
    startCmd: [process.execPath, ...(o.nodeArgs ?? []), entry, '-d', dir, '--kong-prefix', o.prefix, '--sock-name', sockName, ...(o.extraArgs ?? [])],
    queryCmd: [process.execPath, entry, '-d', dir, '--dump-all-plugins'],
    env: o.env,
  };
}

export function pluginServerDefs(o: LayoutOptions): PluginServerDef[] {
  const dir = resolve(o.pluginsDir ?? DIST_PLUGINS);
  mkdirSync(o.prefix, { recursive: true });
  if (o.mode === 'single') return [def('js-plugins', dir, o)];
  const prefix = o.namePrefix ?? '';
  const files = readdirSync(dir).filter((f) => f.endsWith('.js') && (!o.only || o.only.includes(`${prefix}${basename(f, '.js')}`))).sort();
  return files.map((f) => {
    const name = `${prefix}${basename(f, '.js')}`;
    const own = join(o.prefix, 'plugins', name);
    mkdirSync(own, { recursive: true });
    writeFileSync(join(own, `${name}.js`), `module.exports = require(${JSON.stringify(join(dir, f))});\n`);
    return def(name, own, o);
  });
}
