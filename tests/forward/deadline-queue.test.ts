// The deadline queue and the per-try timeouts on a fake clock: when each timeout fires, to the
// millisecond, whatever the load on the machine. (tests/forward/timeouts-fire.test.ts measures the
// same through real sockets.)
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Deadline, DeadlineQueue, type DeadlineClock } from "../../adapters/node/deadline-queue.ts";
import { CallTimeouts } from "../../adapters/node/upstream-timeouts.ts";

/** A clock whose time moves only by advance(), firing timers due on the way, in order. */
class FakeClock implements DeadlineClock {
  time = 1000;
  #timers = new Map<number, { at: number; fire: () => void }>();
  #next = 1;
  /** Native timers set so far. */
  armed = 0;

  now(): number {
    return this.time;
  }
  setTimer(fire: () => void, ms: number): unknown {
    this.armed++;
    const id = this.#next++;
    this.#timers.set(id, { at: this.time + ms, fire });
    return id;
  }
  clearTimer(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  get pendingTimers(): number {
    return this.#timers.size;
  }
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let first: [number, { at: number; fire: () => void }] | undefined;
      for (const entry of this.#timers) if (entry[1].at <= end && (first === undefined || entry[1].at < first[1].at)) first = entry;
      if (first === undefined) break;
      this.#timers.delete(first[0]);
      this.time = first[1].at;
      first[1].fire();
    }
    this.time = end;
  }
}

class Recorded extends Deadline {
  readonly name: string;
  readonly fired: { name: string; at: number }[];
  constructor(name: string, fired: { name: string; at: number }[]) {
    super();
    this.name = name;
    this.fired = fired;
  }
  override expire(now: number): void {
    this.fired.push({ name: this.name, at: now });
  }
}

describe("DeadlineQueue", () => {
  test("fires each deadline at its time, earliest first, never early", () => {
    const clock = new FakeClock();
    const queue = new DeadlineQueue(clock);
    const fired: { name: string; at: number }[] = [];
    queue.schedule(new Recorded("c", fired), 1300);
    queue.schedule(new Recorded("a", fired), 1100);
    queue.schedule(new Recorded("b", fired), 1200.5);
    clock.advance(1000);
    // 1200.5 is not reached at 1200: the queue sleeps again for what is left.
    expect(fired).toEqual([
      { name: "a", at: 1100 },
      { name: "b", at: 1201 },
      { name: "c", at: 1300 },
    ]);
    expect(queue.size).toBe(0);
  });

  test("a cancelled deadline never fires; cancelling twice or an unqueued one is harmless", () => {
    const clock = new FakeClock();
    const queue = new DeadlineQueue(clock);
    const fired: { name: string; at: number }[] = [];
    const a = new Recorded("a", fired);
    queue.schedule(a, 1100);
    queue.schedule(new Recorded("b", fired), 1200);
    queue.cancel(a);
    queue.cancel(a);
    queue.cancel(new Recorded("never queued", fired));
    clock.advance(500);
    expect(fired).toEqual([{ name: "b", at: 1200 }]);
  });

  test("arms one native timer for a stream of same-length deadlines, however many are cancelled", () => {
    const clock = new FakeClock();
    const queue = new DeadlineQueue(clock);
    const fired: { name: string; at: number }[] = [];
    // 1000 tries of 30 s each, one per ms, each answered 1 ms after it started.
    for (let i = 0; i < 1000; i++) {
      const d = new Recorded(`try ${i}`, fired);
      queue.schedule(d, clock.time + 30_000);
      clock.advance(1);
      queue.cancel(d);
    }
    expect(clock.armed).toBe(1);
    expect(clock.pendingTimers).toBe(1);
    // The one timer wakes at the first try's deadline, finds nothing and sleeps no more.
    clock.advance(60_000);
    expect(fired).toEqual([]);
    expect(clock.armed).toBe(1);
  });

  test("an earlier deadline re-arms the native timer", () => {
    const clock = new FakeClock();
    const queue = new DeadlineQueue(clock);
    const fired: { name: string; at: number }[] = [];
    queue.schedule(new Recorded("late", fired), clock.time + 30_000);
    queue.schedule(new Recorded("early", fired), clock.time + 100);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(100);
    expect(fired).toEqual([{ name: "early", at: 1100 }]);
  });

  test("an expire() that throws leaves the other deadlines to fire", () => {
    const clock = new FakeClock();
    const queue = new DeadlineQueue(clock);
    const fired: { name: string; at: number }[] = [];
    class Throwing extends Deadline {
      override expire(): void {
        throw new Error("a bug in one try's handler");
      }
    }
    queue.schedule(new Throwing(), 1100);
    queue.schedule(new Recorded("after", fired), 1200);
    expect(() => clock.advance(150)).toThrow("a bug in one try's handler");
    clock.advance(100);
    expect(fired).toEqual([{ name: "after", at: 1200 }]);
  });

  test("fires in the order of a sorted list, whatever the order of schedule, move and cancel (oracle)", () => {
    type Op = { kind: "schedule"; id: number; at: number } | { kind: "cancel"; id: number };
    const op = fc.oneof(
      fc.record({ kind: fc.constant("schedule" as const), id: fc.integer({ min: 0, max: 15 }), at: fc.integer({ min: 1001, max: 1500 }) }),
      fc.record({ kind: fc.constant("cancel" as const), id: fc.integer({ min: 0, max: 15 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops: Op[]) => {
        const clock = new FakeClock();
        const queue = new DeadlineQueue(clock);
        const fired: { name: string; at: number }[] = [];
        const entries = Array.from({ length: 16 }, (_, i) => new Recorded(String(i), fired));
        const expected = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === "schedule") {
            queue.schedule(entries[o.id]!, o.at);
            expected.set(o.id, o.at);
          } else {
            queue.cancel(entries[o.id]!);
            expected.delete(o.id);
          }
        }
        clock.advance(1000);
        const oracle = [...expected].sort((x, y) => x[1] - y[1]).map(([, at]) => at);
        expect(fired.map((f) => f.at)).toEqual(oracle);
        for (const f of fired) expect(f.at).toBe(expected.get(Number(f.name)));
      }),
    );
  });
});

describe("CallTimeouts", () => {
  const setup = (call: { responseTimeoutMs: number; idleTimeoutMs: number; deadline?: number }) => {
    const clock = new FakeClock();
    const queue = new DeadlineQueue(clock);
    const errors: { at: number; code: string; message: string }[] = [];
    const timeouts = new CallTimeouts(queue, call, (error) => errors.push({ at: clock.time, code: (error as Error & { code: string }).code, message: error.message }));
    return { clock, queue, errors, timeouts };
  };

  test("response: counted from when the request has been sent, not from the try's start", () => {
    const { clock, errors, timeouts } = setup({ responseTimeoutMs: 100, idleTimeoutMs: 0 });
    clock.advance(40); // connecting, sending the body
    timeouts.requestSent();
    clock.advance(99);
    expect(errors).toEqual([]);
    clock.advance(1);
    expect(errors).toEqual([{ at: 1140, code: "UND_ERR_HEADERS_TIMEOUT", message: "no response head within the response timeout of 100ms after the request was sent" }]);
  });

  test("request (overall): runs from before the try, through the wait for a connection", () => {
    const { clock, errors, timeouts } = setup({ responseTimeoutMs: 30_000, idleTimeoutMs: 0, deadline: 1300 });
    clock.advance(250);
    timeouts.requestSent();
    clock.advance(100);
    expect(errors).toEqual([{ at: 1300, code: "UND_ERR_HEADERS_TIMEOUT", message: "the request timeout (overall, across tries) passed before the response head arrived" }]);
  });

  test("the head meets the overall deadline; idle: the longest silence, each chunk starting it over", () => {
    const { clock, queue, errors, timeouts } = setup({ responseTimeoutMs: 100, idleTimeoutMs: 100, deadline: 1050 });
    timeouts.requestSent();
    clock.advance(10);
    timeouts.headArrived();
    for (let i = 0; i < 5; i++) {
      clock.advance(60);
      timeouts.bodyData();
    }
    expect(errors).toEqual([]);
    expect(queue.size).toBe(1);
    clock.advance(100);
    expect(errors).toEqual([{ at: 1410, code: "UND_ERR_BODY_TIMEOUT", message: "the response body was idle for the idle timeout of 100ms" }]);
  });

  test("idle: time paused for a slow client does not count", () => {
    const { clock, errors, timeouts } = setup({ responseTimeoutMs: 100, idleTimeoutMs: 100 });
    timeouts.requestSent();
    timeouts.headArrived();
    clock.advance(50);
    timeouts.paused();
    clock.advance(500);
    timeouts.resumed();
    clock.advance(99);
    expect(errors).toEqual([]);
    clock.advance(1);
    expect(errors.map((e) => e.at)).toEqual([1650]);
  });

  test("done: nothing fires, the queue is empty; 0 means no limit", () => {
    const { clock, queue, errors, timeouts } = setup({ responseTimeoutMs: 100, idleTimeoutMs: 0, deadline: 1200 });
    timeouts.requestSent();
    timeouts.headArrived();
    expect(queue.size).toBe(0); // idle 0: no limit, and the overall deadline ends at the head
    timeouts.done();
    clock.advance(10_000);
    expect(errors).toEqual([]);
  });
});
