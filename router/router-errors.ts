// Error responses with one stable JSON shape, so clients and tests can read why vipr answered
// instead of a backend:
//   {"error":{"status":404,"code":"unknown_service","message":"...", ...details}}
// Codes: unknown_host / unknown_service / unknown_port (404), no_endpoints (503),
// upstream_connect / upstream_reset / upstream_protocol (502), upstream_timeout (504),
// connect_not_supported (405), external_name_not_allowed (403), bad_subset (400), overloaded (503,
// a concurrency limit: concurrency-limits.ts), upgrade_not_supported (501, a protocol upgrade such
// as WebSocket), body_too_large (413: maxBodyBytes of the serve
// adapters, forward/body-limit.ts).

export type RouterErrorCode =
  | "unknown_host"
  | "unknown_service"
  | "unknown_port"
  | "no_endpoints"
  | "upstream_connect"
  | "upstream_reset"
  | "upstream_protocol"
  | "upstream_timeout"
  | "connect_not_supported"
  | "external_name_not_allowed"
  | "bad_subset"
  | "overloaded"
  | "upgrade_not_supported"
  | "body_too_large";

export const statusOf: Readonly<Record<RouterErrorCode, number>> = {
  unknown_host: 404,
  unknown_service: 404,
  unknown_port: 404,
  no_endpoints: 503,
  upstream_connect: 502,
  upstream_reset: 502,
  upstream_protocol: 502,
  upstream_timeout: 504,
  connect_not_supported: 405,
  external_name_not_allowed: 403,
  bad_subset: 400,
  overloaded: 503,
  upgrade_not_supported: 501,
  body_too_large: 413,
};

/** A JSON error response; `details` are added beside code and message. */
export function errorResponse(code: RouterErrorCode, message: string, details: Readonly<Record<string, unknown>> = {}): Response {
  const status = statusOf[code];
  const body = JSON.stringify({ error: { status, code, message, ...details } });
  const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8", "x-vipr-error": code };
  if (code === "connect_not_supported") headers["allow"] = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
  if (code === "no_endpoints" || code === "overloaded") headers["retry-after"] = "1";
  // The rest of the body is never read, so the connection cannot carry another request: it closes
  // after this answer, as RFC 9110 section 15.5.14 (413 Content Too Large) allows.
  if (code === "body_too_large") headers["connection"] = "close";
  return new Response(body, { status, headers });
}

/** The answer to CONNECT, which serve adapters may have to write themselves (Node's server never
 * hands CONNECT to the app). */
export function connectNotSupported(): Response {
  return errorResponse("connect_not_supported", "vipr routes HTTP requests by service name; CONNECT tunnels are not supported");
}

/** 413 for a request body larger than the serve adapter's maxBodyBytes, whether its Content-Length
 * said so up front or its chunks passed the limit as they streamed (forward/body-limit.ts). */
export function bodyTooLarge(maxBodyBytes: number): Response {
  return errorResponse("body_too_large", `request body is larger than ${maxBodyBytes} bytes`, { maxBodyBytes });
}
