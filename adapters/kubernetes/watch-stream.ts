// One watch response body, read as the API server writes it: one JSON object per line,
// {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{..}}, a chunk holding any number of
// lines or part of one. Lines that are not such an event are handed to the caller as problems
// instead of being skipped without a word, as client-node 2.0.1's Watch does (watch.js:
// `catch { /* ignore parse errors */ }`; see the issues cited in list-watch-loop.ts): a lost
// event means a stale table until the next re-list.

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface WatchEvent {
  readonly type: WatchEventType;
  readonly object: Record<string, unknown>;
}

const eventTypes: ReadonlySet<string> = new Set(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]);

/** An event, or what is wrong with the line. */
export function decodeWatchEvent(line: string): WatchEvent | { readonly problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    return { problem: `not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  if (parsed === null || typeof parsed !== "object") return { problem: "not a JSON object" };
  const { type, object } = parsed as { type?: unknown; object?: unknown };
  if (typeof type !== "string" || !eventTypes.has(type)) return { problem: `type ${JSON.stringify(type)} is not ADDED, MODIFIED, DELETED, BOOKMARK or ERROR` };
  if (object === null || typeof object !== "object" || Array.isArray(object)) return { problem: `${type} event without an object` };
  return { type: type as WatchEventType, object: object as Record<string, unknown> };
}

/** Shortens a line for a log message. */
export function excerpt(line: string, max = 120): string {
  return line.length > max ? `${JSON.stringify(line.slice(0, max))}... (${line.length} characters)` : JSON.stringify(line);
}

/**
 * Reads `body` line by line until it ends, `onLine` returns false, or `signal` aborts.
 * `onChunk` runs for every chunk (a blank keep-alive line counts): the watchdog's sign of life.
 * Resolves "end" when the server ended the stream, "stopped" otherwise; rejects when the
 * connection breaks.
 */
export async function readLines(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
  onChunk: () => void,
  onLine: (line: string) => boolean,
): Promise<"end" | "stopped"> {
  const reader = body.getReader();
  // Cancelling the reader ends a pending read() whatever the fetch implementation does with the
  // aborted signal once the response has started (not every one errors the body).
  const cancel = (): void => void reader.cancel().catch(() => {});
  signal.addEventListener("abort", cancel, { once: true });
  const decoder = new TextDecoder();
  let buffered = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (signal.aborted) return "stopped";
      if (done) {
        const last = buffered + decoder.decode();
        if (last.trim() !== "" && !onLine(last)) return "stopped";
        return "end";
      }
      onChunk();
      buffered += decoder.decode(value, { stream: true });
      let start = 0;
      for (let newline = buffered.indexOf("\n"); newline !== -1; newline = buffered.indexOf("\n", start)) {
        const line = buffered.slice(start, newline);
        start = newline + 1;
        if (line.trim() !== "" && !onLine(line)) return "stopped";
        if (signal.aborted) return "stopped";
      }
      buffered = buffered.slice(start);
    }
  } catch (error) {
    if (signal.aborted) return "stopped";
    throw error;
  } finally {
    signal.removeEventListener("abort", cancel);
    if (!signal.aborted) cancel();
  }
}
