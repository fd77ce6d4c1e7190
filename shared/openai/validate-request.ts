// Kong ai-proxy's request checks, in Kong's order and with its messages (kong/llm/plugin/shared-filters/
// normalize-request.lua), for a body already parsed as a JSON object; then ours: the request against
// OpenAI's schema for its route type (request-schema.ts), reported as OpenAI reports it (message, param, code).
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { REQUEST_SCHEMAS } from './request-schema';
import type { ClientRouteType, RouteType } from './types';
export type { RouteType };
export type ResponseStreaming = 'allow' | 'deny' | 'always';

export type RequestCheck =
  | { ok: true; model: string | null; stream: boolean }
  | { ok: false; status: 400; message: string; param?: string; code?: string };

function bad(message: string, param?: string): RequestCheck {
  return param === undefined ? { ok: false, status: 400, message } : { ok: false, status: 400, message, param };
}

/** The JSON type of a value, in the words OpenAI's errors use. */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return 'a boolean';
  return 'an object';
}

type Validator = ValidateFunction & { errors?: ErrorObject[] | null };

/** One validator per route type, compiled once. */
const validators: Partial<Record<ClientRouteType, Validator>> = (() => {
  // allErrors off: the first problem is the one reported (as OpenAI reports one).
  const ajv = new Ajv({ allErrors: false, verbose: true, allowUnionTypes: true, strict: true, strictTypes: false, logger: false });
  const out: Partial<Record<ClientRouteType, Validator>> = {};
  for (const [route, schema] of Object.entries(REQUEST_SCHEMAS)) out[route as ClientRouteType] = ajv.compile(schema);
  return out;
})();

/** `/messages/0/content` → `messages[0].content`, as OpenAI names parameters. */
function paramName(instancePath: string, property?: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (property !== undefined) parts.push(property);
  return parts.reduce((name, p) => (/^\d+$/.test(p) ? `${name}[${p}]` : name === '' ? p : `${name}.${p}`), '');
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string', number: 'a number', integer: 'an integer', boolean: 'a boolean', object: 'an object', array: 'an array', null: 'null',
};

function expected(types: unknown): string {
  const list = (Array.isArray(types) ? types : [types]).filter((t) => t !== 'null').map((t) => TYPE_WORDS[String(t)] ?? String(t));
  return list.length === 1 ? list[0]! : `one of ${list.slice(0, -1).join(', ')} or ${list.at(-1)!}`;
}

function quoted(values: readonly unknown[]): string {
  const q = values.map((v) => `'${String(v)}'`);
  if (q.length <= 2) return q.join(' and ');
  return `${q.slice(0, -1).join(', ')}, and ${q.at(-1)!}`;
}

/** The first schema error in OpenAI's words, with the parameter it concerns and OpenAI's code. */
function describe(e: ErrorObject): { message: string; param: string; code: string } {
  const param = paramName(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const name = paramName(e.instancePath, String(p.missingProperty));
      return { message: `Missing required parameter: '${name}'.`, param: name, code: 'missing_required_parameter' };
    }
    case 'type':
      return { message: `Invalid type for '${param}': expected ${expected(p.type)}, but got ${jsonType(e.data)} instead.`, param, code: 'invalid_type' };
    case 'enum':
    case 'const': {
      const allowed = e.keyword === 'enum' ? (p.allowedValues as unknown[]) : [p.allowedValue];
      return { message: `Invalid value for '${param}': '${String(e.data)}'. Supported values are: ${quoted(allowed)}.`, param, code: 'invalid_value' };
    }
    case 'minimum':
    case 'maximum': {
      const above = e.keyword === 'maximum';
      return {
        message: `Invalid '${param}': ${above ? 'above maximum' : 'below minimum'} value. Expected a value ${above ? '<=' : '>='} ${String(p.limit)}, but got ${String(e.data)} instead.`,
        param, code: above ? 'value_above_maximum' : 'value_below_minimum',
      };
    }
    case 'minItems':
      return { message: `Invalid '${param}': empty array. Expected an array with minimum length ${String(p.limit)}, but got an empty array instead.`, param, code: 'empty_array' };
    case 'maxItems':
      return { message: `Invalid '${param}': array too long. Expected an array with maximum length ${String(p.limit)}, but got an array with length ${(e.data as unknown[]).length} instead.`, param, code: 'array_above_max_length' };
    default:
      return { message: `Invalid '${param}': ${e.message ?? 'not valid'}.`, param, code: 'invalid_value' };
  }
}

/** The request against its route type's schema (OpenAI's types and ranges); undefined when it passes. */
function schemaCheck(body: Record<string, unknown>, routeType: ClientRouteType): RequestCheck | undefined {
  const validate = validators[routeType];
  if (!validate || validate(body)) return undefined;
  // if/then and the combinators only say that an inner rule failed: report the inner rule.
  const errors = validate.errors ?? [];
  const first = errors.find((e) => !['if', 'allOf', 'anyOf', 'oneOf'].includes(e.keyword)) ?? errors[0];
  if (!first) return bad('request body is not valid');
  const d = describe(first);
  return { ok: false, status: 400, message: d.message, param: d.param, code: d.code };
}

function requestFormat(body: Record<string, unknown>): RouteType | 'both' | undefined {
  const chat = Array.isArray(body.messages) && body.messages.length > 0;
  const completion = typeof body.prompt === 'string';
  if (chat && completion) return 'both';
  if (chat) return 'llm/v1/chat';
  if (completion) return 'llm/v1/completions';
  return undefined;
}

/** A Responses API prompt: `input` as a non-empty string or a list of items. */
function hasResponsesInput(body: Record<string, unknown>): boolean {
  const input = body.input;
  return (typeof input === 'string' && input !== '') || (Array.isArray(input) && input.length > 0);
}

export function checkRequest(body: Record<string, unknown>, routeType: ClientRouteType, configuredModel: string | null,
  streaming: ResponseStreaming): RequestCheck {
  const bodyModel = typeof body.model === 'string' && body.model !== '' ? body.model : null;
  if (routeType === 'llm/v1/responses') {
    if (!hasResponsesInput(body)) return bad("request body doesn't contain valid prompts");
  } else if (routeType === 'llm/v1/embeddings') {
    const input = body.input;
    const valid = typeof input === 'string' ? input.length > 0
      : Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string' || typeof x === 'number' || Array.isArray(x));
    if (!valid) return bad("request body doesn't contain valid input");
  } else if (routeType !== 'preserve' && requestFormat(body) === undefined) {
    return bad("request body doesn't contain valid prompts");
  }
  if (bodyModel !== null && configuredModel !== null && bodyModel !== configuredModel) {
    return bad(`cannot use own model - must be: ${configuredModel}`);
  }
  const model = configuredModel ?? bodyModel;
  if (model === null && routeType !== 'preserve') {
    return bad('model parameter not found in request, nor in gateway configuration');
  }
  if (routeType === 'llm/v1/chat' || routeType === 'llm/v1/completions') {
    const format = requestFormat(body);
    if (format === 'both') return bad('request matches multiple LLM request formats');
    if (format !== routeType) return bad(`[${format}] message format is not compatible with [${routeType}] route type`);
  }
  const stream = body.stream === true;
  if (stream && streaming === 'deny') return bad('response streaming is not enabled for this LLM');
  // Past Kong's checks, ours: every field a translation reads has OpenAI's type and range.
  return schemaCheck(body, routeType) ?? { ok: true, model, stream };
}
