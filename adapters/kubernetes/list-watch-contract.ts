// What a list/watch loop and the one watch request it makes (watch-once.ts) share: the loop's
// timing, where it puts objects (the sink) and what it reports (the observer). Its own module so
// that neither of the two imports the other's contract from the other.

import type { BackoffOptions } from "./backoff.ts";
import type { KubeApiError } from "./kube-api-error.ts";
import type { WatchEventType } from "./watch-stream.ts";

export interface ListWatchTiming {
  /** Items per list page. Default 500 (client-go's pager). 0: one request. */
  readonly pageSize: number;
  /** timeoutSeconds of a watch is random in [min, 2 x min). Default 300 (client-go's reflector). */
  readonly minWatchTimeoutSeconds: number;
  /** A watch that sends nothing (no event, bookmark or byte) for this long is restarted. Default
   * 5 minutes: API servers send a bookmark about once a minute to watchers that ask. */
  readonly watchSilenceMs: number;
  /** A watch still open this long after its timeoutSeconds is restarted. Default 30 s. */
  readonly watchDeadlineGraceMs: number;
  /** A watch that ends cleanly this soon with no event counts as a failure (client-go's "very
   * short watch"), so a server that closes every watch at once is not hammered. Default 1000. */
  readonly shortWatchMs: number;
  readonly backoff: BackoffOptions;
}

export const defaultListWatchTiming: ListWatchTiming = Object.freeze({
  pageSize: 500,
  minWatchTimeoutSeconds: 300,
  watchSilenceMs: 300_000,
  watchDeadlineGraceMs: 30_000,
  shortWatchMs: 1000,
  backoff: Object.freeze({}),
});

/** Where the loop puts what it learns. Called synchronously, in order. */
export interface ListWatchSink<T> {
  /** A full list: the store's whole content (objects not in it are gone). */
  replace(objects: T[]): void;
  upsert(object: T): void;
  remove(object: T): void;
}

/** too-large: the server answered a watch 504 "Too large resource version". */
export type ListReason = "initial" | "expired" | "undecodable" | "too-large";
/** timeout: the server ended the stream (its timeoutSeconds); stalled: the watchdog cut it. */
export type WatchEndReason = "timeout" | "expired" | "failed" | "stalled" | "undecodable" | "stopped";

/** What the loop reports, for metrics and logs. Every method optional. */
export interface ListWatchObserver {
  listed?(info: { readonly reason: ListReason; readonly items: number; readonly pages: number; readonly resourceVersion: string; readonly ms: number }): void;
  watchEnded?(info: { readonly reason: WatchEndReason; readonly events: number; readonly error?: KubeApiError }): void;
  event?(type: WatchEventType): void;
  failed?(info: { readonly during: "list" | "watch"; readonly error: KubeApiError; readonly delayMs: number }): void;
  /** A line that is not a watch event, or an event whose object cannot be stored. */
  badLine?(info: { readonly line: string; readonly problem: string }): void;
  /** The loop is known current: a list finished, an event or bookmark arrived, a watch ended cleanly. */
  alive?(): void;
}
