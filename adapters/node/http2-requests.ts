// The checks an HTTP/2 request gets before the app, the same limits serveNode puts on HTTP/1.1
// (serve-node.ts), so that a request is refused alike whichever protocol carried it:
// - the header block: at most maxHeaderBytes, counted as HPACK counts a field list (RFC 7541
//   section 4.1: name + value + 32 per field; what SETTINGS_MAX_HEADER_LIST_SIZE, RFC 9113
//   section 6.5.2, advertises), and at most maxHeadersCount fields beside the pseudo-fields: 431;
// - the body: a content-length above maxBodyBytes gets 413 before routing; a body without one
//   (the usual case in HTTP/2, where DATA frames end with END_STREAM, RFC 9113 section 8.1) is
//   counted as the transport reads it (router/forward/body-limit.ts), and the router
//   answers the same 413 when it passes the limit;
// - :authority with userinfo, and a Host field naming another authority than :authority (RFC
//   9113 section 8.3.1: a server should treat that as malformed): 400, as HTTP/1.1's Host rules.
// HTTP/2 answers carry no Connection field (RFC 9113 section 8.2.2; Node's compat response throws
// on one), so the one vipr sets on a 413 is dropped: the stream, not the connection, ends.

import { Http2ServerRequest, constants as http2Constants, type Http2ServerResponse } from "node:http2";
import { BodyByteLimit, setBodyLimit } from "../../router/forward/body-limit.ts";
import { bodyTooLarge, userinfoNotAllowed } from "../../router/router-errors.ts";
import { sendGrpcTrailersOnly } from "./grpc-trailers-only.ts";

export interface Http2Limits {
  readonly maxHeaderBytes: number;
  readonly maxHeadersCount: number;
  readonly maxBodyBytes?: number | undefined;
}

type Fetch = (request: Request, env: unknown) => Response | Promise<Response>;

/** `fetch` with HTTP/2's request checks in front (the list at the top of this file). */
export function http2Fetch(fetch: Fetch, limits: Http2Limits): (request: Request, env: { incoming: Http2ServerRequest; outgoing?: Http2ServerResponse }) => Response | Promise<Response> {
  return (request, env) => {
    const incoming = env.incoming;
    closeUnreadUpload(incoming, env.outgoing);
    const refused = refusedHead(incoming, limits);
    if (refused !== undefined) return withoutConnectionField(refused);
    const max = limits.maxBodyBytes;
    if (max !== undefined && !incoming.stream.endAfterHeaders) {
      const declared = incoming.headers["content-length"];
      if (declared !== undefined) {
        if (Number(declared) > max) return withoutConnectionField(bodyTooLarge(max));
      } else {
        // Counted where the undici transport reads the stream, as serveNode does for a chunked
        // HTTP/1.1 body (router/forward/body-limit.ts).
        setBodyLimit(incoming, new BodyByteLimit(max));
      }
    }
    const response = fetch(request, env);
    // vipr's own gRPC answers go out as Trailers-Only responses (grpc-trailers-only.ts).
    const send = (answer: Response): Response => sendGrpcTrailersOnly(withoutConnectionField(answer), env.outgoing);
    return response instanceof Promise ? response.then(send) : send(response);
  };
}

/**
 * Once the response has finished, a request body still coming is not wanted: the stream is closed
 * with RST_STREAM NO_ERROR, which RFC 9113 section 8.1 allows a server that answered before the
 * request was complete ("the server MAY request that the client abort transmission"). Only then:
 * until the response ends, the body streams on to the pod (gRPC's bidirectional calls read and
 * write at once). This replaces @hono/node-server's autoCleanupIncoming (listener-server.ts).
 */
function closeUnreadUpload(incoming: Http2ServerRequest, outgoing: Http2ServerResponse | undefined): void {
  if (outgoing === undefined || incoming.stream.endAfterHeaders) return;
  outgoing.once("finish", () => {
    if (incoming.readableEnded) return;
    // A tick later, as @hono/node-server did: the last DATA frames in flight may end it.
    setImmediate(() => {
      if (!incoming.readableEnded && !incoming.stream.destroyed) incoming.stream.close(http2Constants.NGHTTP2_NO_ERROR);
    });
  });
}

function refusedHead(incoming: Http2ServerRequest, limits: Http2Limits): Response | undefined {
  const raw = incoming.rawHeaders;
  let fields = 0;
  let bytes = 0;
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    bytes += name.length + raw[i + 1]!.length + 32;
    if (name.charCodeAt(0) === 58 /* ":" */) continue;
    fields++;
    if (name === "host") host = raw[i + 1];
  }
  if (limits.maxHeaderBytes > 0 && bytes > limits.maxHeaderBytes) {
    return limitResponse(431, "headers_too_large", `the request's header block is larger than ${limits.maxHeaderBytes} bytes`);
  }
  if (limits.maxHeadersCount > 0 && fields > limits.maxHeadersCount) {
    return limitResponse(431, "headers_too_large", `the request has more than ${limits.maxHeadersCount} header fields`);
  }
  const authority = incoming.authority;
  if (authority?.includes("@") === true || host?.includes("@") === true) return userinfoNotAllowed("host");
  if (host !== undefined && authority !== undefined && host.toLowerCase() !== authority.toLowerCase()) {
    return limitResponse(400, "bad_host", "the request's Host field names another authority than :authority (RFC 9113 section 8.3.1)");
  }
  return undefined;
}

/** The answer serveNode gives the same refusal over HTTP/1.1 (serve-node.ts limitResponse), in the
 * router's error shape, without its Connection field. */
function limitResponse(status: number, code: string, message: string): Response {
  const body = JSON.stringify({ error: { status, code, message } });
  return new Response(body, { status, headers: { "content-type": "application/json; charset=utf-8", "x-vipr-error": code } });
}

function withoutConnectionField(response: Response): Response {
  if (!response.headers.has("connection")) return response;
  const headers = new Headers(response.headers);
  headers.delete("connection");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** An HTTP/2 request's fields as a header list (name, value, ...), as node:http2 received them,
 * without the pseudo-fields (:method, :path, :authority, :scheme, which the request's method and
 * URL carry): what IncomingMessage.rawHeaders is to an HTTP/1.1 request, read without building
 * Web Headers. */
export function http2RequestHeaders(incoming: Http2ServerRequest): string[] {
  const raw = incoming.rawHeaders;
  const list: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) !== 58 /* ":" */) list.push(name, raw[i + 1]!);
  }
  return list;
}

/** The HTTP/2 request in a Hono env (c.env.incoming), if it is one. */
export function http2IncomingOf(env: unknown): Http2ServerRequest | undefined {
  const incoming = (env as { incoming?: unknown } | undefined)?.incoming;
  return incoming instanceof Http2ServerRequest ? incoming : undefined;
}
