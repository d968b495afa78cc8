// router/forward/body-limit.ts on its own: the byte count, the counted Web stream, and the error a
// transport reports, which the retry policy must never retry.
import { describe, expect, test } from "vitest";
import { BodyByteLimit, BodyTooLargeError, bodyTooLargeOf, limitedBody, upstreamBodyTooLarge } from "../../router/forward/body-limit.ts";
import { retryable } from "../../router/retry-policy.ts";

const target = { address: "10.0.0.7", port: 9876, addressType: "IPv4", identity: "rcsise-a1b2c" } as const;

function source(chunks: readonly number[]): { stream: ReadableStream<Uint8Array>; cancelled: unknown[] } {
  const cancelled: unknown[] = [];
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const size = chunks[i++];
      if (size === undefined) controller.close();
      else controller.enqueue(new Uint8Array(size).fill(i));
    },
    cancel(reason) {
      cancelled.push(reason);
    },
  });
  return { stream, cancelled };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<{ sizes: number[]; error: unknown }> {
  const sizes: number[] = [];
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { sizes, error: undefined };
      sizes.push(value.byteLength);
    }
  } catch (error) {
    return { sizes, error };
  }
}

describe("BodyByteLimit", () => {
  test("admits up to exactly the limit, refuses the next byte and everything after", () => {
    const limit = new BodyByteLimit(10);
    expect(limit.admit(4)).toBeUndefined();
    expect(limit.admit(6)).toBeUndefined();
    expect(limit.bytes).toBe(10);
    const refused = limit.admit(1);
    expect(refused).toBeInstanceOf(BodyTooLargeError);
    expect(refused).toMatchObject({ message: "request body is larger than 10 bytes", maxBodyBytes: 10, passedBytes: 10 });
    expect(limit.admit(0)).toBe(refused);
    expect(limit.exceeded).toBe(refused);
    expect(limit.bytes).toBe(10);
  });

  test("a chunk that would cross the limit is refused whole: what passed stays under it", () => {
    const limit = new BodyByteLimit(10);
    expect(limit.admit(7)).toBeUndefined();
    expect(limit.admit(7)?.passedBytes).toBe(7);
  });

  test("the limit must be a whole number >= 0", () => {
    expect(() => new BodyByteLimit(-1)).toThrow("maxBodyBytes must be a whole number >= 0, got -1");
    expect(() => new BodyByteLimit(1.5)).toThrow("maxBodyBytes must be a whole number >= 0, got 1.5");
    expect(new BodyByteLimit(0).admit(1)?.message).toBe("request body is larger than 0 bytes");
  });
});

describe("limitedBody", () => {
  test("a body within the limit passes chunk for chunk", async () => {
    const { stream } = source([3, 3, 4]);
    expect(await readAll(limitedBody(stream, new BodyByteLimit(10)))).toEqual({ sizes: [3, 3, 4], error: undefined });
  });

  test("past the limit it errors with BodyTooLargeError and never yields the crossing chunk; the source is cancelled", async () => {
    const { stream, cancelled } = source([4, 4, 4, 4]);
    const { sizes, error } = await readAll(limitedBody(stream, new BodyByteLimit(10)));
    expect(sizes).toEqual([4, 4]);
    expect(error).toBeInstanceOf(BodyTooLargeError);
    expect(error).toMatchObject({ maxBodyBytes: 10, passedBytes: 8 });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(cancelled).toEqual([error]);
  });

  test("`rest` gets the source's reader instead, with what remains of the body", async () => {
    const { stream, cancelled } = source([4, 4, 4, 5]);
    let rest: number[] | undefined;
    const drained = new Promise<void>((resolve) => {
      void readAll(limitedBody(stream, new BodyByteLimit(5), (reader) => {
        rest = [];
        const next = (): void =>
          void reader.read().then(({ done, value }) => {
            if (done) return resolve();
            rest!.push(value.byteLength);
            next();
          });
        next();
      }));
    });
    await drained;
    expect(rest).toEqual([4, 5]);
    expect(cancelled).toEqual([]);
  });
});

describe("the transport's error for a body past its limit", () => {
  test("is an aborted try with the BodyTooLargeError as cause, sent, and never retried", () => {
    const tooLarge = new BodyTooLargeError(1000, 996);
    const error = upstreamBodyTooLarge(target, tooLarge, false);
    expect(error).toMatchObject({ kind: "aborted", sentRequest: true, cause: tooLarge });
    expect(error.message).toBe(
      "upstream 10.0.0.7:9876 (rcsise-a1b2c): aborted: request body is larger than 1000 bytes (counted as it streamed, without Content-Length); the upstream request was aborted after 996 body bytes",
    );
    expect(upstreamBodyTooLarge(target, tooLarge, true).message).toMatch(/; the response had started, so the client connection was closed$/);
    for (const method of ["POST", "PUT", "GET"]) expect(retryable(error, method, true)).toBe(false);
  });

  test("is found behind the errors a runtime wraps it in", () => {
    const tooLarge = new BodyTooLargeError(1000, 0);
    expect(bodyTooLargeOf(tooLarge)).toBe(tooLarge);
    expect(bodyTooLargeOf(new TypeError("fetch failed", { cause: new Error("x", { cause: tooLarge }) }))).toBe(tooLarge);
    expect(bodyTooLargeOf(new TypeError("fetch failed", { cause: new Error("request body is larger than 1000 bytes") }))).toBeUndefined();
    expect(bodyTooLargeOf("request body is larger than 1000 bytes")).toBeUndefined();
  });
});
