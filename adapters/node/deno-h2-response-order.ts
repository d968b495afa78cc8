// Deno 2.9's node:http2 client emits a stream's events out of the order of its frames, and
// undici's HTTP/2 client (lib/dispatcher/client-h2.js) loses the response body when it does:
// - 'trailers' before the 'data' still buffered in the stream (seen: a grpc-js pod's unary answer,
//   HEADERS + DATA + trailers in one write, gives response, trailers, data, end under undici);
//   undici's onTrailers stops listening for 'data', so the body never reaches vipr;
// - 'data' before 'response' when the stream is already flowing (a plain node:http2 client on
//   Deno sees data, response, trailers, end); undici listens for 'data' only from 'response' on.
// Either way gRPC calls through vipr on Deno ended "No message received" (tests/forward/grpc.test.ts).
//
// On Deno only, each client stream is put back in frame order (RFC 9113 section 8.1: a response
// is HEADERS, then DATA, then an optional trailing HEADERS): 'data' before 'response' is held and
// replayed right after it, and 'trailers' is held until the body has been read, then emitted just
// before 'end' (or 'close', if the stream closes without ending). Node is left untouched. The
// patch is on ClientHttp2Session.prototype.request, the one place client streams are made, since
// undici creates its sessions itself (http2.connect inside client-h2.js) and gives no hook on them.
import http2 from "node:http2";

const patched = Symbol.for("vipr.h2ResponseOrder");

type Emit = (event: string | symbol, ...args: unknown[]) => boolean;

function restoreFrameOrder(stream: { emit: Emit }): void {
  const emit = stream.emit;
  let beforeResponse: unknown[][] | undefined = [];
  let trailers: unknown[] | undefined;
  stream.emit = function (this: unknown, event: string | symbol, ...args: unknown[]): boolean {
    if (beforeResponse !== undefined) {
      if (event === "data") {
        beforeResponse.push(args);
        return true;
      }
      if (event === "response" || event === "end" || event === "close" || event === "error") {
        const held = beforeResponse;
        beforeResponse = undefined;
        if (event === "response") {
          const result = emit.call(this, event, ...args);
          for (const data of held) emit.call(this, "data", ...data);
          return result;
        }
        for (const data of held) emit.call(this, "data", ...data);
      }
    }
    if (event === "trailers") {
      trailers = args;
      return true;
    }
    if ((event === "end" || event === "close") && trailers !== undefined) {
      const held = trailers;
      trailers = undefined;
      emit.call(this, "trailers", ...held);
    }
    return emit.call(this, event, ...args);
  };
}

/** Installs the reordering on Deno (once); does nothing on Node. */
export function fixDenoHttp2ResponseOrder(): void {
  if (!("Deno" in globalThis)) return;
  const Session = (http2 as unknown as { ClientHttp2Session?: { prototype: Record<PropertyKey, unknown> } }).ClientHttp2Session;
  const proto = Session?.prototype;
  if (proto === undefined || proto[patched] === true || typeof proto["request"] !== "function") return;
  const request = proto["request"] as (...args: unknown[]) => { emit: Emit };
  proto["request"] = function (this: unknown, ...args: unknown[]) {
    const stream = request.apply(this, args);
    restoreFrameOrder(stream);
    return stream;
  };
  proto[patched] = true;
}
