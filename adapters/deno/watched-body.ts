// The upstream response body as the stream handed downstream: counts bytes, reports the end once,
// and aborts a body that stays silent for longer than the idle timeout.
//
// Idle is silence while a read is waiting on the backend; time the client takes to consume
// (backpressure: no read is asked for) is not counted. One timer per body, re-armed for the rest
// of the period when it fires early, instead of a clearTimeout/setTimeout pair per chunk.

import type { UpstreamOutcome } from "../../router/forward/upstream-transport.ts";
import { UpstreamError } from "../../router/forward/upstream-transport.ts";

export interface WatchedBodyHooks {
  readonly idleTimeoutMs: number;
  /** Aborts the upstream exchange: the body stays silent (idle) or the client went away. */
  readonly abort: (cause: "idle" | "client") => void;
  /** Maps a read failure to an UpstreamError. */
  readonly toError: (error: unknown) => UpstreamError;
  /** Called once. */
  readonly onEnd: (outcome: UpstreamOutcome) => void;
}

export function watchedBody(upstream: ReadableStream<Uint8Array>, hooks: WatchedBodyHooks): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  const idleMs = hooks.idleTimeoutMs;
  let bytesOut = 0;
  let ended = false;
  let waitingSince = -1;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const end = (outcome: UpstreamOutcome): void => {
    if (ended) return;
    ended = true;
    if (timer !== undefined) clearTimeout(timer);
    hooks.onEnd(outcome);
  };
  const check = (): void => {
    timer = undefined;
    if (ended) return;
    const waited = waitingSince < 0 ? 0 : performance.now() - waitingSince;
    if (waited >= idleMs) hooks.abort("idle");
    else timer = setTimeout(check, idleMs - waited);
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      waitingSince = performance.now();
      if (idleMs > 0 && timer === undefined) timer = setTimeout(check, idleMs);
      try {
        const { done, value } = await reader.read();
        waitingSince = -1;
        if (done) {
          controller.close();
          end({ ok: true, bytesOut });
          return;
        }
        bytesOut += value.byteLength;
        controller.enqueue(value);
      } catch (error) {
        waitingSince = -1;
        const upstreamError = hooks.toError(error);
        if (!ended) controller.error(upstreamError);
        end({ ok: false, bytesOut, error: upstreamError });
      }
    },
    cancel() {
      if (ended) return;
      hooks.abort("client");
      end({ ok: false, bytesOut, error: hooks.toError(undefined) });
    },
  });
}
