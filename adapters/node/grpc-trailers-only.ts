// vipr's own gRPC answers (router/forward/grpc-status.ts) as a real Trailers-Only response on an
// HTTP/2 stream: one HEADERS frame carrying :status 200, content-type and grpc-status, with
// END_STREAM (gRPC's PROTOCOL-HTTP2.md, "Trailers-Only"). Through node:http2's compat response the
// same Response would go out as HEADERS, then an empty DATA or trailers frame ending the stream
// (it responds with waitForTrailers), and with the request body still coming the stream is reset
// between the two: grpc-js then reports INTERNAL "Received RST_STREAM with code 0" instead of
// vipr's status (seen with tests/forward/grpc.test.ts).
import type { Http2ServerResponse, OutgoingHttpHeaders } from "node:http2";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";

/** Writes `response` as a Trailers-Only response on `outgoing`'s stream and returns
 * RESPONSE_ALREADY_SENT when it is one of vipr's gRPC answers (bodiless, with grpc-status);
 * otherwise returns it unchanged. */
export function sendGrpcTrailersOnly(response: Response, outgoing: Http2ServerResponse | undefined): Response {
  if (outgoing === undefined || response.body !== null || !response.headers.has("grpc-status") || response.headers.get("content-type") !== "application/grpc") return response;
  const stream = outgoing.stream;
  if (stream.destroyed || stream.headersSent) return response;
  const headers: OutgoingHttpHeaders = { ":status": response.status };
  response.headers.forEach((value, name) => (headers[name] = value));
  stream.respond(headers, { endStream: true });
  return RESPONSE_ALREADY_SENT;
}
