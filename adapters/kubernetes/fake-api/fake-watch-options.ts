// The resourceVersion rules of a list or watch request, as the API server applies them before it
// serves one: the ListOptions validation (apimachinery pkg/apis/meta/internalversion/validation,
// ValidateListOptions: 422 Invalid on kind ListOptions.meta.k8s.io), and the watch cache's wait
// for a resourceVersion it has not seen yet (apiserver pkg/storage/cacher/watch_cache.go,
// waitUntilFreshAndBlock: about 3 s, then storage.NewTooLargeResourceVersionError, a 504).

import type { Clock } from "../clock.ts";
import type { FakeObjectState } from "./fake-object-state.ts";
import { statusResponse } from "./fake-status.ts";

export interface WatchOptions {
  /** undefined: no resourceVersion (or "0"). */
  readonly resourceVersion: number | undefined;
  readonly bookmarks: boolean;
  readonly sendInitialEvents: boolean;
  /** sendInitialEvents=false without a resourceVersion: the changes from now on, no synthetic
   * ADDED (the ListOptions doc: "start watching from the most recent resource version"). */
  readonly fromNow: boolean;
}

function invalidListOptions(field: string, detail: string): Response {
  const message = `ListOptions.meta.k8s.io "" is invalid: ${field}: Forbidden: ${detail}`;
  return statusResponse({
    code: 422,
    reason: "Invalid",
    message,
    details: { group: "meta.k8s.io", kind: "ListOptions", causes: [{ reason: "FieldValueForbidden", message: `Forbidden: ${detail}`, field }] },
  });
}

/** The options of a list request, or the error a real server answers. */
export function listOptionsError(params: URLSearchParams): Response | undefined {
  if (params.has("sendInitialEvents")) return invalidListOptions("sendInitialEvents", "sendInitialEvents is forbidden for list");
  return undefined;
}

/** The options of a watch request, or the error a real server answers. */
export function watchOptions(params: URLSearchParams): WatchOptions | Response {
  const rvText = params.get("resourceVersion") ?? "";
  const resourceVersion = rvText === "" || rvText === "0" ? undefined : Number(rvText);
  if (resourceVersion !== undefined && !Number.isInteger(resourceVersion)) {
    return statusResponse({ code: 400, reason: "BadRequest", message: `invalid resource version: ${JSON.stringify(rvText)}` });
  }
  const initial = params.get("sendInitialEvents");
  const match = params.get("resourceVersionMatch") ?? "";
  // validateWatchOptions: sendInitialEvents (true or false) needs NotOlderThan, and
  // resourceVersionMatch on a watch needs sendInitialEvents.
  if (initial !== null && match !== "NotOlderThan") return invalidListOptions("resourceVersionMatch", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
  if (match !== "" && initial === null) return invalidListOptions("resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided");
  return { resourceVersion, bookmarks: params.get("allowWatchBookmarks") === "true", sendInitialEvents: initial === "true", fromNow: initial === "false" && resourceVersion === undefined };
}

/**
 * Resolves true once the store reaches `resourceVersion`, or false after `waitMs` (the watch
 * cache's 3 s): the caller then answers tooLargeResourceVersion. A request whose client goes
 * away stops waiting.
 */
export function waitForResourceVersion(state: FakeObjectState, resourceVersion: number, clock: Clock, waitMs: number, signal: AbortSignal): Promise<boolean> {
  if (state.resourceVersion >= resourceVersion) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (reached: boolean): void => {
      clock.clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener("abort", aborted);
      resolve(reached);
    };
    const aborted = (): void => done(false);
    const timer = clock.setTimeout(() => done(false), Math.max(0, waitMs));
    const unsubscribe = state.subscribe(() => {
      if (state.resourceVersion >= resourceVersion) done(true);
    });
    signal.addEventListener("abort", aborted, { once: true });
  });
}

/** storage.NewTooLargeResourceVersionError: 504 Timeout, cause ResourceVersionTooLarge, retry
 * after 1 s (the API server writes details.retryAfterSeconds as Retry-After too). */
export function tooLargeResourceVersion(resourceVersion: number, current: number): Response {
  return statusResponse(
    {
      code: 504,
      reason: "Timeout",
      message: `Timeout: Too large resource version: ${resourceVersion}, current: ${current}`,
      details: { causes: [{ type: "ResourceVersionTooLarge", message: "Too large resource version" }], retryAfterSeconds: 1 },
    },
    { "retry-after": "1" },
  );
}
