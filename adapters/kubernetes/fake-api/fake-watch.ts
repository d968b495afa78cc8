// One watch connection of the fake API server, in the wire format: HTTP 200, a stream of
// newline-terminated JSON events. From a resourceVersion it replays the history after it, then
// follows live changes; without one (or "0") it starts with a synthetic ADDED for every object.
// Too old a resourceVersion: one ERROR event with a 410 Status, then the stream closes. Past
// timeoutSeconds the stream just ends. With allowWatchBookmarks, a BOOKMARK (an object holding
// only metadata.resourceVersion) every bookmarkIntervalMs (0: none). With sendInitialEvents, the
// synthetic ADDED events, then a BOOKMARK annotated k8s.io/initial-events-end (the WatchList
// protocol, KEP-3157), then changes.
// A label selector is applied to the change as the watch cache does: an object that stops
// matching is DELETED for this watcher, one that starts matching is ADDED.
// The fault switches (stall, break, expire, end, raw lines) act on open watches.

import type { Clock } from "../clock.ts";
import type { WatchedResource } from "../watched-resources.ts";
import type { FieldMatcher } from "./fake-field-selector.ts";
import type { LabelMatcher } from "./fake-label-match.ts";
import type { ChangeEvent, FakeObjectState, StoredObject } from "./fake-object-state.ts";
import { apiVersionOf } from "./fake-paths.ts";
import { statusObject } from "./fake-status.ts";

export interface WatchRequest {
  readonly resource: WatchedResource;
  readonly namespace: string | undefined;
  readonly matches: LabelMatcher;
  /** fieldSelector: metadata.name and metadata.namespace, which never change for an object. */
  readonly fields?: FieldMatcher;
  /** undefined: no resourceVersion (or "0"): start with the current objects. */
  readonly resourceVersion: number | undefined;
  readonly bookmarks: boolean;
  /** sendInitialEvents=true (with resourceVersionMatch=NotOlderThan): a synthetic ADDED per
   * object, then, when bookmarks are allowed, a BOOKMARK annotated k8s.io/initial-events-end. */
  readonly sendInitialEvents?: boolean;
  readonly timeoutSeconds: number;
  /** The event's object as sent; default the stored JSON (server-side printing sends a Table). */
  readonly render?: (stored: StoredObject) => string;
}

const encoder = new TextEncoder();

/** An error a server adapter takes for a connection gone mid-response, not for a bug to log with
 * its stack (@hono/node-server checks this code before console.error). */
export function connectionReset(message: string): Error {
  return Object.assign(new Error(message), { code: "ERR_STREAM_PREMATURE_CLOSE" });
}

export class FakeWatch {
  readonly request: WatchRequest;
  readonly response: Response;
  /** Silent: nothing more is written, and the stream stays open. */
  stalled = false;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #closed = false;
  readonly #timers: unknown[] = [];
  readonly #clock: Clock;
  readonly #state: FakeObjectState;
  readonly #unsubscribe: () => void;
  readonly #onClose: (watch: FakeWatch) => void;
  /** Decides, per live change, whether this watch gets it (a dropped event says no). */
  readonly #deliver: (event: ChangeEvent) => boolean;

  constructor(state: FakeObjectState, request: WatchRequest, clock: Clock, bookmarkIntervalMs: number, deliver: (event: ChangeEvent) => boolean, onClose: (watch: FakeWatch) => void) {
    this.request = request;
    this.#clock = clock;
    this.#state = state;
    this.#deliver = deliver;
    this.#onClose = onClose;
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      cancel: () => this.#close(false),
    });
    this.response = new Response(stream, { status: 200, headers: { "content-type": "application/json", "cache-control": "no-cache, private" } });

    const initial = request.sendInitialEvents === true;
    // With sendInitialEvents the resourceVersion is only a freshness floor (NotOlderThan): the
    // stream starts from the current state, whatever resourceVersion was asked for.
    const from = initial ? undefined : request.resourceVersion;
    const backlog = from === undefined ? undefined : state.changesSince(from, request.resource);
    if (from !== undefined && backlog === undefined) {
      this.#unsubscribe = () => {};
      this.expire(from);
      return;
    }
    if (backlog === undefined) {
      for (const stored of state.list(request.resource, request.namespace)) {
        if (request.matches(stored.labels) && (request.fields?.(stored) ?? true)) this.#write("ADDED", this.#json(stored));
      }
      // The watch cache ends the initial events with this bookmark only for a watcher that allows
      // bookmarks (cacher.go, isInitialEventsEndBookmarkRequired); client-go's reflector waits
      // for it before it calls itself synced (reflector.go, watchList).
      if (initial && request.bookmarks) this.bookmark({ "k8s.io/initial-events-end": "true" });
    } else {
      for (const event of backlog) this.#send(event);
    }
    this.#unsubscribe = state.subscribe((event) => {
      // A watch from a resourceVersion gets only what came after it (etcd's watch from revision + 1).
      if (from !== undefined && event.resourceVersion <= from) return;
      if (this.#deliver(event)) this.#send(event);
    });
    this.#timers.push(clock.setTimeout(() => this.end(), request.timeoutSeconds * 1000));
    if (request.bookmarks && bookmarkIntervalMs > 0) {
      // The watch cache's next bookmark is a heartbeat interval away, or 2 s before the watch's
      // deadline when that comes first, so a client resumes from a fresh resourceVersion
      // (cacher/cache_watcher.go, nextBookmarkTime). Example: a 10 s watch, 60 s heartbeat: one
      // bookmark at 8 s, then the end at 10 s.
      const preTimeout = clock.now() + request.timeoutSeconds * 1000 - 2000;
      const schedule = (): void => {
        const now = clock.now();
        const next = preTimeout > now ? Math.min(now + bookmarkIntervalMs, preTimeout) : now + bookmarkIntervalMs;
        this.#timers.push(clock.setTimeout(bookmark, next - now));
      };
      const bookmark = (): void => {
        if (this.#closed) return;
        this.bookmark();
        schedule();
      };
      schedule();
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a BOOKMARK at the current resourceVersion. */
  bookmark(annotations?: Readonly<Record<string, string>>): void {
    const metadata = { resourceVersion: String(this.#state.resourceVersion), ...(annotations === undefined ? {} : { annotations }) };
    const object = { kind: this.request.resource.kind, apiVersion: apiVersionOf(this.request.resource), metadata };
    this.#write("BOOKMARK", JSON.stringify(object));
  }

  /** ERROR 410 Expired, then the end of the stream. */
  expire(from: number = this.request.resourceVersion ?? this.#state.resourceVersion): void {
    const message = `too old resource version: ${from} (${this.#state.oldestWatchableOf(this.request.resource) + 1})`;
    this.#write("ERROR", JSON.stringify(statusObject({ code: 410, reason: "Expired", message })), true);
    this.end();
  }

  /** Writes a raw line (e.g. one that is not JSON), ignoring a stall. */
  writeRaw(line: string): void {
    this.#enqueue(`${line}\n`);
  }

  /** A clean end, as when timeoutSeconds passes. */
  end(): void {
    this.#close(true);
  }

  /** The connection breaks mid-stream. */
  break(): void {
    if (this.#closed) return;
    const controller = this.#controller;
    this.#close(false);
    try {
      controller?.error(connectionReset("fake API server: connection reset"));
    } catch {
      // Already closed by the reader.
    }
  }

  #send(event: ChangeEvent): void {
    const { request } = this;
    const stored: StoredObject = event.stored;
    if (stored.resource !== request.resource) return;
    if (request.namespace !== undefined && stored.namespace !== request.namespace) return;
    if (request.fields !== undefined && !request.fields(stored)) return;
    const now = request.matches(stored.labels);
    if (event.type === "MODIFIED") {
      const before = request.matches(event.previousLabels);
      if (before && now) this.#write("MODIFIED", this.#json(stored));
      else if (now) this.#write("ADDED", this.#json(stored));
      else if (before) this.#write("DELETED", this.#json(stored));
    } else if (now) this.#write(event.type, this.#json(stored));
  }

  #json(stored: StoredObject): string {
    return this.request.render === undefined ? stored.json : this.request.render(stored);
  }

  #write(type: string, objectJson: string, evenIfStalled = false): void {
    if (this.stalled && !evenIfStalled) return;
    this.#enqueue(`{"type":"${type}","object":${objectJson}}\n`);
  }

  #enqueue(text: string): void {
    if (this.#closed || this.#controller === undefined) return;
    try {
      this.#controller.enqueue(encoder.encode(text));
    } catch {
      this.#close(false);
    }
  }

  #close(closeStream: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) this.#clock.clearTimeout(timer);
    this.#unsubscribe?.();
    if (closeStream) {
      try {
        this.#controller?.close();
      } catch {
        // The reader cancelled first.
      }
    }
    this.#onClose(this);
  }
}
