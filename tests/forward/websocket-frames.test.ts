// The frame boundaries a tunnel tracks (router/forward/ws-frames.ts) and the Close frame vipr
// writes, checked against the `ws` package's own Sender (which builds the frames) and Receiver
// (which parses vipr's Close frame as a peer would).
import { describe, expect, test } from "vitest";
import type { Writable } from "node:stream";
import * as ws from "ws";
import { closeFrame, FrameBoundaries, GOING_AWAY } from "../../router/forward/ws-frames.ts";

// ws exports its Sender and Receiver (ws/wrapper.mjs) but @types/ws does not declare them.
interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}
const { Receiver, Sender } = ws as unknown as {
  Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] };
  Receiver: new (options: { isServer: boolean }) => Writable;
};

/** A frame as ws sends it: header and payload in one buffer. */
function frame(payloadLength: number, options: { opcode: number; mask: boolean; fin?: boolean }): Buffer {
  const data = Buffer.alloc(payloadLength, 0x61);
  const parts = Sender.frame(data, { fin: options.fin ?? true, opcode: options.opcode, mask: options.mask, readOnly: false, rsv1: false });
  return Buffer.concat(parts);
}

/** Every payload length class of RFC 6455 section 5.2: 7-bit (0, 125), 16-bit (126, 65535) and
 * 64-bit (65536 and more), masked (client to server) and not, a fragmented message with a ping
 * between its fragments, and a Close. */
function stream(mask: boolean): { bytes: Buffer; ends: number[] } {
  const frames = [
    frame(0, { opcode: 0x1, mask }),
    frame(125, { opcode: 0x2, mask }),
    frame(126, { opcode: 0x2, mask }),
    frame(65_535, { opcode: 0x1, mask }),
    frame(10, { opcode: 0x1, mask, fin: false }),
    frame(4, { opcode: 0x9, mask }),
    frame(70_000, { opcode: 0x0, mask }),
    frame(2, { opcode: 0x8, mask }),
  ];
  const ends: number[] = [];
  let at = 0;
  for (const f of frames) ends.push((at += f.length));
  return { bytes: Buffer.concat(frames), ends };
}

describe("FrameBoundaries", () => {
  for (const mask of [false, true]) {
    test(`finds every frame's end, fed byte by byte (${mask ? "masked" : "unmasked"})`, () => {
      const { bytes, ends } = stream(mask);
      const frames = new FrameBoundaries();
      const seen: number[] = [];
      for (let i = 0; i < bytes.length; i++) {
        frames.feed(bytes.subarray(i, i + 1));
        if (frames.atBoundary) seen.push(i + 1);
      }
      expect(seen).toEqual(ends);
      expect(frames.closeSeen).toBe(true);
    });

    test(`toFrameEnd stops at each frame's end in chunks of any size (${mask ? "masked" : "unmasked"})`, () => {
      const { bytes, ends } = stream(mask);
      for (const size of [1, 3, 7, 1000, 65_536, bytes.length]) {
        const frames = new FrameBoundaries();
        const seen: number[] = [];
        for (let start = 0; start < bytes.length; start += size) {
          const chunk = bytes.subarray(start, start + size);
          for (let at = 0; at < chunk.length; ) {
            at = frames.toFrameEnd(chunk, at);
            if (frames.atBoundary) seen.push(start + at);
          }
        }
        expect(seen).toEqual(ends);
      }
    });
  }

  test("no Close seen before one passes; onClose hears the first only", () => {
    const frames = new FrameBoundaries();
    let heard = 0;
    frames.onClose = () => heard++;
    frames.feed(frame(5, { opcode: 0x1, mask: false }));
    expect(frames.closeSeen).toBe(false);
    frames.feed(Buffer.concat([frame(2, { opcode: 0x8, mask: false }), frame(2, { opcode: 0x8, mask: false })]));
    expect(frames.closeSeen).toBe(true);
    expect(heard).toBe(1);
  });
});

describe("closeFrame", () => {
  /** What a ws Receiver makes of `bytes`: the close code and reason, or the error it raised. */
  function received(bytes: Uint8Array, isServer: boolean): Promise<{ code: number; reason: string } | Error> {
    return new Promise((resolve) => {
      const receiver = new Receiver({ isServer });
      receiver.on("conclude", (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
      receiver.on("error", resolve);
      receiver.write(Buffer.from(bytes));
    });
  }

  test("unmasked, as a server sends it: a client's parser reads 1001 and the reason", async () => {
    expect(await received(closeFrame(GOING_AWAY, "vipr is shutting down"), false)).toEqual({ code: 1001, reason: "vipr is shutting down" });
  });

  test("masked, as a client sends it: a server's parser reads 1001 and the reason", async () => {
    expect(await received(closeFrame(GOING_AWAY, "idle timeout", Uint8Array.of(0x12, 0x34, 0x56, 0x78)), true)).toEqual({ code: 1001, reason: "idle timeout" });
  });

  test("a server refuses an unmasked one (RFC 6455 section 5.1): the mask is not optional toward the pod", async () => {
    expect(await received(closeFrame(GOING_AWAY, ""), true)).toBeInstanceOf(Error);
  });

  test("the reason is cut to fit a control frame's 125 bytes (section 5.5)", async () => {
    const frame = closeFrame(GOING_AWAY, "x".repeat(300));
    expect(frame.length).toBe(2 + 125);
    expect(await received(frame, false)).toEqual({ code: 1001, reason: "x".repeat(123) });
  });
});
