// The parts of the list/watch loop on their own: backoff steps, the object store's replace (what
// a re-list adds, changes and deletes), line reading across chunk boundaries, and the watchdog on
// an injected clock.
import { describe, expect, test } from "vitest";
import { Backoff } from "../../adapters/kubernetes/backoff.ts";
import { defaultListWatchTiming } from "../../adapters/kubernetes/list-watch-loop.ts";
import { ObjectStore } from "../../adapters/kubernetes/object-store.ts";
import { watchOnce } from "../../adapters/kubernetes/watch-once.ts";
import { decodeWatchEvent, readLines } from "../../adapters/kubernetes/watch-stream.ts";

describe("backoff", () => {
  test("doubles from the first step up to the cap; jitter takes up to half off; reset starts over", () => {
    const steps = (random: number): number[] => {
      const backoff = new Backoff({ initialMs: 800, maxMs: 30_000 }, () => random);
      return Array.from({ length: 8 }, () => Math.round(backoff.next()));
    };
    expect(steps(0)).toEqual([800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
    expect(steps(1)).toEqual([400, 800, 1600, 3200, 6400, 12800, 15000, 15000]);
    const backoff = new Backoff({ initialMs: 10, maxMs: 100 }, () => 0);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(10);
  });

  test("bad settings fail with the reason", () => {
    expect(() => new Backoff({ initialMs: 100, maxMs: 10 })).toThrow("backoff needs 0 <= initialMs <= maxMs, got initialMs 100, maxMs 10");
    expect(() => new Backoff({ jitter: 2 })).toThrow("backoff jitter must be from 0 to 1, got 2");
  });
});

describe("object store", () => {
  const svc = (name: string, rv: string, namespace = "default") => ({ metadata: { name, namespace, resourceVersion: rv, uid: `u-${name}` } });

  test("replace reports what a re-list added, changed and found gone, and keeps unchanged objects", () => {
    const store = new ObjectStore<ReturnType<typeof svc>>();
    const a = svc("a", "1");
    store.replace([a, svc("b", "1"), svc("c", "1")]);
    const changes = store.replace([svc("a", "1"), svc("b", "2"), svc("d", "1")]);
    expect(changes.added.map((o) => o.metadata.name)).toEqual(["d"]);
    expect(changes.updated.map((o) => o.metadata.name)).toEqual(["b"]);
    expect(changes.removed.map((o) => o.metadata.name)).toEqual(["c"]);
    expect(store.get("default/a")).toBe(a); // the same object: the table builder reuses its entry
    expect([...store.keys()].sort()).toEqual(["default/a", "default/b", "default/d"]);
  });

  test("upsert of the same version and remove of an unknown object change nothing", () => {
    const store = new ObjectStore<ReturnType<typeof svc>>();
    expect(store.upsert(svc("a", "1"))).toBe(true);
    expect(store.upsert(svc("a", "1"))).toBe(false);
    expect(store.upsert(svc("a", "2"))).toBe(true);
    expect(store.remove(svc("zz", "1"))).toBe(false);
    expect(store.remove(svc("a", "3"))).toBe(true);
    expect(store.size).toBe(0);
  });
});

describe("watch lines", () => {
  test("lines split across chunks, several lines per chunk, a last line without a newline", async () => {
    const encoder = new TextEncoder();
    const chunks = ['{"type":"ADDED","obj', 'ect":{"a":1}}\n{"type":"BOOKMARK","object":{}}\n\n{"type":"DEL', 'ETED","object":{"é":2}}'];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
        controller.close();
      },
    });
    const seen: string[] = [];
    let chunkCount = 0;
    const how = await readLines(body, new AbortController().signal, () => chunkCount++, (line) => {
      const event = decodeWatchEvent(line);
      seen.push("problem" in event ? event.problem : event.type);
      return true;
    });
    expect(how).toBe("end");
    expect(seen).toEqual(["ADDED", "BOOKMARK", "DELETED"]);
    expect(chunkCount).toBe(3);
  });

  test("what is wrong with a line that is not an event", () => {
    expect(decodeWatchEvent("{oops")).toMatchObject({ problem: expect.stringMatching(/^not JSON/) });
    expect(decodeWatchEvent('{"type":"CHANGED","object":{}}')).toEqual({ problem: 'type "CHANGED" is not ADDED, MODIFIED, DELETED, BOOKMARK or ERROR' });
    expect(decodeWatchEvent('{"type":"ADDED"}')).toEqual({ problem: "ADDED event without an object" });
  });

  test("abort ends a read that would wait forever", async () => {
    const controller = new AbortController();
    const body = new ReadableStream<Uint8Array>({ start() {} });
    setTimeout(() => controller.abort(), 20);
    expect(await readLines(body, controller.signal, () => {}, () => true)).toBe("stopped");
  });
});

describe("watch watchdog, on an injected clock", () => {
  test("a watch that sends nothing for watchSilenceMs is cut as stalled; bytes keep it alive", async () => {
    let now = 0;
    const timers: { at: number; run: () => void }[] = [];
    // Only the injected clock moves time here; the test waits for what the watch does (a timer
    // armed, an event stored), told by these listeners, never for real milliseconds.
    const listeners = new Set<() => void>();
    const changed = (): void => {
      for (const listener of [...listeners]) listener();
    };
    const when = (check: () => boolean): Promise<void> =>
      new Promise((resolve) => {
        const listener = (): void => {
          if (!check()) return;
          listeners.delete(listener);
          resolve();
        };
        listeners.add(listener);
        listener();
      });
    const clock = {
      now: () => now,
      setTimeout: (run: () => void, ms: number) => {
        const timer = { at: now + ms, run };
        timers.push(timer);
        changed();
        return timer;
      },
      clearTimeout: (timer: unknown) => void timers.splice(timers.indexOf(timer as never), 1),
    };
    /** Moves the clock and fires what is due. */
    const advance = (ms: number): void => {
      now += ms;
      for (const timer of timers.filter((t) => t.at <= now)) {
        timers.splice(timers.indexOf(timer), 1);
        timer.run();
      }
    };
    let push: ((text: string) => void) | undefined;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (push = (text) => c.enqueue(new TextEncoder().encode(text))) });
    const seen: string[] = [];
    const outcome = watchOnce({
      client: { server: "", get: async () => new Response(body), close: async () => {} },
      url: { url: "/api/v1/services?watch=true", timeoutSeconds: 600 },
      name: "services",
      from: "100",
      outer: new AbortController().signal,
      timing: { ...defaultListWatchTiming, watchSilenceMs: 1000 },
      clock,
      sink: {
        replace: () => {},
        upsert: (o: any) => {
          seen.push(o.metadata.name);
          changed();
        },
        remove: () => {},
      },
      transform: (o) => o as any,
      storable: () => true,
    });
    await when(() => timers.length > 0); // the watchdog is armed
    advance(900);
    push!('{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"101"}}}\n');
    await when(() => seen.length === 1); // the byte and the event were read at 900 ms
    advance(900); // 1800 ms open, 900 ms since the last byte: alive
    await when(() => timers.some((t) => t.at > now)); // and the watchdog armed again
    advance(200); // 1100 ms of silence
    const result = await outcome;
    expect(result.reason).toBe("stalled");
    expect(result.resourceVersion).toBe("101");
    expect(seen).toEqual(["a"]);
    expect(result.error?.message).toBe("watch services: nothing received for 1100 ms (watch open 2000 ms, timeoutSeconds 600); restarting it");
  });
});
