// One watch request of the list/watch loop (list-watch-loop.ts), from open to end: events go to
// the sink as they are read, and the outcome says how the watch ended, so the loop can decide
// between watching again, backing off, and re-listing. A watchdog aborts a watch that sends
// nothing for watchSilenceMs, or that outlives its timeoutSeconds by watchDeadlineGraceMs: a
// connection can die without a FIN or RST (a NAT entry expired, a load balancer gone), and a
// read on it would wait forever.

import type { Clock } from "./clock.ts";
import type { KubeApiClient } from "./kube-api-client.ts";
import { errorFromResponse, errorFromStatus, KubeApiError, networkError, type KubeStatus } from "./kube-api-error.ts";
import type { ListWatchObserver, ListWatchSink, ListWatchTiming, WatchEndReason } from "./list-watch-contract.ts";
import type { KubeObject } from "./object-store.ts";
import { decodeWatchEvent, excerpt, readLines } from "./watch-stream.ts";

export type WatchOutcome = { readonly reason: WatchEndReason; readonly resourceVersion: string; readonly events: number; readonly error?: KubeApiError };

export interface WatchOnceOptions<T> {
  readonly client: KubeApiClient;
  readonly url: { readonly url: string; readonly timeoutSeconds: number };
  /** For messages: "services" or "services in shop". */
  readonly name: string;
  /** The resourceVersion the watch starts from. */
  readonly from: string;
  /** The loop's signal: stop(). */
  readonly outer: AbortSignal;
  readonly timing: ListWatchTiming;
  readonly clock: Clock;
  readonly sink: ListWatchSink<T>;
  readonly observer?: ListWatchObserver;
  readonly transform: (object: Record<string, unknown>) => T;
  /** False for an object that cannot be stored (reported by the caller). */
  readonly storable: (object: T, shown: () => string) => boolean;
}

export async function watchOnce<T extends KubeObject>(options: WatchOnceOptions<T>): Promise<WatchOutcome> {
  const { timing, clock, observer, sink, from, outer, name } = options;
  const { url, timeoutSeconds } = options.url;

  const controller = new AbortController();
  const abort = (): void => controller.abort();
  outer.addEventListener("abort", abort, { once: true });
  const started = clock.now();
  let lastActivity = started;
  let stalled = false;
  const deadline = started + timeoutSeconds * 1000 + timing.watchDeadlineGraceMs;
  // One timer, re-armed for what is left rather than reset on every chunk.
  let timer: unknown;
  const watchdog = (): void => {
    const now = clock.now();
    const silentUntil = lastActivity + timing.watchSilenceMs;
    if (now >= silentUntil || now >= deadline) {
      stalled = true;
      controller.abort();
      return;
    }
    timer = clock.setTimeout(watchdog, Math.min(silentUntil, deadline) - now);
  };
  timer = clock.setTimeout(watchdog, timing.watchSilenceMs);

  let resourceVersion = from;
  let events = 0;
  const end = (reason: WatchEndReason, error?: KubeApiError): WatchOutcome => {
    if (outer.aborted) return { reason: "stopped", resourceVersion, events };
    if (stalled) {
      const silence = clock.now() - lastActivity;
      return { reason: "stalled", resourceVersion, events, error: new KubeApiError("network", 0, "", `watch ${name}: nothing received for ${silence} ms (watch open ${clock.now() - started} ms, timeoutSeconds ${timeoutSeconds}); restarting it`) };
    }
    return { reason, resourceVersion, events, ...(error === undefined ? {} : { error }) };
  };

  try {
    let response: Response;
    try {
      response = await options.client.get(url, controller.signal);
    } catch (error) {
      return end("failed", networkError(error, `watch ${name}`));
    }
    if (!response.ok) {
      const error = await errorFromResponse(response, `watch ${name}`);
      return end(error.kind === "expired" ? "expired" : "failed", error);
    }
    if (response.body === null) return end("failed", new KubeApiError("protocol", response.status, "", `watch ${name}: a response without a body`));
    let ending: WatchOutcome | undefined;
    let how: "end" | "stopped";
    try {
      how = await readLines(response.body, controller.signal, () => (lastActivity = clock.now()), (line) => {
        const event = decodeWatchEvent(line);
        if ("problem" in event) {
          observer?.badLine?.({ line: excerpt(line), problem: event.problem });
          ending = end("undecodable", new KubeApiError("protocol", 200, "", `watch ${name}: a line that is not a watch event (${event.problem}): ${excerpt(line)}`));
          return false;
        }
        if (event.type === "ERROR") {
          const error = errorFromStatus(event.object as KubeStatus, `watch ${name}`);
          ending = end(error.kind === "expired" ? "expired" : "failed", error);
          return false;
        }
        const meta = event.object["metadata"] as { resourceVersion?: unknown } | undefined;
        const version = meta?.resourceVersion;
        if (event.type === "BOOKMARK") {
          if (typeof version === "string" && version !== "") resourceVersion = version;
        } else {
          const object = options.transform(event.object);
          if (!options.storable(object, () => excerpt(line))) {
            ending = end("undecodable", new KubeApiError("protocol", 200, "", `watch ${name}: ${event.type} of an object without metadata.name`));
            return false;
          }
          if (event.type === "DELETED") sink.remove(object);
          else sink.upsert(object);
          if (typeof version === "string" && version !== "") resourceVersion = version;
        }
        events++;
        observer?.event?.(event.type);
        observer?.alive?.();
        return true;
      });
    } catch (error) {
      return end("failed", networkError(error, `watch ${name}`));
    }
    if (ending !== undefined) return ending;
    if (how === "stopped") return end("stopped");
    // The server ended the stream: its timeoutSeconds passed (no ERROR event is sent for that).
    if (events === 0 && clock.now() - started < timing.shortWatchMs) {
      return end("failed", new KubeApiError("protocol", 200, "", `watch ${name}: the server ended the watch after ${clock.now() - started} ms with no event (a very short watch)`));
    }
    observer?.alive?.();
    return end("timeout");
  } finally {
    clock.clearTimeout(timer);
    outer.removeEventListener("abort", abort);
    controller.abort();
  }
}
