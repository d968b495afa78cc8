// vipr's own failures answered as gRPC when the request is gRPC: a gRPC client reads a call's
// outcome from grpc-status, not from the HTTP status or a JSON body (a 503 without grpc-status
// only reaches it through the client's fallback table, as UNAVAILABLE with a generic message).
// gRPC's PROTOCOL-HTTP2.md: a "Trailers-Only" response is HTTP 200 with content-type
// application/grpc and grpc-status / grpc-message in the one header block, which ends the stream.
import { headerListGet } from "./header-list.ts";
import { statusOf, type RouterErrorCode } from "../router-errors.ts";

/** gRPC status codes vipr answers with (grpc/doc/statuscodes.md). */
export const GRPC_STATUS = { OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14 } as const;

/**
 * The one mapping from vipr's error codes (router-errors.ts) to gRPC status codes.
 * - UNAVAILABLE: no endpoints, a pod that could not be reached or reset the call, overload: the
 *   transient conditions statuscodes.md gives UNAVAILABLE ("most likely a transient condition and
 *   may be corrected by retrying with a backoff"), as grpc's HTTP-to-gRPC table does for 502/503.
 * - DEADLINE_EXCEEDED: vipr's timeouts, grpc-timeout included.
 * - UNIMPLEMENTED for a name vipr does not route (unknown host, service or port): what Envoy
 *   answers a gRPC request with no route (envoyproxy/envoy#22688), and what gRPC's own table maps
 *   a 404 to (doc/http-grpc-status-mapping.md). NOT_FOUND would read as the method's own answer
 *   ("some requested entity was not found"), which a client may act on as application data.
 * - UNAVAILABLE for a Gateway API rule without a backend that resolves (invalid_backend):
 *   GRPCRouteRule.BackendRefs, "all traffic which matches this rule MUST receive an UNAVAILABLE
 *   status"; an HTTPRoute's rule reached by a gRPC call gets the same.
 * - The rest by what they mean to a caller: a refused request INVALID_ARGUMENT or
 *   PERMISSION_DENIED, a body over the limit RESOURCE_EXHAUSTED (statuscodes.md lists it for a
 *   message larger than allowed), a client that left CANCELLED.
 */
export const grpcStatusOf: Readonly<Record<RouterErrorCode, number>> = {
  unknown_host: GRPC_STATUS.UNIMPLEMENTED,
  unknown_service: GRPC_STATUS.UNIMPLEMENTED,
  unknown_port: GRPC_STATUS.UNIMPLEMENTED,
  no_endpoints: GRPC_STATUS.UNAVAILABLE,
  upstream_connect: GRPC_STATUS.UNAVAILABLE,
  upstream_reset: GRPC_STATUS.UNAVAILABLE,
  upstream_protocol: GRPC_STATUS.INTERNAL,
  upstream_timeout: GRPC_STATUS.DEADLINE_EXCEEDED,
  connect_not_supported: GRPC_STATUS.UNIMPLEMENTED,
  external_name_not_allowed: GRPC_STATUS.PERMISSION_DENIED,
  bad_subset: GRPC_STATUS.INVALID_ARGUMENT,
  overloaded: GRPC_STATUS.UNAVAILABLE,
  upgrade_not_supported: GRPC_STATUS.UNIMPLEMENTED,
  body_too_large: GRPC_STATUS.RESOURCE_EXHAUSTED,
  method_not_allowed: GRPC_STATUS.UNIMPLEMENTED,
  userinfo_not_allowed: GRPC_STATUS.INVALID_ARGUMENT,
  https_not_supported: GRPC_STATUS.UNAVAILABLE,
  client_aborted: GRPC_STATUS.CANCELLED,
  invalid_backend: GRPC_STATUS.UNAVAILABLE,
};

/** A gRPC request: content-type application/grpc or application/grpc+<format> (PROTOCOL-HTTP2.md).
 * gRPC-Web (application/grpc-web*) is not: its clients read trailers from the body. */
export function isGrpcRequest(headers: readonly string[]): boolean {
  const type = headerListGet(headers, "content-type");
  if (type === undefined || type.length < 16) return false;
  const lower = type.toLowerCase();
  return lower.startsWith("application/grpc") && (lower.length === 16 || lower[16] === "+" || lower[16] === ";");
}

/** grpc-message's encoding (PROTOCOL-HTTP2.md): UTF-8, then every byte outside 0x20..0x7E, and
 * "%" itself, percent-encoded. */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(message)) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** vipr's answer to a gRPC request as a Trailers-Only response: 200, no body, the status in the
 * header block (which the serve adapter sends with END_STREAM, as there is no body). */
export function grpcErrorResponse(code: RouterErrorCode, message: string): Response {
  return new Response(null, {
    status: 200,
    headers: { "content-type": "application/grpc", "grpc-status": String(grpcStatusOf[code]), "grpc-message": encodeGrpcMessage(message), "x-vipr-error": code },
  });
}

/** The HTTP status vipr's JSON answer would have had: what metrics and the access log count for a
 * gRPC answer (its wire status is always 200), so a failed call is never counted as a 200. */
export function httpStatusOfGrpcAnswer(code: RouterErrorCode): number {
  return statusOf[code];
}

/**
 * A pod's grpc-status that counts as a failed try for passive health: the ones that say the pod
 * (not the call) is in trouble, the statuses Envoy maps to 5xx for its outlier detection
 * (source/common/grpc/status.cc grpcToHttpStatus) except UNIMPLEMENTED, which a healthy pod
 * answers to a method it does not have: UNKNOWN, DEADLINE_EXCEEDED, INTERNAL, UNAVAILABLE,
 * DATA_LOSS. Application answers (NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION, ...) are not.
 */
export function isGrpcFailureStatus(status: number | undefined): boolean {
  return status === 2 || status === 4 || status === 13 || status === 14 || status === 15;
}
