import { describe, expect, it } from "vitest";
import { ReplayableBody } from "../../router/forward/replayable-body.ts";

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

function source(chunks: Uint8Array[]): { stream: ReadableStream<Uint8Array>; pulls: () => number } {
  let index = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[index++];
        if (chunk === undefined) controller.close();
        else controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulls: () => index };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const chunk of stream) out.push(...chunk);
  return out;
}

describe("ReplayableBody", () => {
  it("does not touch the source until read", () => {
    const { stream, pulls } = source([bytes(1)]);
    const body = new ReplayableBody(stream, 1024);
    body.open();
    expect(pulls()).toBe(0);
  });

  it("replays what a first, abandoned stream read, then reads on", async () => {
    const body = new ReplayableBody(source([bytes(1, 2), bytes(3), bytes(4, 5)]).stream, 1024);
    const first = body.open().getReader();
    expect((await first.read()).value).toEqual(bytes(1, 2));
    expect((await first.read()).value).toEqual(bytes(3));
    await first.cancel();
    expect(body.replayable).toBe(true);
    expect(await readAll(body.open())).toEqual([1, 2, 3, 4, 5]);
  });

  it("cannot be replayed once more than the limit was read", async () => {
    const body = new ReplayableBody(source([bytes(1, 2, 3), bytes(4, 5, 6)]).stream, 4);
    const first = body.open().getReader();
    await first.read();
    expect(body.replayable).toBe(true);
    await first.read();
    expect(body.replayable).toBe(false);
    expect(() => body.open()).toThrow("request body was already sent and cannot be replayed");
  });

  it("keeps nothing after commit", async () => {
    const body = new ReplayableBody(source([bytes(1)]).stream, 1024);
    body.commit();
    expect(body.replayable).toBe(false);
  });
});
