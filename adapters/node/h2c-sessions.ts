// The Node transport's HTTP/2 hop to h2c pods (service ports with appProtocol kubernetes.io/h2c or
// grpc, router/service-port.ts): one node:http2 client session per pod, HTTP/2 with prior
// knowledge (RFC 9113 section 3.3), every request a stream on it, driving the same dispatch
// handler undici drives (undici-transport.ts ResponseWriter: onRequestStart, onResponseStart,
// onResponseData, onResponseEnd, onResponseError), so the response is written, timed and reported
// exactly as on the HTTP/1.1 hop.
//
// Why not undici's h2c client, which this replaced for streamed requests: profiled with node
// --cpu-prof under bench:grpc (issue 14), vipr spent about twice the CPU per call of the raw
// node:http2 proxy, and undici's HTTP/2 layer over node:http2 (its request object and queue, the
// async-iterable body writer, per-stream listener sets) was the largest share of the difference;
// its streams are node:http2 streams all the same.
//
// Node only (undici-transport.ts keeps undici's h2c client on Deno): under Deno 2.9 the process
// aborted in nghttp2 (nghttp2_session.c find_stream_on_goaway_func, "Assertion
// `stream->closed_next == NULL' failed") about one run in five of tests/forward/h2c-upstream.test.ts,
// when 30 concurrent requests followed a 1 MB upload on one session; neither alone did it, and
// undici's client on the same Deno never did.
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";
import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import { errors } from "undici";
import type { BodyByteLimit } from "../../router/forward/body-limit.ts";
import type { HeaderList } from "../../router/forward/header-list.ts";
import { targetKey, type UpstreamTarget } from "../../router/forward/upstream-transport.ts";
import { Deadline, type DeadlineQueue } from "./deadline-queue.ts";

/** A request body, read straight from the client's request (no stream in between). */
export interface H2cBody {
  /** node:http's IncomingMessage or node:http2's Http2ServerRequest, read once the stream is open. */
  readonly source: Readable & { readonly complete: boolean };
  /** Counts the body against the serve adapter's maxBodyBytes (router/forward/body-limit.ts). */
  readonly limit: BodyByteLimit | undefined;
  /** The error the call fails with when the body breaks off on the client's side. */
  clientFailed(message: string, cause?: Error): Error;
}

/** One request as the session sends it. */
export interface H2cRequest {
  readonly method: string;
  readonly path: string;
  /** The fields to send (lowercase names); Host becomes :authority. */
  readonly headers: HeaderList;
  /** null: the HEADERS frame ends the stream. */
  readonly body: H2cBody | null;
}

/** RFC 9113 section 8.2.2: connection-specific fields must not appear in HTTP/2 (node:http2
 * refuses them). The forwarder (router/forward/forward-headers.ts) already drops hop-by-hop
 * fields; these are dropped here as well, as undici's HTTP/2 client refuses or drops them. */
const CONNECTION_SPECIFIC = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);

/** The request's HEADERS: pseudo-fields, then the fields (repeated ones joined with ", ", cookie
 * kept as a list: RFC 9113 section 8.2.3), as undici's buildRequestHeaders does. */
function requestHeaders(request: H2cRequest, authority: string): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ":method": request.method, ":path": request.path, ":scheme": "http", ":authority": authority };
  const list = request.headers;
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i]!;
    const value = list[i + 1]!;
    if (name === "host") {
      headers[":authority"] = value;
      continue;
    }
    if (CONNECTION_SPECIFIC.has(name) || (name === "te" && value.toLowerCase() !== "trailers")) continue;
    const seen = headers[name];
    if (seen === undefined) headers[name] = value;
    else if (name === "cookie") headers[name] = Array.isArray(seen) ? [...(seen as string[]), value] : [String(seen), value];
    else headers[name] = `${String(seen)}, ${value}`;
  }
  return headers;
}

/** A response header block without its pseudo-fields, as undici hands one to a handler. */
function fieldsOf(headers: IncomingHttpHeaders): Record<string, string | string[] | undefined> {
  const fields: Record<string, string | string[] | undefined> = {};
  for (const name in headers) if (name.charCodeAt(0) !== 58 /* ":" */) fields[name] = headers[name];
  return fields;
}

/** A failure of the stream or its session as the transport classifies it: node:http2's own
 * errors (a stream reset, a GOAWAY, a session torn down) as undici's SocketError, which
 * upstreamErrorFromUndici reads as the pod resetting; socket errors (ECONNRESET, ECONNREFUSED)
 * keep their codes. */
function streamFailure(error: Error | undefined, detail: string): Error {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (error !== undefined && (typeof code !== "string" || !code.startsWith("ERR_HTTP2"))) return error;
  const failure = new errors.SocketError(error === undefined ? detail : `${detail}: ${error.message}`);
  if (error !== undefined) failure.cause = error;
  return failure;
}

/** One stream's dispatch: what a handler's controller does (abort, pause, resume) and the stream's
 * events turned into the handler's calls, each end reported once. */
class H2cCall implements Dispatcher.DispatchController {
  readonly #handler: Dispatcher.DispatchHandler;
  readonly #stream: ClientHttp2Stream;
  readonly #body: H2cBody | null;
  #settled = false;
  #headed = false;
  #trailers: IncomingHttpHeaders | undefined = undefined;
  #error: Error | undefined = undefined;
  aborted = false;
  paused = false;
  reason: Error | null = null;

  constructor(stream: ClientHttp2Stream, body: H2cBody | null, handler: Dispatcher.DispatchHandler) {
    this.#stream = stream;
    this.#body = body;
    this.#handler = handler;
  }

  /** Starts the call: the handler may abort it at once (a client gone, a deadline passed while
   * the session connected). */
  start(): void {
    const stream = this.#stream;
    stream.on("response", this.#onResponse);
    stream.on("data", this.#onData);
    stream.on("trailers", this.#onTrailers);
    stream.on("end", this.#onEnd);
    stream.on("error", this.#onError);
    stream.on("close", this.#onClose);
    this.#handler.onRequestStart?.(this, {});
    if (this.aborted) return;
    const body = this.#body;
    if (body === null) {
      this.#handler.onRequestSent?.();
      return;
    }
    stream.once("finish", this.#onSent);
    const source = body.source;
    source.on("data", this.#onBodyData);
    source.on("end", this.#onBodyEnd);
    source.on("error", this.#onBodyError);
    source.on("close", this.#onBodyClose);
    source.resume();
  }

  // The body, as the undici path's IncomingBody (undici-transport.ts) reads it: counted against
  // the limit, written with backpressure (the client's request paused until the pod's stream
  // drains), failed as the client's failure when it breaks off.
  readonly #onBodyData = (chunk: Buffer): void => {
    const body = this.#body!;
    const tooLarge = body.limit?.admit(chunk.length);
    if (tooLarge !== undefined) {
      this.abort(tooLarge);
      // The rest is read and dropped until the 413 closes the connection (IncomingBody says why).
      body.source.resume();
      return;
    }
    const stream = this.#stream;
    if (!stream.write(chunk)) {
      body.source.pause();
      stream.once("drain", this.#onDrain);
    }
  };
  readonly #onDrain = (): void => {
    this.#body!.source.resume();
  };
  readonly #onBodyEnd = (): void => {
    this.#detachBody();
    if (!this.#stream.destroyed) this.#stream.end();
  };
  readonly #onBodyError = (error: Error): void => {
    this.abort(this.#body!.clientFailed(`the client's request body failed: ${error.message}`, error));
  };
  readonly #onBodyClose = (): void => {
    if (!this.#body!.source.complete) this.abort(this.#body!.clientFailed("the client closed the connection before the request body was complete"));
  };

  #detachBody(): void {
    const body = this.#body;
    if (body === null) return;
    const source = body.source;
    source.off("data", this.#onBodyData);
    source.off("end", this.#onBodyEnd);
    source.off("error", this.#onBodyError);
    source.off("close", this.#onBodyClose);
    this.#stream.off("drain", this.#onDrain);
  }

  abort(reason: Error): void {
    if (this.#settled) return;
    this.aborted = true;
    this.reason = reason;
    this.#fail(reason);
  }

  pause(): void {
    this.paused = true;
    this.#stream.pause();
  }

  resume(): void {
    this.paused = false;
    this.#stream.resume();
  }

  readonly #onSent = (): void => {
    if (!this.#settled) this.#handler.onRequestSent?.();
  };
  readonly #onResponse = (headers: IncomingHttpHeaders): void => {
    if (this.#settled) return;
    this.#headed = true;
    this.#handler.onResponseStart?.(this, Number(headers[":status"]), fieldsOf(headers), "");
  };
  readonly #onData = (chunk: Buffer): void => {
    if (!this.#settled) this.#handler.onResponseData?.(this, chunk);
  };
  readonly #onTrailers = (trailers: IncomingHttpHeaders): void => {
    this.#trailers = trailers;
  };
  readonly #onEnd = (): void => {
    // A stream that ends without a response head was cut (Deno reports some resets so).
    if (!this.#headed) return this.#fail(streamFailure(undefined, "the pod's stream ended without a response"));
    if (this.#settled) return;
    this.#settled = true;
    this.#detach();
    this.#handler.onResponseEnd?.(this, this.#trailers === undefined ? {} : fieldsOf(this.#trailers));
  };
  readonly #onError = (error: Error): void => {
    this.#error = error;
  };
  readonly #onClose = (): void => {
    if (this.#settled) return;
    const code = this.#stream.rstCode;
    this.#fail(streamFailure(this.#error, `the pod's stream closed before its end (RST_STREAM code ${code ?? "none"})`));
  };

  #fail(error: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#detach();
    const stream = this.#stream;
    // RST_STREAM CANCEL (RFC 9113 section 8.7: the stream is no longer needed); the body, if
    // still going up, stops with it (the client's request is left alone, as undici leaves it).
    if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
    this.#handler.onResponseError?.(this, error);
  }

  #detach(): void {
    const stream = this.#stream;
    stream.off("response", this.#onResponse);
    stream.off("data", this.#onData);
    stream.off("trailers", this.#onTrailers);
    stream.off("end", this.#onEnd);
    stream.off("finish", this.#onSent);
    // 'error' stays handled: a reset after the end must not be an unhandled error.
    stream.off("close", this.#onClose);
    // A body still coming after the response ended (a bidirectional call the pod finished first)
    // is no longer relayed: http2-requests.ts closeUnreadUpload ends the client's side.
    this.#detachBody();
  }
}

/** The connect timeout of a session: the socket is destroyed, failing every request that waited. */
class ConnectDeadline extends Deadline {
  readonly #session: ClientHttp2Session;
  readonly #message: string;

  constructor(session: ClientHttp2Session, message: string) {
    super();
    this.#session = session;
    this.#message = message;
  }

  override expire(): void {
    this.#session.destroy(new errors.ConnectTimeoutError(this.#message));
  }
}

/** A session and the requests waiting for it to connect. */
interface PodSession {
  readonly session: ClientHttp2Session;
  /** Until 'connect': the calls to start then (or fail, when the connection fails). */
  waiting: (() => void)[] | undefined;
  /** Why the connection failed, once it has. */
  failure: Error | undefined;
  /** Streams open on it now. */
  streams: number;
  /** Retired (retain, close, idle): destroyed once its last stream closes. */
  retired: boolean;
  /** Called once it is destroyed (close() waits for it). */
  readonly gone: Promise<void>;
}

/** Ends a session once its streams have finished: destroyed, as undici ends its HTTP/2 sessions;
 * with no stream open, a GOAWAY would tell the pod nothing it needs. */
function retire(pod: PodSession): void {
  pod.retired = true;
  if (pod.streams === 0 && !pod.session.destroyed) pod.session.destroy();
}

/**
 * The h2c sessions of one transport, one per pod address.
 *
 * @example
 * const sessions = new H2cSessions(deadlines, 4000);
 * sessions.dispatch(target, 1000, { method: "POST", path: "/pkg.Svc/Call", headers, body }, handler);
 */
export class H2cSessions {
  readonly #sessions = new Map<string, PodSession>();
  readonly #deadlines: DeadlineQueue;
  readonly #idleMs: number;

  /** `idleMs`: a session without a frame either way for this long is closed (GOAWAY), as undici
   * closes an idle keep-alive connection; 0: kept until retain() or close(). */
  constructor(deadlines: DeadlineQueue, idleMs: number) {
    this.#deadlines = deadlines;
    this.#idleMs = idleMs;
  }

  /** Sends `request` to `target` on its session (opened, within connectTimeoutMs, when there is
   * none or it is closing); `handler` hears the call as an undici dispatch handler would. */
  dispatch(target: UpstreamTarget, connectTimeoutMs: number, request: H2cRequest, handler: Dispatcher.DispatchHandler): void {
    const key = targetKey(target);
    let pod = this.#sessions.get(key);
    // A session told to go away (GOAWAY), closed or failed takes no new streams.
    if (pod === undefined || pod.session.closed || pod.session.destroyed || pod.failure !== undefined || pod.retired) pod = this.#open(key, connectTimeoutMs);
    const open = pod;
    const send = (): void => {
      if (open.failure !== undefined) {
        handler.onResponseError?.(null as unknown as Dispatcher.DispatchController, open.failure);
        return;
      }
      let stream: ClientHttp2Stream;
      try {
        stream = open.session.request(requestHeaders(request, key), { endStream: request.body === null });
      } catch (error) {
        handler.onResponseError?.(null as unknown as Dispatcher.DispatchController, streamFailure(error as Error, "the pod's session refused the stream"));
        return;
      }
      open.streams++;
      stream.once("close", () => {
        if (--open.streams === 0 && open.retired && !open.session.destroyed) open.session.destroy();
      });
      new H2cCall(stream, request.body, handler).start();
    };
    if (open.waiting === undefined) send();
    else open.waiting.push(send);
  }

  #open(key: string, connectTimeoutMs: number): PodSession {
    const session = http2.connect(`http://${key}`, { settings: { enablePush: false } });
    let gone = (): void => {};
    const pod: PodSession = { session, waiting: [], failure: undefined, streams: 0, retired: false, gone: new Promise<void>((done) => (gone = done)) };
    this.#sessions.set(key, pod);
    const deadline = connectTimeoutMs > 0 ? new ConnectDeadline(session, `no connection to ${key} within the connect timeout of ${connectTimeoutMs}ms`) : undefined;
    if (deadline !== undefined) this.#deadlines.schedule(deadline, this.#deadlines.now() + connectTimeoutMs);
    const release = (): void => {
      if (deadline !== undefined) this.#deadlines.cancel(deadline);
      const waiting = pod.waiting ?? [];
      pod.waiting = undefined;
      for (const send of waiting) send();
    };
    session.once("connect", release);
    session.on("error", (error: Error) => {
      // Before 'connect': no request was sent; each waiting one fails with the connection's error.
      pod.failure ??= error;
      release();
    });
    session.once("close", () => {
      pod.failure ??= new errors.SocketError("the pod's HTTP/2 session closed");
      release();
      if (this.#sessions.get(key) === pod) this.#sessions.delete(key);
      gone();
    });
    if (this.#idleMs > 0) {
      session.setTimeout(this.#idleMs, () => {
        if (pod.streams > 0) return; // a quiet stream (a long poll, a stream of rare messages)
        if (this.#sessions.get(key) === pod) this.#sessions.delete(key);
        retire(pod);
      });
    }
    // An idle session does not keep the process alive (undici unrefs its idle sockets too).
    session.unref?.();
    return pod;
  }

  /** Closes the sessions of pods whose targetKey() is not in `keys` (streams in flight finish). */
  retain(keys: ReadonlySet<string>): void {
    for (const [key, pod] of this.#sessions) {
      if (keys.has(key)) continue;
      this.#sessions.delete(key);
      retire(pod);
    }
  }

  /** Closes every session; resolves once their streams in flight have finished. */
  async close(): Promise<void> {
    const pods = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const pod of pods) retire(pod);
    await Promise.all(pods.map((pod) => pod.gone));
  }
}
