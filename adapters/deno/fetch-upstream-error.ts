// Deno's fetch failures as UpstreamError. fetch rejects with a TypeError ("fetch failed") whose
// cause carries the message of Deno's HTTP client, e.g. "error sending request for url
// (http://10.0.0.7:8080/): client error (Connect): tcp connect error: Connection refused (os error
// 111)"; an abort rejects with the signal's reason, so the transport says which of its own reasons
// fired.

import type { UpstreamErrorKind, UpstreamTarget } from "../../router/forward/upstream-transport.ts";
import { UpstreamError } from "../../router/forward/upstream-transport.ts";

// "Requests to port 6000 are blocked": Deno's fetch refuses the Fetch standard's "bad ports"
// (https://fetch.spec.whatwg.org/#bad-port: 1, 7, 9, ..., 6000, 6665-6669, 10080) before dialling,
// so a pod on such a port cannot be reached through the Deno transport: nothing was sent.
const connectFailure = /client error \(Connect\)|tcp connect error|dns error|connection refused|no route to host|network is unreachable|requests to port \d+ are blocked/i;
const resetFailure = /connection reset|connection closed|connection error|error reading a body|broken pipe|incomplete ?message|unexpected (eof|end of file)/i;

/** The messages of an error and its causes, "fetch failed: error sending request ...". */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(": ");
}

/** Why the transport itself aborted a request, if it did. */
export type FetchAbortCause = "timeout" | "idle" | "client" | undefined;

/**
 * `sentRequest`: fetch does not say whether the request went out, so only a failure to connect is
 * known to have sent nothing, and then only if the request body can be sent again
 * (`bodyReplayable`, see ReplayableBody). A timeout before the response head may have hit a
 * connect that never completed or a backend that never answered: reported as sent, to be safe.
 */
export function upstreamErrorFromFetch(error: unknown, target: UpstreamTarget, aborted: FetchAbortCause, headSeen: boolean, bodyReplayable: boolean): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const message = describe(error);
  let kind: UpstreamErrorKind;
  let detail: string;
  if (aborted === "timeout") {
    kind = "timeout";
    detail = "timeout: no response head in time";
  } else if (aborted === "idle") {
    kind = "timeout";
    detail = "timeout: the response body was idle too long";
  } else if (aborted === "client") {
    kind = "aborted";
    detail = "aborted: the client closed the connection before the response was complete";
  } else if (!headSeen && connectFailure.test(message)) {
    kind = "connect";
    detail = `connect: ${message}`;
  } else if (resetFailure.test(message)) {
    kind = "reset";
    detail = `reset: ${message}`;
  } else {
    kind = "protocol";
    detail = `protocol: ${message}`;
  }
  const sentRequest = headSeen || kind !== "connect" || !bodyReplayable;
  return new UpstreamError(kind, target, sentRequest, detail, { cause: error });
}
