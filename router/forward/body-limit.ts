// The request body limit for bodies whose length is not known up front. A Content-Length above
// the serve adapter's maxBodyBytes is refused before routing; a body in chunked transfer coding
// (RFC 9112 section 7.1) has no length until its last chunk, so its bytes are counted as they are
// passed on to the pod, and the body fails once the count would pass the limit. NGINX does the
// same for client_max_body_size (ngx_http_request_body_chunked_filter counts chunk sizes), and
// Envoy's buffer limits answer 413 the same way.
//
// The chunk that would pass the limit is dropped, not cut: the pod receives at most maxBodyBytes
// bytes, then sees its request aborted. The serve adapter counts (it knows the limit), the
// transport reads the body and maps its failure to an UpstreamError whose cause is the
// BodyTooLargeError (upstreamBodyTooLarge), and the router answers 413 for that cause.

import { UpstreamError, type UpstreamTarget } from "./upstream-transport.ts";

/** The request body passed maxBodyBytes while it streamed. */
export class BodyTooLargeError extends Error {
  override readonly name = "BodyTooLargeError";
  readonly maxBodyBytes: number;
  /** Body bytes passed on before the limit was hit (at most maxBodyBytes). */
  readonly passedBytes: number;

  constructor(maxBodyBytes: number, passedBytes: number) {
    // The same message as the Content-Length refusal, so the client sees one 413 either way.
    super(`request body is larger than ${maxBodyBytes} bytes`);
    this.maxBodyBytes = maxBodyBytes;
    this.passedBytes = passedBytes;
  }
}

/**
 * One request's byte count against its limit. Every read of the body counts here, so a body read
 * twice (a retry replaying what a failed connect had already read) is still counted once, at its
 * source.
 */
export class BodyByteLimit {
  readonly maxBytes: number;
  #bytes = 0;
  #exceeded: BodyTooLargeError | undefined;

  constructor(maxBytes: number) {
    if (!(Number.isInteger(maxBytes) && maxBytes >= 0)) throw new RangeError(`maxBodyBytes must be a whole number >= 0, got ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  /** Bytes let through so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Set once a chunk was refused; every later chunk is refused too. */
  get exceeded(): BodyTooLargeError | undefined {
    return this.#exceeded;
  }

  /** Counts a chunk about to be passed on. Undefined: pass it on. An error: drop it (and
   * everything after it) and fail the body with that error. */
  admit(byteLength: number): BodyTooLargeError | undefined {
    if (this.#exceeded !== undefined) return this.#exceeded;
    if (this.#bytes + byteLength > this.maxBytes) {
      this.#exceeded = new BodyTooLargeError(this.maxBytes, this.#bytes);
      return this.#exceeded;
    }
    this.#bytes += byteLength;
    return undefined;
  }
}

/**
 * `source` as a stream that errors with BodyTooLargeError instead of yielding more than
 * `limit.maxBytes` bytes in all. Cancelling it cancels the source. `rest` gets the source's reader
 * once the limit is passed, for what remains of the body (default: cancel it; a server that keeps
 * the connection open until the body was read through drains it instead, see serve-deno.ts).
 *
 * @example
 * const limit = new BodyByteLimit(1_048_576);
 * const body = limitedBody(request.body, limit); // errors at the first chunk past 1 MiB
 */
export function limitedBody(
  source: ReadableStream<Uint8Array>,
  limit: BodyByteLimit,
  rest: (reader: ReadableStreamDefaultReader<Uint8Array>, tooLarge: BodyTooLargeError) => void = (reader, tooLarge) => void reader.cancel(tooLarge).catch(() => {}),
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          return;
        }
        const tooLarge = limit.admit(value.byteLength);
        if (tooLarge === undefined) {
          controller.enqueue(value);
          return;
        }
        controller.error(tooLarge);
        rest(reader, tooLarge);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    // No read-ahead: a byte is taken from the client only when the transport asks for it.
    { highWaterMark: 0 },
  );
}

// The limit of each counted request, keyed by what the runtime's transport reads the body from
// (Node: the IncomingMessage; Deno: the Request handed to the app). A WeakMap: nothing to clean up.
const limits = new WeakMap<object, BodyByteLimit>();

/** Marks `body` (an IncomingMessage or a Request) as counted against `limit`. */
export function setBodyLimit(body: object, limit: BodyByteLimit): void {
  limits.set(body, limit);
}

/** The limit a serve adapter set for this request's body, if any. */
export function bodyLimitOf(body: object): BodyByteLimit | undefined {
  return limits.get(body);
}

/**
 * The UpstreamError a transport reports when the request body passed its limit: kind "aborted",
 * since the client, not the pod, is at fault (no retry, no passive-health failure), with the
 * BodyTooLargeError as cause, which the router answers with 413. `responseStarted`: the pod's
 * response head had already gone to the client, so the client connection is closed instead.
 */
export function upstreamBodyTooLarge(target: UpstreamTarget, tooLarge: BodyTooLargeError, responseStarted: boolean): UpstreamError {
  const after = responseStarted ? "; the response had started, so the client connection was closed" : "";
  const detail = `aborted: ${tooLarge.message} (counted as it streamed, without Content-Length); the upstream request was aborted after ${tooLarge.passedBytes} body bytes${after}`;
  return new UpstreamError("aborted", target, true, detail, { cause: tooLarge });
}

/** The BodyTooLargeError behind an error, if any. */
export function bodyTooLargeOf(error: unknown): BodyTooLargeError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 4; depth++, e = e.cause) {
    if (e instanceof BodyTooLargeError) return e;
  }
  return undefined;
}
