// The contract between the router and a runtime's upstream transport. The router decides where a
// request goes and which fields it carries (forward-headers.ts); a transport (adapters/node,
// adapters/deno) owns the connections: keep-alive pools per target, streaming both ways,
// timeouts, and the mapping of its runtime's errors to UpstreamError.

import type { Context } from "hono";
import type { HeaderList } from "./header-list.ts";
import { headerListFromHeaders } from "./header-list.ts";
import type { RequestBodyCopy } from "./request-body-copy.ts";

/** One endpoint to forward to. `identity` (pod name or hostname) names it in errors and logs. */
export interface UpstreamTarget {
  readonly address: string;
  readonly port: number;
  readonly addressType: "IPv4" | "IPv6";
  readonly identity: string;
}

/** "10.0.0.7:8080", "[fd00::7]:8080": the key of a target's pool, as `retain` takes it. */
export function targetKey(target: Pick<UpstreamTarget, "address" | "port" | "addressType">): string {
  return target.addressType === "IPv6" ? `[${target.address}]:${target.port}` : `${target.address}:${target.port}`;
}

/** How one forwarded request ended, after forward() resolved. */
export interface UpstreamOutcome {
  /** The response body reached the client whole. */
  readonly ok: boolean;
  /** Response body bytes written downstream. */
  readonly bytesOut: number;
  /** Why it did not end well; absent when ok. */
  readonly error?: UpstreamError;
  /** The pod's grpc-status (from its trailers, or its header block for a Trailers-Only answer),
   * for passive health (forward/grpc-status.ts); absent for responses without one. */
  readonly grpcStatus?: number;
}

export interface UpstreamCall {
  readonly method: string;
  /** Path and query to send, e.g. "/info?x=1". */
  readonly path: string;
  /** The request fields to send (HeaderForwarder.request). */
  readonly headers: HeaderList;
  /** Turns the upstream response's fields (lowercase names) into the fields sent downstream:
   * pass HeaderForwarder.response. Called once, when the response head arrives. */
  readonly rewriteResponseHeaders: (upstream: HeaderList) => HeaderList;
  /** Time to open a connection. 0: no limit. (Node: fixed per target by its first call.) */
  readonly connectTimeoutMs: number;
  /** Time until the response head arrives, from when the request has been sent (its body
   * included). 0: no limit. */
  readonly responseTimeoutMs: number;
  /** Longest silence while the response body streams (time the body is paused for a slow client
   * does not count). 0: no limit. */
  readonly idleTimeoutMs: number;
  /** Milliseconds left, when the call is made, until the response head must have arrived: what
   * is left of the overall request timeout, across tries (0 or less: already passed). Unlike
   * responseTimeoutMs it also runs while the try waits for a connection and sends its body.
   * Relative, so the router's monotonic clock (ServiceRouterOptions.monotonicNow) and the
   * transport's own need not be one clock. Absent or undefined: none. */
  readonly requestTimeLeftMs?: number | undefined;
  /** The response head arrived (final status, never 1xx). Both reports are called as methods of
   * the call (`call.onResponse(status)`), which may be a class instance (forward-stage.ts). */
  readonly onResponse?: (status: number) => void;
  /** Called once, when the response body ended or failed; only if forward() resolved (a rejected
   * forward() is its own outcome). */
  readonly onEnd?: (outcome: UpstreamOutcome) => void;
  /** "h2c": the service port says HTTP/2 or gRPC (service-port.ts upstreamProtocolOf): HTTP/2 with
   * prior knowledge to the pod. Absent: HTTP/1.1. */
  readonly upstreamProtocol?: "h2c" | undefined;
  /** Asked once the response head arrives, before anything goes to the client: true drops this
   * response (the try's connection or stream is closed) and forward() rejects with
   * RetriedStatusError, for the caller to try again (a Gateway API rule's retry codes). */
  readonly retryStatus?: ((status: number) => boolean) | undefined;
  /** Where the request body is copied as it is sent (request-body-copy.ts); a try whose copy is
   * whole sends the copy instead of reading the client. */
  readonly bodyCopy?: RequestBodyCopy | undefined;
}

/**
 * - connect: no connection could be made (refused, unreachable, the pool was closed).
 * - timeout: connect, response head or body idle timeout.
 * - reset: the backend closed or reset the connection mid-exchange.
 * - protocol: the backend's response, or the request as given, is not valid HTTP.
 * - aborted: the client went away, its request body broke off as it was read (closed or reset
 *   mid-upload, shorter than its Content-Length), or it passed maxBodyBytes (cause
 *   BodyTooLargeError, body-limit.ts); not the backend's fault: never retried, kept out of passive
 *   health and of upstream error metrics (the router answers client_aborted, 499).
 */
export type UpstreamErrorKind = "connect" | "timeout" | "reset" | "protocol" | "aborted";

export class UpstreamError extends Error {
  override readonly name = "UpstreamError";
  readonly kind: UpstreamErrorKind;
  readonly target: UpstreamTarget;
  /** False when nothing reached the backend and the same request can be sent again (its body,
   * if any, is still unread or replayable): safe to retry, even for a POST. */
  readonly sentRequest: boolean;

  constructor(kind: UpstreamErrorKind, target: UpstreamTarget, sentRequest: boolean, detail: string, options?: { cause?: unknown }) {
    super(`upstream ${targetKey(target)} (${target.identity}): ${detail}`, options);
    this.kind = kind;
    this.target = target;
    this.sentRequest = sentRequest;
  }
}

/** The pod answered `status`, which UpstreamCall.retryStatus asked to retry: that response was
 * dropped before any of it reached the client. */
export class RetriedStatusError extends Error {
  override readonly name = "RetriedStatusError";
  readonly status: number;
  readonly target: UpstreamTarget;

  constructor(status: number, target: UpstreamTarget) {
    super(`upstream ${targetKey(target)} (${target.identity}) answered ${status}, which the route retries`);
    this.status = status;
    this.target = target;
  }
}

export interface UpstreamTransport {
  /**
   * Sends the request in `c` to `target` and streams the response back. Resolves once the
   * response head has arrived, with the Response for the handler to return (on Node, with the
   * raw response at hand, the head and body are already written and this is
   * RESPONSE_ALREADY_SENT). Rejects with UpstreamError before that. Later failures abort the
   * downstream response and are reported by `call.onEnd`.
   */
  forward(c: Context, target: UpstreamTarget, call: UpstreamCall): Promise<Response>;
  /** Closes the pools of targets whose targetKey() is not in `keys` (in-flight requests finish). */
  retain(keys: ReadonlySet<string>): void;
  /** Sends a copy of a request to `endpoint` ("address:port", as targetKey) in HTTP/2 with prior
   * knowledge and discards the answer: a GRPCRoute's RequestMirror (gateway-forwarding.ts), which
   * a gRPC pod takes only in HTTP/2. Resolves once the answer was read or dropped. Optional: without
   * it, gRPC mirrors are logged as not sent. */
  mirrorH2c?(target: UpstreamTarget, method: string, path: string, fields: readonly string[], body: Uint8Array | undefined): Promise<void>;
  /** Closes every pool; in-flight requests finish first. */
  close(): Promise<void>;
}

/** The client's address ("" when not known), from the runtime's connection info in `c.env`. Each
 * serve adapter implements it. */
export type ClientAddressOf = (c: Context) => string;

/** The protocol the client's request came over ("http/1.1", "h2", "h2c"; "" when not known), for
 * the access log. Each serve adapter implements it. */
export type RequestProtocolOf = (c: Context) => string;

/** The request's fields as a header list. Each serve adapter implements it from what its runtime
 * has at hand without building Web objects (Node: IncomingMessage.rawHeaders). */
export type RequestHeadersOf = (c: Context) => readonly string[];

/** RequestHeadersOf for any runtime, from the Web Request. */
export const webRequestHeaders: RequestHeadersOf = (c) => headerListFromHeaders(c.req.raw.headers);
