// The Deno upstream transport: fetch, with one Deno.HttpClient (a keep-alive connection pool) per
// target, streaming the request body (duplex "half") and the response body. Measured on this
// machine (issue 3), Hono on Deno.serve forwarding with fetch reached 0.92x of a raw Deno.serve +
// fetch proxy, so Deno needs no lower-level path.
//
// What fetch does that a proxy must undo or live with:
// - Host: fetch replaces it with the URL's authority unless the client allows it (allowHost).
// - Redirects: followed unless redirect is "manual"; a proxy relays them.
// - Content codings: Deno decompresses gzip and br response bodies whenever the request's
//   Accept-Encoding is anything but "identity", and keeps Content-Encoding and Content-Length as
//   the server sent them (denoland/deno#12291 asks for a switch; there is none), so the client
//   would get a plain body labelled gzip. The transport asks backends for "identity": the body
//   then passes untouched, whatever the backend does; the client gets it uncompressed.
// - Defaults: fetch adds Accept, Accept-Language and User-Agent when the request has none, and
//   sends a streamed body chunked (without the client's Content-Length).
// - Timeouts: fetch has no connect event, so connect and response head share one budget
//   (connectTimeoutMs + responseTimeoutMs; none when responseTimeoutMs is 0), by AbortSignal;
//   the body has an idle watchdog (watched-body.ts).
// - A client that leaves is seen when Deno.serve cancels the response body, and the upstream
//   request is aborted then. request.signal is not used: Deno.serve also aborts it after every
//   successful response (its "legacy abort", with a warning), and `info.completed` does not
//   settle early, so a client that leaves before the response head is not seen until it comes.
// - Deno.serve prints the error that ends a response body stream; an upstream reset mid-body
//   shows there as the UpstreamError that aborted the client's response.

import type { Context } from "hono";
import { headerListFromHeaders } from "../../router/forward/header-list.ts";
import { bodyLimitOf, upstreamBodyTooLarge } from "../../router/forward/body-limit.ts";
import { ReplayableBody } from "../../router/forward/replayable-body.ts";
import type { UpstreamCall, UpstreamError, UpstreamTarget, UpstreamTransport } from "../../router/forward/upstream-transport.ts";
import { targetKey } from "../../router/forward/upstream-transport.ts";
import type { DenoHttpClient } from "./deno-api.ts";
import { denoApi } from "./deno-api.ts";
import type { FetchAbortCause } from "./fetch-upstream-error.ts";
import { upstreamErrorFromFetch } from "./fetch-upstream-error.ts";
import { Deadlines } from "./deadlines.ts";
import { watchedBody } from "./watched-body.ts";

export interface FetchTransportOptions {
  /** How long an idle keep-alive connection is kept. Default 4000: under Node's server default
   * of 5 s, so vipr usually lets go of a connection before the backend closes it (a request
   * written into a connection the backend is closing fails as a reset). */
  readonly keepAliveTimeoutMs?: number;
  /** Idle connections kept per target. Default: Deno's (no limit). */
  readonly maxIdlePerTarget?: number;
  /** Request body bytes kept for a retry after a failed connect. Default 256 KiB. */
  readonly replayLimitBytes?: number;
}

interface TargetClient {
  readonly client: DenoHttpClient;
  readonly origin: string;
  inFlight: number;
  closing: boolean;
  onClosed: (() => void) | undefined;
}

// RFC 9110 section 6.4.1 and the Fetch standard's null body statuses.
const nullBodyStatus = (status: number): boolean => status === 101 || status === 103 || status === 204 || status === 205 || status === 304;

/** Bodies up to this size with a Content-Length are buffered instead of streamed (see forward). */
const SMALL_BODY_BYTES = 64 * 1024;

/** The request fields for fetch, asking for an unencoded body (see above), as name/value pairs.
 * Pairs, not a Headers object: fetch builds its Request's headers from the init either way, and
 * from a Headers object it does so by iterating it (sorting and combining the fields) after the
 * append loop that built it. Measured with Deno 2.9 on 8 fields, `new Request(url, init)` took
 * 17 us with a Headers object and 6 us with pairs; the pairs keep repeated fields as they are. */
function fetchHeaders(list: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i]!;
    if (name.length === 15 && name.toLowerCase() === "accept-encoding") continue;
    pairs.push([name, list[i + 1]!]);
  }
  pairs.push(["accept-encoding", "identity"]);
  return pairs;
}

class FetchTransport implements UpstreamTransport {
  readonly #clients = new Map<string, TargetClient>();
  readonly #options: FetchTransportOptions;
  readonly #bodies = new WeakMap<Request, ReplayableBody>();
  readonly #deadlines = new Deadlines();

  constructor(options: FetchTransportOptions) {
    this.#options = options;
  }

  #acquire(target: UpstreamTarget): TargetClient {
    const key = targetKey(target);
    let entry = this.#clients.get(key);
    if (entry === undefined) {
      const client = denoApi().createHttpClient({
        allowHost: true,
        http1: true,
        http2: false,
        poolIdleTimeout: this.#options.keepAliveTimeoutMs ?? 4000,
        ...(this.#options.maxIdlePerTarget === undefined ? {} : { poolMaxIdlePerHost: this.#options.maxIdlePerTarget }),
      });
      entry = { client, origin: `http://${key}`, inFlight: 0, closing: false, onClosed: undefined };
      this.#clients.set(key, entry);
    }
    entry.inFlight++;
    return entry;
  }

  #release(entry: TargetClient): void {
    entry.inFlight--;
    if (entry.closing && entry.inFlight === 0) this.#closeNow(entry);
  }

  #closeNow(entry: TargetClient): void {
    entry.client.close();
    entry.onClosed?.();
    entry.onClosed = undefined;
  }

  async forward(c: Context, target: UpstreamTarget, call: UpstreamCall): Promise<Response> {
    const request = c.req.raw;
    const entry = this.#acquire(target);
    const abort = new AbortController();
    let aborted: FetchAbortCause;
    const abortFor = (cause: "timeout" | "idle" | "client"): void => {
      if (aborted !== undefined) return;
      aborted = cause;
      abort.abort(new DOMException(`vipr aborted the upstream request (${cause})`, "AbortError"));
    };
    const budget = call.responseTimeoutMs > 0 ? call.connectTimeoutMs + call.responseTimeoutMs : 0;
    const deadlines = this.#deadlines;
    const timer = budget > 0 ? deadlines.add(budget, () => abortFor("timeout")) : undefined;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#release(entry);
    };

    let replay: ReplayableBody | undefined;
    if (request.body !== null) {
      replay = this.#bodies.get(request);
      if (replay === undefined) {
        replay = new ReplayableBody(request.body, this.#options.replayLimitBytes ?? 256 * 1024);
        this.#bodies.set(request, replay);
      }
    }
    // A body serveDeno counts (chunked, with maxBodyBytes) fails past its limit; fetch reports that
    // as a generic failure ("fetch failed", or a broken response body), so the limit says why.
    const limit = bodyLimitOf(request);
    const failure = (error: unknown, headSeen: boolean, bodyReplayable: boolean): UpstreamError =>
      limit?.exceeded === undefined ? upstreamErrorFromFetch(error, target, aborted, headSeen, bodyReplayable) : upstreamBodyTooLarge(target, limit.exceeded, headSeen);

    let response: Response;
    try {
      const init: RequestInit & { client: DenoHttpClient } = {
        method: call.method,
        headers: fetchHeaders(call.headers),
        redirect: "manual",
        signal: abort.signal,
        client: entry.client,
      };
      if (replay !== undefined) {
        init.body = replay.open();
        (init as { duplex?: string }).duplex = "half";
      }
      response = await fetch(entry.origin + call.path, init);
    } catch (error) {
      deadlines.cancel(timer);
      release();
      throw failure(error, false, replay === undefined || replay.replayable);
    }
    deadlines.cancel(timer);
    replay?.commit();

    const status = response.status;
    const headers = call.rewriteResponseHeaders(headerListFromHeaders(response.headers));
    call.onResponse?.(status);
    const body = response.body;
    if (body === null || nullBodyStatus(status) || call.method === "HEAD") {
      if (body !== null) body.cancel().catch(() => {});
      release();
      call.onEnd?.({ ok: true, bytesOut: 0 });
      return new Response(null, { status, headers: headersInit(headers) });
    }
    const length = response.headers.get("content-length");
    if (length !== null && Number(length) <= SMALL_BODY_BYTES) {
      // A small body of known length is read whole and answered as bytes: Deno.serve writes a
      // byte body at once, while a JS ReadableStream (watchedBody) costs a pull per chunk through
      // JS; on bench:proxy's small JSON answers this is most of the gap to a raw Deno proxy.
      const idle = call.idleTimeoutMs > 0 ? deadlines.add(call.idleTimeoutMs, () => abortFor("idle")) : undefined;
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        bytes = new Uint8Array(await response.arrayBuffer());
      } catch (error) {
        deadlines.cancel(idle);
        release();
        throw failure(error, true, false);
      }
      deadlines.cancel(idle);
      release();
      call.onEnd?.({ ok: true, bytesOut: bytes.byteLength });
      return new Response(bytes, { status, headers: headersInit(headers) });
    }
    const watched = watchedBody(body, {
      idleTimeoutMs: call.idleTimeoutMs,
      abort: abortFor,
      toError: (error) => failure(error, true, false),
      onEnd: (outcome) => {
        release();
        call.onEnd?.(outcome);
      },
    });
    return new Response(watched, { status, headers: headersInit(headers) });
  }

  retain(keys: ReadonlySet<string>): void {
    for (const [key, entry] of this.#clients) {
      if (keys.has(key)) continue;
      this.#clients.delete(key);
      entry.closing = true;
      if (entry.inFlight === 0) this.#closeNow(entry);
    }
  }

  async close(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const entry of this.#clients.values()) {
      entry.closing = true;
      if (entry.inFlight === 0) this.#closeNow(entry);
      else closing.push(new Promise((resolve) => (entry.onClosed = resolve)));
    }
    this.#clients.clear();
    await Promise.all(closing);
  }
}

/** A header list as Response headers: pairs, which keep repeated Set-Cookie lines apart. */
function headersInit(list: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < list.length; i += 2) pairs.push([list[i]!, list[i + 1]!]);
  return pairs;
}

/**
 * The Deno transport.
 *
 * @example
 * const transport = createFetchTransport();
 * app.all("*", (c) => transport.forward(c, target, call)); // with serveDeno(app)
 */
export function createFetchTransport(options: FetchTransportOptions = {}): UpstreamTransport {
  return new FetchTransport(options);
}
