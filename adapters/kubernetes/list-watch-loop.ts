// A supervised list/watch loop for one collection (one resource, all namespaces or one), the job
// of client-go's Reflector (tools/cache/reflector.go: ListAndWatch), in its boundaries and not its
// size. client-node's informer cannot be used as is: it stops for good after the first network
// error, never asks for bookmarks, lists in one request, and drops lines it cannot parse without
// a word (kubernetes-client/javascript issues 596, 680, 1496 and 3020; the fix, PR 3034, is not in
// 2.0.1). One watch request, with its watchdog, is watch-once.ts.
//
//   list (paged) ──> sink.replace(items) ──> watch from the list's resourceVersion ──┐
//        ^                                       │ ADDED/MODIFIED/DELETED: sink, rv = object's
//        │ 410 Expired (status or ERROR event),  │ BOOKMARK: rv = bookmark's
//        │ a line that is not an event,          │ clean end (timeoutSeconds): watch again from rv
//        │ 504 ResourceVersionTooLarge (backoff) │
//        └───────────────────────────────────────┤ failure (network, 401/403, 429, 5xx): back off,
//                                                │   watch again from rv
//                                                └ silent too long (watchdog): abort, back off, again
//
// - The watch asks for bookmarks (allowWatchBookmarks), so a quiet collection still advances the
//   resourceVersion and a restart does not fall out of the server's window into a 410.
// - timeoutSeconds is random in [min, 2 x min), as the reflector does, so that the watches of many
//   routers do not all end (and reconnect) at the same moment.
// - Every failure other than 410 waits a jittered, capped exponential backoff (backoff.ts);
//   a 429's Retry-After is honoured as a floor. The backoff is reset by progress (a watch event or
//   bookmark), not by a successful list, so a list that works followed by a watch that does not
//   still slows down.
// - stop() aborts the request in flight and resolves when the loop has left; start() after stop()
//   waits for that, so there is never more than one watch per loop.

import { Backoff } from "./backoff.ts";
import { sleep, systemClock, type Clock } from "./clock.ts";
import type { KubeApiClient } from "./kube-api-client.ts";
import { networkError, type KubeApiError } from "./kube-api-error.ts";
import { objectKey, type KubeObject } from "./object-store.ts";
import { listAllPages } from "./paged-list.ts";
import { watchOnce, type WatchOutcome } from "./watch-once.ts";
import { excerpt } from "./watch-stream.ts";
import { defaultListWatchTiming, type ListReason, type ListWatchObserver, type ListWatchSink, type ListWatchTiming } from "./list-watch-contract.ts";
import { collectionPath, type WatchedResource } from "./watched-resources.ts";

export { defaultListWatchTiming, type ListReason, type ListWatchObserver, type ListWatchSink, type ListWatchTiming, type WatchEndReason } from "./list-watch-contract.ts";

export interface ListWatchLoopOptions<T> {
  readonly client: KubeApiClient;
  readonly resource: WatchedResource;
  /** One namespace; default all. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly sink: ListWatchSink<T>;
  readonly observer?: ListWatchObserver;
  /** Each listed or watched object once, as parsed; may return a trimmed copy. Default: drop
   * metadata.managedFields (often half an object's size, never read). */
  readonly transform?: (object: Record<string, unknown>) => T;
  readonly timing?: Partial<ListWatchTiming>;
  readonly clock?: Clock;
  readonly random?: () => number;
}

/** A copy without metadata.managedFields, or the object itself when it has none. */
export function dropManagedFields<T>(object: Record<string, unknown>): T {
  const metadata = object["metadata"] as Record<string, unknown> | undefined;
  if (metadata == null || typeof metadata !== "object" || !("managedFields" in metadata)) return object as T;
  const { managedFields: _, ...rest } = metadata;
  return { ...object, metadata: rest } as T;
}

export class ListWatchLoop<T extends KubeObject> {
  readonly resource: WatchedResource;
  readonly namespace: string | undefined;
  readonly #options: ListWatchLoopOptions<T>;
  readonly #timing: ListWatchTiming;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #backoff: Backoff;
  readonly #transform: (object: Record<string, unknown>) => T;
  readonly #path: string;
  #controller: AbortController | undefined;
  #run: Promise<void> = Promise.resolve();
  #synced = false;

  constructor(options: ListWatchLoopOptions<T>) {
    this.#options = options;
    this.resource = options.resource;
    this.namespace = options.namespace;
    this.#timing = { ...defaultListWatchTiming, ...options.timing };
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#backoff = new Backoff(this.#timing.backoff, this.#random);
    this.#transform = options.transform ?? dropManagedFields;
    this.#path = collectionPath(options.resource, options.namespace);
  }

  /** "services" or "services in default": for messages. */
  get name(): string {
    return this.namespace === undefined ? this.resource.resource : `${this.resource.resource} in ${this.namespace}`;
  }

  /** True once the first full list is in the sink; stays true. */
  get synced(): boolean {
    return this.#synced;
  }

  get running(): boolean {
    return this.#controller !== undefined;
  }

  start(): void {
    if (this.#controller !== undefined) return;
    const controller = new AbortController();
    this.#controller = controller;
    const previous = this.#run;
    this.#run = previous.then(() => this.#loop(controller.signal));
  }

  /** Aborts the request in flight; resolves once the loop has left. */
  async stop(): Promise<void> {
    this.#controller?.abort();
    this.#controller = undefined;
    await this.#run;
  }

  async #loop(signal: AbortSignal): Promise<void> {
    const observer = this.#options.observer;
    let list: ListReason | undefined = "initial";
    let resourceVersion = "";
    let expiredWithoutProgress = 0;
    while (!signal.aborted) {
      if (list !== undefined) {
        const started = this.#clock.now();
        try {
          const result = await listAllPages(
            this.#options.client,
            {
              path: this.#path,
              pageSize: this.#timing.pageSize,
              ...(this.#options.labelSelector === undefined ? {} : { labelSelector: this.#options.labelSelector }),
              ...(this.#options.resource.fieldSelector === undefined ? {} : { fieldSelector: this.#options.resource.fieldSelector }),
            },
            signal,
            (item) => this.#transform(item as Record<string, unknown>),
          );
          if (signal.aborted) break;
          const kept = result.items.filter((item) => this.#storable(item, () => excerpt(JSON.stringify(item))));
          this.#options.sink.replace(kept);
          resourceVersion = result.resourceVersion;
          this.#synced = true;
          observer?.listed?.({ reason: list, items: kept.length, pages: result.pages, resourceVersion, ms: this.#clock.now() - started });
          observer?.alive?.();
          list = undefined;
        } catch (error) {
          if (signal.aborted) break;
          await this.#wait("list", networkError(error, `list ${this.name}`), signal);
          continue;
        }
      }
      const outcome = await this.#watch(resourceVersion, signal);
      resourceVersion = outcome.resourceVersion;
      observer?.watchEnded?.({ reason: outcome.reason, events: outcome.events, ...(outcome.error === undefined ? {} : { error: outcome.error }) });
      if (outcome.events > 0) {
        this.#backoff.reset();
        expiredWithoutProgress = 0;
      }
      switch (outcome.reason) {
        case "stopped":
          return;
        case "timeout":
          break;
        case "expired":
          list = "expired";
          // The first 410 re-lists at once (the server is fine, the resourceVersion is old); a
          // watch from a fresh list's resourceVersion that is 410 again backs off.
          if (expiredWithoutProgress++ > 0) await this.#wait("watch", outcome.error!, signal);
          break;
        case "undecodable":
          list = "undecodable";
          await this.#wait("watch", outcome.error!, signal);
          break;
        case "failed":
        case "stalled":
          await this.#wait("watch", outcome.error!, signal);
          // 504 "Too large resource version": the server has not reached the resourceVersion this
          // loop holds (etcd restored from a backup, or an API server whose watch cache lags) and
          // may never; a watch again from it could get the same answer forever. client-go's
          // reflector re-lists (reflector.go, isTooLargeResourceVersionError), and so does this loop:
          // its lists are consistent reads, which carry a resourceVersion the server has.
          if (outcome.error?.causes.includes("ResourceVersionTooLarge") === true) list = "too-large";
          break;
      }
    }
  }

  /** Backs off after `error`; a Retry-After is a floor. */
  async #wait(during: "list" | "watch", error: KubeApiError, signal: AbortSignal): Promise<void> {
    const delayMs = Math.max(this.#backoff.next(), Math.min(error.retryAfterMs ?? 0, 300_000));
    this.#options.observer?.failed?.({ during, error, delayMs });
    await sleep(this.#clock, delayMs, signal);
  }

  /** Objects without a name cannot be keyed: reported, not stored. */
  #storable(object: T, shown: () => string): boolean {
    if (objectKey(object) !== undefined) return true;
    this.#options.observer?.badLine?.({ line: shown(), problem: `a ${this.resource.kind} without metadata.name; skipped` });
    return false;
  }

  #watch(from: string, outer: AbortSignal): Promise<WatchOutcome> {
    return watchOnce({
      client: this.#options.client,
      url: this.#watchUrl(from),
      name: this.name,
      from,
      outer,
      timing: this.#timing,
      clock: this.#clock,
      sink: this.#options.sink,
      ...(this.#options.observer === undefined ? {} : { observer: this.#options.observer }),
      transform: this.#transform,
      storable: (object, shown) => this.#storable(object, shown),
    });
  }

  /** timeoutSeconds random in [min, 2 x min), as the reflector does. */
  #watchUrl(from: string): { readonly url: string; readonly timeoutSeconds: number } {
    const timeoutSeconds = Math.max(1, Math.floor(this.#timing.minWatchTimeoutSeconds * (1 + this.#random())));
    const params = new URLSearchParams({ watch: "true", allowWatchBookmarks: "true", resourceVersion: from, timeoutSeconds: String(timeoutSeconds) });
    if (this.#options.labelSelector !== undefined && this.#options.labelSelector !== "") params.set("labelSelector", this.#options.labelSelector);
    if (this.#options.resource.fieldSelector !== undefined) params.set("fieldSelector", this.#options.resource.fieldSelector);
    return { url: `${this.#path}?${params}`, timeoutSeconds };
  }
}
