// The Node upstream transport: one undici Pool per target (keep-alive, pipelining 1), the
// response streamed straight into the raw ServerResponse and the request body straight from the
// raw IncomingMessage, bypassing Web Request/Response objects. Measured on this machine (issue 3),
// Hono forwarding through fetch reached 0.32x of a node:http + undici Pool.stream() proxy; a
// handler writing into the raw response and returning RESPONSE_ALREADY_SENT reached 0.96x.
//
// It dispatches with its own handler rather than calling Pool.stream(): Pool.stream() is this
// same dispatch with a generic handler (an AsyncResource and a Writable lifecycle tracker per
// request) that hides the moment the request starts going out on a connected socket
// (onRequestStart), which is what makes UpstreamError.sentRequest exact, and that destroys the
// request body on failure, which would kill the client's connection before a 502 could be sent.
//
// Without the raw Node objects in c.env (app.request() in tests, another server), it falls back
// to Pool.request() and returns a Web Response whose body streams.

import { IncomingMessage, ServerResponse } from "node:http";
import { Http2ServerRequest, Http2ServerResponse, type OutgoingHttpHeaders } from "node:http2";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { Context } from "hono";
import { Pool } from "undici";
import type { Dispatcher } from "undici";
import { headerListFromRecord, headersFromHeaderList } from "../../router/forward/header-list.ts";
import { bodyLimitOf, bodyTooLargeOf, upstreamBodyTooLarge, type BodyByteLimit } from "../../router/forward/body-limit.ts";
import { ReplayableBody } from "../../router/forward/replayable-body.ts";
import type { RequestBodyCopy } from "../../router/forward/request-body-copy.ts";
import type { UpstreamCall, UpstreamErrorKind, UpstreamOutcome, UpstreamTarget, UpstreamTransport } from "../../router/forward/upstream-transport.ts";
import { RetriedStatusError, UpstreamError, targetKey } from "../../router/forward/upstream-transport.ts";
import { GRPC_STATUS, encodeGrpcMessage } from "../../router/forward/grpc-status.ts";
import { DeadlineQueue } from "./deadline-queue.ts";
import { CallTimeouts, systemClock, timedConnector, timeoutWindowsOf } from "./upstream-timeouts.ts";
import { fixDenoHttp2ResponseOrder } from "./deno-h2-response-order.ts";

// Deno only: HTTP/2 response bodies reach undici (deno-h2-response-order.ts).
fixDenoHttp2ResponseOrder();

export interface UndiciTransportOptions {
  /** Connections per target; null: as many as there are concurrent requests. Default null. */
  readonly connectionsPerTarget?: number | null;
  /** How long an idle keep-alive connection is kept, unless the backend's Keep-Alive hint says
   * less. Default 4000 (undici's). */
  readonly keepAliveTimeoutMs?: number;
  /** Fallback path only: request body bytes kept for a retry after a failed connect. Default 256 KiB. */
  readonly replayLimitBytes?: number;
}

/** The error a transport aborts with when the client goes away, or when the client's request
 * body fails as it is read (kind "aborted": the client's failure, never the pod's). */
/** The raw request and response a serve adapter hands over: node:http's, or node:http2's compat
 * objects for an HTTP/2 stream (adapters/node/listener-server.ts), which stream alike. */
type RawRequest = IncomingMessage | Http2ServerRequest;
type RawResponse = ServerResponse | Http2ServerResponse;

class DownstreamClosedError extends Error {
  override readonly name = "DownstreamClosedError";
  constructor(message = "the client closed the connection before the response was complete", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The TLS server name given with every dispatch. Without one, undici derives it from the Host
 * field on every request (lib/core/request.js, getServerName: net.isIP, whose IPv6 regular
 * expression showed in issue 11's profile), and uses it only for https: origins. These pools dial
 * pods in cleartext (http://, h2c too), where it is never read.
 */
const CLEARTEXT_SERVERNAME = "cleartext";
/** undici's Request reads `servername` from the dispatch options; its types do not list it. */
interface ServerNamed {
  readonly servername: string;
}

const connectCodes = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ENETDOWN", "EADDRNOTAVAIL", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_DESTROYED", "UND_ERR_CLOSED"]);
const timeoutCodes = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT"]);
// UND_ERR_INFO: undici closed the socket under the request ("reset", "socket idle timeout").
const resetCodes = new Set(["UND_ERR_SOCKET", "UND_ERR_INFO", "ECONNRESET", "EPIPE", "ECONNABORTED"]);

/**
 * An undici or socket error as an UpstreamError. `sentRequest` is whether the request had started
 * going out on a connected socket; undefined when the caller cannot tell (Pool.request()), then it
 * is inferred: only failures to connect are known to have sent nothing.
 * A connect timeout is kind "timeout" (a 504, as nginx answers) with sentRequest false.
 */
export function upstreamErrorFromUndici(error: unknown, target: UpstreamTarget, sentRequest: boolean | undefined, responseStarted = false): UpstreamError {
  if (error instanceof UpstreamError) return error;
  // undici fails the request with the error its body stream was destroyed with (IncomingBody).
  const tooLarge = bodyTooLargeOf(error);
  if (tooLarge !== undefined) return upstreamBodyTooLarge(target, tooLarge, responseStarted);
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
  let kind: UpstreamErrorKind = "protocol";
  if (error instanceof DownstreamClosedError) kind = "aborted";
  else if (connectCodes.has(code)) kind = "connect";
  else if (timeoutCodes.has(code)) kind = "timeout";
  else if (resetCodes.has(code)) kind = "reset";
  // UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: the client's body ended short of its Content-Length.
  else if (code === "UND_ERR_ABORTED" || code === "UND_ERR_ABORT" || code === "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH") kind = "aborted";
  const unsent = kind === "connect" || code === "UND_ERR_CONNECT_TIMEOUT";
  const message = error instanceof Error ? error.message : String(error);
  return new UpstreamError(kind, target, sentRequest ?? !unsent, `${kind}: ${code === "" ? "" : `${code} `}${message}`, { cause: error });
}

/** The request body read from the raw IncomingMessage only when undici starts sending it, which
 * is after the connection opened: a request that failed to connect leaves the client's body unread
 * for a retry. Destroying this (undici does, on failure) leaves the IncomingMessage alone, so the
 * client can still be answered. A body serveNode put a limit on (chunked, with maxBodyBytes) is
 * counted here, and destroyed with BodyTooLargeError at the first chunk past the limit: undici
 * then aborts the upstream request, which never got that chunk.
 * With a copy (UpstreamCall.bodyCopy), the first body to read the client records what it passes
 * on; a later try whose copy is whole sends the copy (the client's body has been read through). */
class IncomingBody extends Readable {
  readonly #source: RawRequest;
  readonly #limit: BodyByteLimit | undefined;
  readonly #copy: RequestBodyCopy | undefined;
  #recording = false;
  #attached = false;

  constructor(source: RawRequest, copy: RequestBodyCopy | undefined) {
    super();
    this.#source = source;
    this.#limit = bodyLimitOf(source);
    this.#copy = copy;
    copy?.expectBody();
  }

  readonly #onData = (chunk: Buffer): void => {
    const tooLarge = this.#limit?.admit(chunk.length);
    if (tooLarge !== undefined) {
      this.destroy(tooLarge);
      // The rest of the body is read and dropped (nothing listens for it any more) until the 413
      // closes the connection. Destroying the IncomingMessage would destroy the client's socket
      // before the 413; pausing it would leave unread bytes in the socket, and a socket closed
      // with unread bytes sends RST, which can discard the 413 before the client reads it (seen
      // in tests/safety/body-limit.test.ts under load) — NGINX's lingering close avoids the same.
      this.#source.resume();
      return;
    }
    if (this.#recording) this.#copy!.add(chunk);
    if (!this.push(chunk)) this.#source.pause();
  };
  readonly #onEnd = (): void => {
    if (this.#recording) this.#copy!.end();
    this.push(null);
  };
  // A body that fails here failed on the client's side: a client that hangs up mid-upload makes
  // the IncomingMessage fail with ECONNRESET "aborted" (Deno's node:http reports it before the
  // response's close), which would otherwise read as the pod resetting (issue 17).
  readonly #onError = (error: Error): void => {
    this.destroy(new DownstreamClosedError(`the client's request body failed: ${error.message}`, { cause: error }));
  };
  readonly #onClose = (): void => {
    if (!this.#source.complete) this.destroy(new DownstreamClosedError("the client closed the connection before the request body was complete"));
  };

  override _read(): void {
    if (!this.#attached) {
      this.#attached = true;
      const whole = this.#copy?.wholeChunks;
      if (whole !== undefined) {
        for (const chunk of whole) this.push(chunk);
        this.push(null);
        return;
      }
      this.#recording = this.#copy?.startRecording() ?? false;
      this.#source.on("data", this.#onData);
      this.#source.on("end", this.#onEnd);
      this.#source.on("error", this.#onError);
      this.#source.on("close", this.#onClose);
    }
    this.#source.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A body that did not end through this reader leaves an incomplete copy (after end: no-op).
    if (this.#recording) this.#copy!.close();
    if (this.#attached) {
      this.#source.off("data", this.#onData);
      this.#source.off("end", this.#onEnd);
      this.#source.off("error", this.#onError);
      this.#source.off("close", this.#onClose);
    }
    callback(error);
  }
}

/** RFC 9112 section 6.3: a request has a body when it has Transfer-Encoding, or a Content-Length
 * other than 0. An HTTP/2 request has one unless its HEADERS frame ended the stream (RFC 9113
 * section 8.1), with or without content-length. */
function hasBody(incoming: RawRequest): boolean {
  if (incoming instanceof Http2ServerRequest) return !incoming.stream.endAfterHeaders;
  const headers = incoming.headers;
  if (headers["transfer-encoding"] !== undefined) return true;
  const length = headers["content-length"];
  return length !== undefined && length !== "0";
}

/**
 * The request body as undici is given it. To an h2c pod it goes as an async iterable, not a
 * stream: undici's HTTP/2 stream path (pipeline into the h2 stream, with a 'data' listener added
 * on that same duplex) loses the response body under Deno 2.9's node:http2 (an empty 200, seen
 * with tests/forward/h2c-upstream.test.ts); its iterable path writes with backpressure too
 * (waiting for 'drain') and works on both runtimes.
 */
function upstreamBody(body: IncomingBody, protocol: UpstreamCall["upstreamProtocol"]): Readable {
  if (protocol !== "h2c") return body;
  // undici takes async iterables as bodies (lib/core/request.js, util.isIterable); its types list streams only.
  return { [Symbol.asyncIterator]: () => body[Symbol.asyncIterator]() } as unknown as Readable;
}

/** The trailer fields worth relaying, undefined when there are none (most responses). HTTP/1.1
 * trailers reach a client only in a chunked response (RFC 9112 section 7.1.2); Node's
 * ServerResponse drops them otherwise. */
function trailerFields(trailers: Record<string, string | string[] | undefined> | undefined): Record<string, string | string[]> | undefined {
  if (trailers === undefined) return undefined;
  let fields: Record<string, string | string[]> | undefined;
  for (const name in trailers) {
    const value = trailers[name];
    if (value === undefined || name.charCodeAt(0) === 58 /* ":" */) continue;
    (fields ??= {})[name] = value;
  }
  return fields;
}

/** A header list as node:http2's respond() takes it, with :status (repeated names as arrays). */
function outgoingHeaders(status: number, fields: readonly string[]): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ":status": status };
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toLowerCase();
    const value = fields[i + 1]!;
    const seen = headers[name];
    headers[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [String(seen), value];
  }
  return headers;
}

/** Writes one upstream response into the raw ServerResponse. */
class ResponseWriter implements Dispatcher.DispatchHandler {
  readonly #target: UpstreamTarget;
  readonly #call: UpstreamCall;
  readonly #outgoing: RawResponse;
  readonly #resolve: (response: Response) => void;
  readonly #reject: (error: UpstreamError | RetriedStatusError) => void;
  readonly #timeouts: CallTimeouts;
  #controller: Dispatcher.DispatchController | undefined;
  /** A timeout that fired while the request waited for a connection. */
  #expired: Error | undefined;
  #sentRequest = false;
  #headSent = false;
  #done = false;
  #bytesOut = 0;
  /** The pod answered with content-type application/grpc*. */
  #grpcResponse = false;
  /** A gRPC Trailers-Only head from the pod, held to be sent with END_STREAM at the end. */
  #trailersOnly: { status: number; fields: string[] } | undefined = undefined;
  /** The pod's grpc-status, once seen (head or trailers). */
  #grpcStatus: number | undefined = undefined;
  #clientGone: DownstreamClosedError | undefined;
  /** Listening for 'drain': only while the body is paused for a slow client (most responses
   * never are, and each listener costs an add and a remove). */
  #awaitingDrain = false;

  constructor(target: UpstreamTarget, call: UpstreamCall, outgoing: RawResponse, deadlines: DeadlineQueue, resolve: (response: Response) => void, reject: (error: UpstreamError | RetriedStatusError) => void) {
    this.#target = target;
    this.#call = call;
    this.#outgoing = outgoing;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#timeouts = new CallTimeouts(deadlines, timeoutWindowsOf(call, deadlines), this.#onTimeout);
    if (outgoing.destroyed) this.#clientGone = new DownstreamClosedError();
    outgoing.on("close", this.#onClose);
  }

  readonly #onClose = (): void => {
    // node:http2's compat response reports writableFinished once its stream closed, a reset one
    // too: there, only an end() that was called says the response was finished.
    const outgoing = this.#outgoing;
    if (this.#done || (outgoing instanceof Http2ServerResponse ? outgoing.writableEnded : outgoing.writableFinished)) return;
    this.#clientGone = new DownstreamClosedError();
    this.#controller?.abort(this.#clientGone);
  };
  /** Made on the first pause: most responses never wait for 'drain', and a closure per request
   * shows in issue 11's profile. */
  #onDrain: (() => void) | undefined = undefined;
  #drained(): void {
    this.#awaitingDrain = false;
    this.#outgoing.off("drain", this.#onDrain!);
    this.#controller?.resume();
    this.#timeouts.resumed();
  }
  readonly #onTimeout = (error: Error): void => {
    if (this.#done) return;
    const controller = this.#controller;
    if (controller !== undefined) {
      // onResponseError follows, synchronously: a 504 before the head, an aborted body after.
      controller.abort(error);
      return;
    }
    // Still waiting for a connection: undici gives a dispatch handler no way to take its request
    // out of the pool's queue, so the try fails now and its request is aborted, unsent, when it
    // would start (onRequestStart).
    this.#expired = error;
    this.#done = true;
    this.#detach();
    this.#reject(upstreamErrorFromUndici(error, this.#target, false));
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    // A client that left, or a timeout that fired, while the request waited for a connection.
    const gone = this.#clientGone ?? this.#expired;
    if (gone !== undefined) {
      controller.abort(gone);
      return;
    }
    this.#sentRequest = true;
  }

  onRequestSent(): void {
    this.#timeouts.requestSent();
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    // 1xx: Node's server sends its own 100 Continue; other interim responses are not relayed.
    if (statusCode < 200) return;
    if (this.#call.retryStatus?.(statusCode) === true) {
      // Dropped unseen: the try ends here and its stream or connection is closed, rather than read
      // through (an error body can be long or slow, and the retry should not wait for it).
      const retried = new RetriedStatusError(statusCode, this.#target);
      this.#done = true;
      this.#detach();
      this.#reject(retried);
      controller.abort(retried);
      return;
    }
    const outgoing = this.#outgoing;
    this.#timeouts.headArrived();
    // gRPC's Trailers-Only answer carries grpc-status here (passive health reads it).
    const grpcStatus = headers["grpc-status"];
    if (typeof grpcStatus === "string") this.#grpcStatus = Number(grpcStatus);
    const fields = this.#call.rewriteResponseHeaders(headerListFromRecord(headers));
    const type = headers["content-type"];
    this.#grpcResponse = typeof type === "string" && type.startsWith("application/grpc");
    if (typeof grpcStatus === "string" && outgoing instanceof Http2ServerResponse) {
      // A Trailers-Only answer (gRPC's PROTOCOL-HTTP2.md: grpc-status in the one header block,
      // which ended the pod's stream) is sent on as one, at its end: node:http2's compat response
      // would send the head without END_STREAM and then end the stream with no grpc-status after
      // it, which grpc-js reports as INTERNAL "Call ended without gRPC status".
      this.#trailersOnly = { status: statusCode, fields };
    } else {
      (outgoing as ServerResponse).writeHead(statusCode, fields);
    }
    this.#headSent = true;
    this.#call.onResponse?.(statusCode);
    this.#resolve(RESPONSE_ALREADY_SENT);
    if (outgoing.writableNeedDrain) this.#pause(controller);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // Not Trailers-Only after all (a body followed): the head goes out as usual.
    const held = this.#trailersOnly;
    if (held !== undefined) {
      this.#trailersOnly = undefined;
      (this.#outgoing as ServerResponse).writeHead(held.status, held.fields);
    }
    this.#bytesOut += chunk.length;
    this.#timeouts.bodyData();
    if (!(this.#outgoing as ServerResponse).write(chunk)) this.#pause(controller);
  }

  #pause(controller: Dispatcher.DispatchController): void {
    if (!this.#awaitingDrain) {
      this.#awaitingDrain = true;
      this.#outgoing.on("drain", (this.#onDrain ??= () => this.#drained()));
    }
    controller.pause();
    this.#timeouts.paused();
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    // The pod's trailer fields go on as the response's trailers: gRPC's status (grpc-status,
    // grpc-message and -bin metadata) travels there (gRPC's PROTOCOL-HTTP2.md). undici hands
    // HTTP/2 trailers here (client-h2.js onTrailers); node:http2's compat response sends them in
    // a HEADERS frame with END_STREAM (it always responds with waitForTrailers).
    const fields = trailerFields(trailers);
    // A gRPC response must end with grpc-status (gRPC's PROTOCOL-HTTP2.md); one that ended without
    // it broke off (Deno's node:http2 reports a pod killed mid-stream as a plain end): it is
    // answered as a response cut by the pod.
    if (this.#grpcResponse && this.#grpcStatus === undefined && fields?.["grpc-status"] === undefined) {
      const broken = new UpstreamError("reset", this.#target, true, "reset: the pod's gRPC response ended without grpc-status");
      if (this.#endWithGrpcStatus(broken)) {
        this.#finish({ ok: false, bytesOut: this.#bytesOut, error: broken, grpcStatus: GRPC_STATUS.UNAVAILABLE });
        return;
      }
    }
    const held = this.#trailersOnly;
    if (held !== undefined && fields === undefined && this.#outgoing instanceof Http2ServerResponse) {
      this.#trailersOnly = undefined;
      const stream = this.#outgoing.stream;
      if (!stream.destroyed && !stream.headersSent) stream.respond(outgoingHeaders(held.status, held.fields), { endStream: true });
    } else {
      if (held !== undefined) {
        this.#trailersOnly = undefined;
        (this.#outgoing as ServerResponse).writeHead(held.status, held.fields);
      }
      if (fields !== undefined) this.#outgoing.addTrailers(fields);
      this.#outgoing.end();
    }
    const grpcStatus = fields?.["grpc-status"];
    if (typeof grpcStatus === "string") this.#grpcStatus = Number(grpcStatus);
    this.#finish(this.#grpcStatus === undefined ? { ok: true, bytesOut: this.#bytesOut } : { ok: true, bytesOut: this.#bytesOut, grpcStatus: this.#grpcStatus });
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    // Already answered: the try timed out before it had a connection (#onTimeout).
    if (this.#done) return;
    const upstreamError = upstreamErrorFromUndici(error, this.#target, this.#sentRequest, this.#headSent);
    if (!this.#headSent) {
      this.#done = true;
      this.#detach();
      this.#reject(upstreamError);
      return;
    }
    // A gRPC response cut by the pod (reset, killed, timed out) ends with a status instead:
    // UNAVAILABLE in the trailers, which a gRPC client reads as the call's outcome and may retry
    // (gRPC's statuscodes.md); a reset stream would read as INTERNAL. Not when the client left.
    if (this.#grpcResponse && upstreamError.kind !== "aborted" && this.#endWithGrpcStatus(upstreamError)) {
      this.#finish({ ok: false, bytesOut: this.#bytesOut, error: upstreamError, grpcStatus: GRPC_STATUS.UNAVAILABLE });
      return;
    }
    // After the head, the only honest signal left is an aborted body: the client sees the
    // connection close before the length or the last chunk it was promised.
    this.#outgoing.destroy(error);
    this.#finish({ ok: false, bytesOut: this.#bytesOut, error: upstreamError });
  }

  /** Ends an HTTP/2 gRPC response with grpc-status UNAVAILABLE; false when it cannot (not
   * HTTP/2, or already ended). */
  #endWithGrpcStatus(error: UpstreamError): boolean {
    const outgoing = this.#outgoing;
    if (!(outgoing instanceof Http2ServerResponse) || outgoing.writableEnded || outgoing.stream.destroyed) return false;
    const status = { "grpc-status": String(GRPC_STATUS.UNAVAILABLE), "grpc-message": encodeGrpcMessage(`vipr: the pod's response broke off: ${error.message}`) };
    const held = this.#trailersOnly;
    if (held !== undefined) {
      this.#trailersOnly = undefined;
      if (outgoing.stream.headersSent) return false;
      outgoing.stream.respond({ ...outgoingHeaders(held.status, held.fields), ...status }, { endStream: true });
      return true;
    }
    outgoing.addTrailers(status);
    outgoing.end();
    return true;
  }

  #finish(outcome: UpstreamOutcome): void {
    if (this.#done) return;
    this.#done = true;
    this.#detach();
    this.#call.onEnd?.(outcome);
  }

  #detach(): void {
    this.#timeouts.done();
    this.#outgoing.off("close", this.#onClose);
    if (this.#awaitingDrain) {
      this.#awaitingDrain = false;
      this.#outgoing.off("drain", this.#onDrain!);
    }
  }
}

/** A mirror's connect timeout: a mirror is fire and forget, no client waits on it. */
const MIRROR_CONNECT_TIMEOUT_MS = 5_000;

class UndiciTransport implements UpstreamTransport {
  readonly #pools = new Map<string, Pool>();
  readonly #connections: number | null;
  readonly #keepAliveTimeoutMs: number;
  readonly #replayLimitBytes: number;
  readonly #bodies = new WeakMap<Request, ReplayableBody>();
  /** The HTTP/1.1 pool of each target object seen: the router hands over one object per
   * endpoint (pick-stage.ts), so no pool key is built per request (issue 11's profile). Started
   * over whenever a pool closes. */
  #poolOfTarget = new WeakMap<UpstreamTarget, Pool>();
  /** Every pending connect, response, request and idle timeout of this transport's tries. */
  readonly #deadlines = new DeadlineQueue(systemClock);

  constructor(options: UndiciTransportOptions) {
    this.#connections = options.connectionsPerTarget ?? null;
    this.#keepAliveTimeoutMs = options.keepAliveTimeoutMs ?? 4000;
    this.#replayLimitBytes = options.replayLimitBytes ?? 256 * 1024;
  }

  #pool(target: UpstreamTarget, connectTimeoutMs: number, protocol: UpstreamCall["upstreamProtocol"]): Pool {
    if (protocol === undefined) {
      const known = this.#poolOfTarget.get(target);
      if (known !== undefined) return known;
    }
    const address = targetKey(target);
    // An h2c pod gets its own pool: HTTP/2 with prior knowledge (undici's useH2c), streams
    // multiplexed over its connections.
    const key = protocol === "h2c" ? `h2c ${address}` : address;
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = new Pool(`http://${address}`, {
        ...(protocol === "h2c" ? { allowH2: true, useH2c: true } : {}),
        connections: this.#connections,
        pipelining: 1,
        keepAliveTimeout: this.#keepAliveTimeoutMs,
        // The connect timeout on vipr's clock: undici's connectTimeout fires up to about 1 s late.
        connect: timedConnector(this.#deadlines, connectTimeoutMs, protocol === "h2c"),
      });
      this.#pools.set(key, pool);
    }
    if (protocol === undefined) this.#poolOfTarget.set(target, pool);
    return pool;
  }

  forward(c: Context, target: UpstreamTarget, call: UpstreamCall): Promise<Response> {
    const env = c.env as { incoming?: unknown; outgoing?: unknown } | undefined;
    const incoming = env?.incoming;
    const outgoing = env?.outgoing;
    // HEAD takes the Web Response path: Hono answers HEAD by copying the GET route's Response into
    // `new Response(null, ..)` (hono-base.ts #dispatch), and @hono/node-server does not know a copy
    // of RESPONSE_ALREADY_SENT, so it would write the head a second time (ERR_HTTP_HEADERS_SENT on
    // every HEAD, found by tests/router/concurrency-limits.test.ts). A HEAD answer has no body to
    // stream anyway.
    if (call.method !== "HEAD" && ((incoming instanceof IncomingMessage && outgoing instanceof ServerResponse) || (incoming instanceof Http2ServerRequest && outgoing instanceof Http2ServerResponse))) {
      return this.#streamInto(incoming, outgoing, target, call);
    }
    return this.#respond(c.req.raw, target, call);
  }

  #streamInto(incoming: RawRequest, outgoing: RawResponse, target: UpstreamTarget, call: UpstreamCall): Promise<Response> {
    const pool = this.#pool(target, call.connectTimeoutMs, call.upstreamProtocol);
    return new Promise<Response>((resolve, reject) => {
      const handler = new ResponseWriter(target, call, outgoing, this.#deadlines, resolve, reject);
      const options: Dispatcher.DispatchOptions & ServerNamed = {
        method: call.method,
        path: call.path,
        headers: call.headers,
        servername: CLEARTEXT_SERVERNAME,
        body: hasBody(incoming) ? upstreamBody(new IncomingBody(incoming, call.bodyCopy), call.upstreamProtocol) : null,
        // Off: undici's timers fire up to about 1 s late; the handler's CallTimeouts bound these.
        headersTimeout: 0,
        bodyTimeout: 0,
      };
      pool.dispatch(options, handler);
    });
  }

  /** The fallback: a Web Response streaming the upstream body. */
  async #respond(request: Request, target: UpstreamTarget, call: UpstreamCall): Promise<Response> {
    const pool = this.#pool(target, call.connectTimeoutMs, call.upstreamProtocol);
    let replay: ReplayableBody | undefined;
    if (request.body !== null) {
      replay = this.#bodies.get(request);
      if (replay === undefined) {
        replay = new ReplayableBody(request.body, this.#replayLimitBytes);
        this.#bodies.set(request, replay);
      }
    }
    // Pool.request() does not tell when the request has been sent: here the response window runs
    // from the try's start. A timeout before the head aborts the request (queued or sent); after
    // it, the body.
    let upload: ReadableStream<Uint8Array> | null = replay === undefined ? null : replay.open();
    if (upload !== null && call.bodyCopy !== undefined) upload = copiedUpload(upload, call.bodyCopy);
    const abort = new AbortController();
    let body: Readable | undefined;
    const timeouts = new CallTimeouts(this.#deadlines, timeoutWindowsOf(call, this.#deadlines), (error) => (body === undefined ? abort.abort(error) : body.destroy(error)));
    timeouts.requestSent();
    let data: Dispatcher.ResponseData;
    try {
      data = await pool.request({
        method: call.method,
        path: call.path,
        headers: call.headers,
        body: upload === null ? null : Readable.fromWeb(upload as NodeReadableStream<Uint8Array>),
        signal: abort.signal,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
    } catch (error) {
      timeouts.done();
      const upstreamError = upstreamErrorFromUndici(error, target, undefined);
      const replayable = replay === undefined || replay.replayable;
      if (!upstreamError.sentRequest && !replayable) {
        throw new UpstreamError(upstreamError.kind, target, true, `${upstreamError.message} (request body past the replay limit)`, { cause: error });
      }
      throw upstreamError;
    }
    if (call.retryStatus?.(data.statusCode) === true) {
      timeouts.done();
      // Read and dropped (undici's dump: a small body keeps the connection, a large one closes it).
      data.body.dump().catch(() => {});
      throw new RetriedStatusError(data.statusCode, target);
    }
    replay?.commit();
    body = data.body;
    timeouts.headArrived();
    const { statusCode } = data;
    const headers = headersFromHeaderList(call.rewriteResponseHeaders(headerListFromRecord(data.headers)));
    call.onResponse?.(statusCode);
    // Fetch's null body statuses (101, 103, 204, 205, 304) and HEAD carry no body.
    if (statusCode === 204 || statusCode === 205 || statusCode === 304 || call.method === "HEAD") {
      timeouts.done();
      data.body.dump().catch(() => {});
      call.onEnd?.({ ok: true, bytesOut: 0 });
      return new Response(null, { status: statusCode, headers });
    }
    return new Response(webBody(body, target, call, timeouts), { status: statusCode, headers });
  }

  async mirrorH2c(target: UpstreamTarget, method: string, path: string, fields: readonly string[], body: Uint8Array | undefined): Promise<void> {
    const answer = await this.#pool(target, MIRROR_CONNECT_TIMEOUT_MS, "h2c").request({ method: method as Dispatcher.HttpMethod, path, headers: [...fields], ...(body === undefined ? {} : { body }) });
    await answer.body.dump();
  }

  retain(keys: ReadonlySet<string>): void {
    for (const [key, pool] of this.#pools) {
      if (keys.has(key.startsWith("h2c ") ? key.slice(4) : key)) continue;
      this.#pools.delete(key);
      this.#poolOfTarget = new WeakMap();
      pool.close().catch(() => {});
    }
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    this.#poolOfTarget = new WeakMap();
    await Promise.all(pools.map((pool) => pool.close()));
  }
}

/** The fallback's request body with UpstreamCall.bodyCopy: a whole copy is sent as it is; else the
 * first try records what it sends (a later one replays through ReplayableBody, unrecorded). */
function copiedUpload(upload: ReadableStream<Uint8Array>, copy: RequestBodyCopy): ReadableStream<Uint8Array> {
  copy.expectBody();
  const whole = copy.wholeChunks;
  if (whole !== undefined) {
    void upload.cancel().catch(() => {});
    return new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of whole) controller.enqueue(chunk);
        controller.close();
      },
    });
  }
  if (!copy.startRecording()) return upload;
  return upload.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        copy.add(chunk);
        controller.enqueue(chunk);
      },
      flush() {
        copy.end();
      },
    }),
  );
}

/** An undici body as a Web stream that counts bytes, keeps the idle timeout and reports the end
 * once. */
function webBody(body: Readable, target: UpstreamTarget, call: UpstreamCall, timeouts: CallTimeouts): ReadableStream<Uint8Array> {
  let bytesOut = 0;
  let ended = false;
  const end = (outcome: UpstreamOutcome): void => {
    timeouts.done();
    if (ended) return;
    ended = true;
    call.onEnd?.(outcome);
  };
  const pause = (): void => {
    body.pause();
    timeouts.paused();
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      body.on("data", (chunk: Buffer) => {
        bytesOut += chunk.length;
        timeouts.bodyData();
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) pause();
      });
      body.on("end", () => {
        controller.close();
        end({ ok: true, bytesOut });
      });
      body.on("error", (error: Error) => {
        const upstreamError = upstreamErrorFromUndici(error, target, true);
        if (!ended) controller.error(upstreamError);
        end({ ok: false, bytesOut, error: upstreamError });
      });
      pause();
    },
    pull() {
      body.resume();
      timeouts.resumed();
    },
    cancel() {
      const gone = new DownstreamClosedError();
      end({ ok: false, bytesOut, error: upstreamErrorFromUndici(gone, target, true) });
      body.destroy(gone);
    },
  });
}

/**
 * The Node transport.
 *
 * @example
 * const transport = createUndiciTransport({ connectionsPerTarget: 64 });
 * app.all("*", (c) => transport.forward(c, target, call)); // with serveNode(app)
 */
export function createUndiciTransport(options: UndiciTransportOptions = {}): UpstreamTransport {
  return new UndiciTransport(options);
}
