// The coarse idle check of WebSocket tunnels (adapters/node/idle-check.ts): never before the idle
// period of silence, at most idleMs / CHECKS later than a per-byte timer, and any byte starts the silence over. The
// end-to-end idle close (1001 to both sides) is in websocket.test.ts.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { CHECKS, watchIdle } from "../../adapters/node/idle-check.ts";

describe("watchIdle", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  test("fires once after at least idleMs of silence, within idleMs / CHECKS more", () => {
    const onIdle = vi.fn();
    watchIdle(1000, () => 0, onIdle);
    vi.advanceTimersByTime(999);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1000 / CHECKS + 1);
    expect(onIdle).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  test("bytes relayed start the silence over", () => {
    let firedAt = NaN;
    let bytes = 0;
    watchIdle(1000, () => bytes, () => (firedAt = Date.now()));
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(400);
      bytes += 10;
    }
    expect(firedAt).toBeNaN();
    const lastByte = Date.now();
    vi.advanceTimersByTime(3000);
    // Seen at the next check (at most one period after the byte), then CHECKS quiet checks.
    expect(firedAt - lastByte).toBeGreaterThanOrEqual(1000);
    expect(firedAt - lastByte).toBeLessThanOrEqual(1000 + 1000 / CHECKS);
  });

  test("stopped, it never fires", () => {
    const onIdle = vi.fn();
    const stop = watchIdle(1000, () => 0, onIdle);
    vi.advanceTimersByTime(500);
    stop();
    vi.advanceTimersByTime(5000);
    expect(onIdle).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});
