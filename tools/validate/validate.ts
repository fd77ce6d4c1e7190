// Checks every configuration of our plugins in deck (declarative) files, with the code the plugins and
// Kong run, before anything is deployed:
//
//  1. what Kong's Admin API, deck and DB-less loading refuse: the config with Kong's defaults filled,
//     validated against the plugin's exported `Schema` (tools/harness/kong-config-validation.ts, Kong's rules);
//  2. what the plugin itself refuses when Kong starts an instance: the config as Kong sends it in
//     StartInstance (defaults filled, nulls dropped, vault references resolved, Kong's per-instance
//     keys added) handed to the plugin module's own constructor, which parses it with the plugin's
//     config declaration (and, for the guard, compiles its patterns).
//
// Vault references are resolved to a placeholder (the reference text itself): what a reference points
// at is only known where Kong runs, and a validation must not depend on the machine it runs on.
//
// Constructing an instance is what Kong's StartInstance does, side effects included: ai-proxy and
// ai-proxy-advanced start their loopback relay in this process. A caller that checks valid configs
// in-process must end the process itself (validate-main.ts does; tests run it as a child process).
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import * as aiPromptGuard from '../../plugins/ai-prompt-guard';
import * as aiProxy from '../../plugins/ai-proxy';
import * as aiProxyAdvanced from '../../plugins/ai-proxy-advanced';
import { fillDefaults, validateConfig } from '../harness/kong-config-validation';
import { KONG_BUNDLED_PLUGINS } from '../harness/kong-metaschema';
import { encodeConfigForStartInstance, pluginCacheKey } from '../harness/start-instance-config';

interface PluginModule {
  readonly Plugin: new (config: unknown) => unknown;
  readonly Schema: readonly unknown[];
}

/** Our plugin modules by their own (unprefixed) name. */
export const PLUGIN_MODULES: Readonly<Record<string, PluginModule>> = {
  'ai-proxy': aiProxy,
  'ai-proxy-advanced': aiProxyAdvanced,
  'ai-prompt-guard': aiPromptGuard,
};

export interface ValidateOptions {
  /**
   * The image's AI_PLUGINS_NAME_PREFIX: our plugins are named `<prefix>ai-proxy` etc. With a prefix,
   * plain `ai-proxy` and `ai-prompt-guard` are Kong's bundled Lua plugins, which this does not check.
   */
  readonly namePrefix?: string;
}

/** One plugin entry of a deck file and where it is. */
export interface DeckPlugin {
  readonly file: string;
  /** 1-based line of the plugin entry, when known. */
  readonly line: number | undefined;
  /** `service "llm" > route "openai-chat"`, `consumer "bob"`, or `global`. */
  readonly scope: string;
  /** The entry's place in the document, e.g. `services[1].routes[0].plugins[0]`. */
  readonly path: string;
  readonly name: string;
  readonly config: unknown;
}

export interface DeckProblem {
  readonly file: string;
  readonly line: number | undefined;
  /** Where in the file: `services[1].routes[2].plugins[0] (service "llm" > route "anthropic-chat")`. */
  readonly where: string;
  /** The plugin's name, or undefined for a problem with the file itself. */
  readonly plugin: string | undefined;
  /** One message per problem, each starting with the field path (`config.model.provider: ...`). */
  readonly messages: readonly string[];
}

export interface DeckReport {
  readonly file: string;
  /** Configs of our plugins that were checked (valid or not). */
  readonly checked: readonly DeckPlugin[];
  /** Kong's own plugins in the file, not ours to check. */
  readonly notOurs: readonly DeckPlugin[];
  readonly problems: readonly DeckProblem[];
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The module behind a plugin name, 'bundled' for a Kong plugin, or undefined if unknown. */
export function resolvePluginName(name: string, opts: ValidateOptions = {}): PluginModule | 'bundled' | undefined {
  const prefix = opts.namePrefix ?? '';
  if (name.startsWith(prefix)) {
    const mod = PLUGIN_MODULES[name.slice(prefix.length)];
    if (mod !== undefined) return mod;
  }
  return KONG_BUNDLED_PLUGINS.includes(name) ? 'bundled' : undefined;
}

/**
 * The problems with one plugin config, each "config.<field>: message" (or "config: ..."): Kong's
 * schema validation first; if Kong would accept it, the plugin's own parse of what Kong sends it.
 */
export function checkPluginConfig(mod: PluginModule, name: string, config: unknown): string[] {
  if (config !== undefined && config !== null && !isObj(config)) return ['config: expected a record (object)'];
  const filled = fillDefaults(mod.Schema, (config ?? {}) as Obj);
  const kong = validateConfig(mod.Schema, filled);
  if (kong.length > 0) return kong;
  const id = '00000000-0000-4000-8000-000000000001';
  const ws = '00000000-0000-4000-8000-000000000000';
  const json = encodeConfigForStartInstance(filled, {
    route_id: null, service_id: null, consumer_id: null, plugin_instance_name: null,
    __plugin_id: id, __ws_id: ws, __key__: pluginCacheKey({ name, wsId: ws }), __seq__: 1,
  }, { schema: mod.Schema, resolveReference: (reference) => reference });
  try {
    new mod.Plugin(JSON.parse(json));
    return [];
  } catch (e) {
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.every((m) => typeof m === 'string') && errors.length > 0) return errors as string[];
    const message = (e as Error).message ?? String(e);
    return [message.startsWith('config') ? message : `config: ${message}`];
  }
}

function label(kind: string, entity: Obj, index: number): string {
  return typeof entity.name === 'string' ? `${kind} "${entity.name}"`
    : typeof entity.username === 'string' ? `${kind} "${entity.username}"`
      : `${kind} #${index}`;
}

/** Every plugin entry of a deck document, in document order of its owners. */
function collectPlugins(doc: Obj, file: string, lineOf: (path: (string | number)[]) => number | undefined, bad: (path: (string | number)[], m: string) => void): DeckPlugin[] {
  const out: DeckPlugin[] = [];
  const list = (v: unknown, path: (string | number)[]): Obj[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      bad(path, `${fmtPath(path)}: expected a list`);
      return [];
    }
    return v.map((x, i) => {
      if (!isObj(x)) bad([...path, i], `${fmtPath([...path, i])}: expected a mapping`);
      return isObj(x) ? x : {};
    });
  };
  const plugins = (owner: Obj, path: (string | number)[], scope: string) => {
    list(owner.plugins, [...path, 'plugins']).forEach((p, k) => {
      const ppath = [...path, 'plugins', k];
      if (typeof p.name !== 'string' || p.name === '') {
        bad(ppath, `${fmtPath(ppath)}.name: required field missing`);
        return;
      }
      out.push({ file, line: lineOf(ppath), scope, path: fmtPath(ppath), name: p.name, config: p.config });
    });
  };
  list(doc.services, ['services']).forEach((s, i) => {
    const sl = label('service', s, i);
    plugins(s, ['services', i], sl);
    list(s.routes, ['services', i, 'routes']).forEach((r, j) => plugins(r, ['services', i, 'routes', j], `${sl} > ${label('route', r, j)}`));
  });
  list(doc.routes, ['routes']).forEach((r, j) => plugins(r, ['routes', j], label('route', r, j)));
  list(doc.consumers, ['consumers']).forEach((c, i) => plugins(c, ['consumers', i], label('consumer', c, i)));
  list(doc.consumer_groups, ['consumer_groups']).forEach((g, i) => plugins(g, ['consumer_groups', i], label('consumer group', g, i)));
  plugins(doc, [], 'global');
  return out;
}

function fmtPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Checks one deck file's text; `file` is only used to name it. */
export function validateDeckText(file: string, text: string, opts: ValidateOptions = {}): DeckReport {
  const problems: DeckProblem[] = [];
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line ?? lines.linePos(e.pos[0]).line;
    return { file, checked: [], notOurs: [], problems: [{ file, line, where: 'YAML', plugin: undefined, messages: [e.message.split('\n')[0]!] }] };
  }
  const lineOf = (path: (string | number)[]): number | undefined => {
    const node = path.length === 0 ? doc.contents : doc.getIn(path, true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    return range ? lines.linePos(range[0]).line : undefined;
  };
  const root: unknown = doc.toJS({ maxAliasCount: 100 });
  if (!isObj(root)) {
    return { file, checked: [], notOurs: [], problems: [{ file, line: 1, where: 'document', plugin: undefined, messages: ['expected a deck file: a mapping with _format_version, services, routes, plugins...'] }] };
  }
  if (root._format_version === undefined) {
    problems.push({ file, line: 1, where: 'document', plugin: undefined, messages: ['_format_version: required field missing (Kong refuses a declarative file without it)'] });
  }
  const found = collectPlugins(root, file, lineOf, (path, m) => {
    problems.push({ file, line: lineOf(path), where: fmtPath(path), plugin: undefined, messages: [m] });
  });
  const checked: DeckPlugin[] = [];
  const notOurs: DeckPlugin[] = [];
  for (const p of found) {
    const where = `${p.path} (${p.scope})`;
    const mod = resolvePluginName(p.name, opts);
    if (mod === undefined) {
      const ours = Object.keys(PLUGIN_MODULES).map((n) => `${opts.namePrefix ?? ''}${n}`).join(', ');
      problems.push({ file, line: p.line, where, plugin: p.name, messages: [`name: no plugin '${p.name}' in this image (ours are ${ours}; the rest must be Kong's bundled plugins)`] });
      continue;
    }
    if (mod === 'bundled') {
      notOurs.push(p);
      continue;
    }
    checked.push(p);
    const messages = checkPluginConfig(mod, p.name, p.config);
    if (messages.length > 0) problems.push({ file, line: p.line, where, plugin: p.name, messages });
  }
  return { file, checked, notOurs, problems };
}

export function validateDeckFile(file: string, opts: ValidateOptions = {}): DeckReport {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { file, checked: [], notOurs: [], problems: [{ file, line: undefined, where: 'file', plugin: undefined, messages: [(e as Error).message] }] };
  }
  return validateDeckText(file, text, opts);
}

/** "file:line: where: plugin <name>: message", one line per message. */
export function formatProblem(p: DeckProblem): string[] {
  const at = `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.where}`;
  return p.messages.map((m) => `${at}: ${p.plugin !== undefined ? `plugin ${p.plugin}: ` : ''}${m}`);
}
