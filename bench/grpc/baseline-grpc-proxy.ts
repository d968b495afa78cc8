// The gRPC baseline of bench:grpc: a minimal hand-written proxy, a node:http2 h2c server whose every
// stream is relayed on one node:http2 client session to the pod: request headers and DATA up,
// response headers, DATA and trailers (grpc-status) down. Hand-written on purpose: it is the
// least a gRPC-capable HTTP/2 proxy does, what vipr's gRPC path is compared against. Run by Node or
// by Deno. Usage: node bench/grpc/baseline-grpc-proxy.ts PORT POD_PORT   (prints "ready PORT")
import http2, { type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";

const podPort = Number(process.argv[3]);
let session: http2.ClientHttp2Session | undefined;
function podSession(): http2.ClientHttp2Session {
  if (session === undefined || session.closed || session.destroyed) {
    const opened = http2.connect(`http://127.0.0.1:${podPort}`);
    opened.on("error", () => {});
    opened.once("close", () => session === opened && (session = undefined));
    session = opened;
  }
  return session;
}

// RFC 9113 §8.2.2: connection-specific fields are not forwarded; pseudo-headers are rebuilt.
const dropped = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", ":status"]);
function forwarded(headers: IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !dropped.has(name)) out[name] = value;
  return out;
}

const server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
  const upstream = podSession().request(forwarded(headers));
  stream.pipe(upstream);
  let trailers: IncomingHttpHeaders | undefined;
  upstream.on("response", (response, flags) => {
    if (stream.destroyed) return;
    // A Trailers-Only response (gRPC over HTTP/2: HEADERS with END_STREAM) is relayed as one.
    if ((flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0) return stream.respond({ ...forwarded(response), ":status": response[":status"] }, { endStream: true });
    stream.respond({ ...forwarded(response), ":status": response[":status"] }, { waitForTrailers: true });
    stream.once("wantTrailers", () => stream.sendTrailers(trailers === undefined ? { "grpc-status": "14", "grpc-message": "no trailers from the pod" } : forwarded(trailers)));
    upstream.pipe(stream);
  });
  upstream.on("trailers", (received) => (trailers = received));
  upstream.on("error", () => stream.destroyed || stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
  stream.on("error", () => upstream.destroyed || upstream.close(http2.constants.NGHTTP2_CANCEL));
});
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => console.log(`ready ${(server.address() as AddressInfo).port}`));
