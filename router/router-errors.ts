// Error responses with one stable JSON shape, so clients and tests can read why vipr answered
// instead of a backend:
//   {"error":{"status":404,"code":"unknown_service","message":"...", ...details}}
// Codes: unknown_host / unknown_service / unknown_port (404), no_endpoints (503),
// upstream_connect / upstream_reset / upstream_protocol (502), upstream_timeout (504),
// connect_not_supported (405), external_name_not_allowed (403), bad_subset (400), overloaded (503,
// a concurrency limit: concurrency-limits.ts), upgrade_not_supported (501, a protocol upgrade such
// as WebSocket), body_too_large (413: maxBodyBytes of the serve
// adapters, forward/body-limit.ts), method_not_allowed (405, TRACE), userinfo_not_allowed (400),
// https_not_supported (421, an absolute-form https:// target), client_aborted (499, the client left
// or its request body broke off: logged and counted, never sent, never the pod's fault),
// invalid_backend (500, an HTTPRoute rule without a backend that resolves: router/gateway-api/).

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
  | "body_too_large"
  | "method_not_allowed"
  | "userinfo_not_allowed"
  | "https_not_supported"
  | "client_aborted"
  | "invalid_backend";

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
  method_not_allowed: 405,
  userinfo_not_allowed: 400,
  // RFC 9110 section 15.5.20: the server is "unable or unwilling to produce an authoritative
  // response for the target URI". An https origin is answered authoritatively only over TLS with a
  // certificate for its name (section 4.3.3); vipr listens and dials pods in cleartext, so it can
  // be neither, and forwarding over plain HTTP would downgrade the client's request behind its
  // back. 421 says the request was not processed (the client may send it elsewhere), where 502
  // would blame a pod and 400 would call a valid request malformed.
  https_not_supported: 421,
  // nginx's 499 ("client closed request"): only logs and metrics see it, the client is gone. It
  // keeps a client's abandoned request out of the 5xx a pod is judged by.
  client_aborted: 499,
  // A Gateway API rule with no backend, or whose chosen backend does not resolve: the spec's 500
  // (gateway-api apis/v1/httproute_types.go HTTPRouteRule.BackendRefs).
  invalid_backend: 500,
};

/** The methods vipr passes on, for Allow in its 405 answers (RFC 9110 section 10.2.1). Other
 * extension methods pass too; these are the ones a client can count on. */
export const ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

/** A JSON error response; `details` are added beside code and message. */
export function errorResponse(code: RouterErrorCode, message: string, details: Readonly<Record<string, unknown>> = {}): Response {
  const status = statusOf[code];
  const body = JSON.stringify({ error: { status, code, message, ...details } });
  const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8", "x-vipr-error": code };
  // RFC 9110 section 15.5.6: a 405 carries Allow.
  if (code === "connect_not_supported" || code === "method_not_allowed") headers["allow"] = ALLOWED_METHODS;
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

/**
 * The answer to TRACE (and TRACK, IIS's name for it), never sent to a pod: TRACE asks the last
 * recipient to echo the request it received (RFC 9110 section 9.3.8), cookies and Authorization
 * included, which is what cross-site tracing reads; nginx refuses it with 405 for that reason.
 * RFC 9110 section 9.3.8 itself says a client must not send credentials in TRACE, which no proxy
 * can enforce. Node's parser (serveNode, on Node and Deno) refuses TRACK with 400 before the app;
 * Deno.serve passes it on as an extension method, so it is refused here too.
 */
export function traceNotAllowed(method: "TRACE" | "TRACK"): Response {
  return errorResponse("method_not_allowed", `vipr does not forward ${method}: a pod would echo the request's credentials back (cross-site tracing)`, {
    method,
    allow: ALLOWED_METHODS.split(", "),
  });
}

/** 400 for a request whose Host or absolute-form target carries userinfo ("user@host"): RFC 9110
 * section 4.2.4 forbids userinfo in http(s) URIs and tells a recipient to treat it as an error
 * (it is a classic phishing form, and a backend could read it as the host). The userinfo itself is
 * not echoed: it may be a password. */
export function userinfoNotAllowed(where: "host" | "target"): Response {
  const field = where === "host" ? "the Host field" : "the request-target";
  return errorResponse("userinfo_not_allowed", `${field} carries userinfo (user@host), which RFC 9110 section 4.2.4 forbids in http(s) URIs`, { in: where });
}

/** 413 for a request body larger than the serve adapter's maxBodyBytes, whether its Content-Length
 * said so up front or its chunks passed the limit as they streamed (forward/body-limit.ts). */
export function bodyTooLarge(maxBodyBytes: number): Response {
  return errorResponse("body_too_large", `request body is larger than ${maxBodyBytes} bytes`, { maxBodyBytes });
}
