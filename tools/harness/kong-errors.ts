// The error responses Kong itself produces (no route, a failed plugin, an upstream that cannot be
// reached, a body over client_max_body_size): kong/tools/http.lua's error templates, the media type
// chosen from the client's Accept header as kong.response.error does (get_response_type), and the
// messages of kong/error_handlers.lua.
export const KONG_MESSAGES = {
  noRoute: 'no Route matched with those values',
  unexpected: 'An unexpected error occurred',
  badGateway: 'An invalid response was received from the upstream server',
  timeout: 'The upstream server is timing out',
  payloadTooLarge: 'Payload too large',
} as const;

/** kong.response.error's message for a status it is given no message for (kong/pdk/response.lua). */
const HTTP_ERROR_MESSAGES: Readonly<Record<number, string>> = {
  400: 'Bad request', 401: 'Unauthorized', 402: 'Payment required', 403: 'Forbidden', 404: 'Not found',
  405: 'Method not allowed', 406: 'Not acceptable', 407: 'Proxy authentication required', 408: 'Request timeout',
  409: 'Conflict', 410: 'Gone', 411: 'Length required', 412: 'Precondition failed', 413: 'Payload too large',
  414: 'URI too long', 415: 'Unsupported media type', 416: 'Range not satisfiable', 417: 'Expectation failed',
  418: "I'm a teapot", 421: 'Misdirected request', 422: 'Unprocessable entity', 423: 'Locked', 424: 'Failed dependency',
  425: 'Too early', 426: 'Upgrade required', 428: 'Precondition required', 429: 'Too many requests',
  431: 'Request header fields too large', 451: 'Unavailable for legal reasons', 494: 'Request header or cookie too large',
  500: 'An unexpected error occurred', 501: 'Not implemented', 502: 'An invalid response was received from the upstream server',
  503: 'The upstream server is currently unavailable', 504: 'The upstream server is timing out', 505: 'HTTP version not supported',
  506: 'Variant also negotiates', 507: 'Insufficient storage', 508: 'Loop detected', 510: 'Not extended',
  511: 'Network authentication required',
};

export function httpErrorMessage(status: number): string {
  return HTTP_ERROR_MESSAGES[status] ?? `The upstream server responded with ${status}`;
}

const JSON_TYPE = 'application/json; charset=utf-8';

const TEMPLATES: ReadonlyArray<{ match: RegExp; type: string; render: (m: string, rid: string) => string }> = [
  { match: /^text\/html$/, type: 'text/html; charset=utf-8', render: (m, rid) => `<!doctype html>\n<html>\n  <head>\n    <meta charset="utf-8">\n    <title>Error</title>\n  </head>\n  <body>\n    <h1>Error</h1>\n    <p>${m}.</p>\n    <p>request_id: ${rid}</p>\n  </body>\n</html>\n` },
  { match: /^text\/plain$/, type: 'text/plain; charset=utf-8', render: (m, rid) => `${m}\nrequest_id: ${rid}\n` },
  { match: /^application\/xml$/, type: 'application/xml; charset=utf-8', render: (m, rid) => `<?xml version="1.0" encoding="UTF-8"?>\n<error>\n  <message>${m}</message>\n  <requestid>${rid}</requestid>\n</error>\n` },
];

function renderJson(message: string, rid: string): string {
  return `{\n  "message":"${message}",\n  "request_id":"${rid}"\n}`;
}

/** The media type Kong answers in: the Accept value with the highest q that it has a template for. */
function templateFor(accept: string | undefined): { type: string; render: (m: string, rid: string) => string } {
  let best: { type: string; render: (m: string, rid: string) => string } = { type: JSON_TYPE, render: renderJson };
  let bestQ = 0;
  for (const part of (accept ?? '').split(',')) {
    const [media, ...params] = part.trim().toLowerCase().split(';').map((s) => s.trim());
    if (!media) continue;
    const qp = params.find((p) => p.startsWith('q='));
    const q = qp === undefined ? 1 : Number(qp.slice(2));
    if (!(q > bestQ)) continue;
    bestQ = q;
    best = TEMPLATES.find((t) => t.match.test(media)) ?? { type: JSON_TYPE, render: renderJson };
  }
  return best;
}

/** Body and content type of a Kong error for a client that sent `accept`. */
export function kongErrorBody(message: string, requestId: string, accept: string | undefined): { contentType: string; body: string } {
  const t = templateFor(accept);
  return { contentType: t.type, body: t.render(message, requestId) };
}
