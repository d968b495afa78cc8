// Where the frames of one direction of a WebSocket connection begin and end, for a relay that
// passes bytes through unread but must sometimes speak itself: when vipr ends a tunnel (drain,
// idle timeout) it sends each side a Close frame (RFC 6455 section 5.5.1), and a frame can only be
// written between two frames of the stream it joins, never inside one. Only the frame headers are
// read (section 5.2: FIN/RSV/opcode byte, MASK bit and 7-bit length, the 16- or 64-bit extended
// length, the 4-byte masking key); payloads are skipped by count, so the cost is per frame, not per
// byte, and nothing is validated: the pod and the client do that, end to end. Extensions
// (permessage-deflate, RFC 7692) change payloads and RSV bits, not this framing, so they pass.
//
// Hand-written: the WebSocket libraries (ws, Deno's) parse whole frames and unmask payloads; a
// relay needs only the boundaries, which take the fifty lines below.

/** Opcode of a Close frame (RFC 6455 section 5.5.1). */
const CLOSE_OPCODE = 0x8;

/** Tracks the frame boundaries of one direction of a WebSocket byte stream. */
export class FrameBoundaries {
  /** The header of the frame being read, while it is incomplete (at most 14 bytes). */
  readonly #header = new Uint8Array(14);
  #headerHave = 0;
  /** Header bytes this frame has: 2, plus 2 or 8 of extended length, plus 4 of masking key. */
  #headerNeed = 2;
  /** Payload bytes of the current frame still to come. */
  #payloadLeft = 0;
  /** A Close frame has started in this direction: its sender sends nothing more (section 5.5.1),
   * so the relay must not send a second Close after it. */
  closeSeen = false;
  /** Called when the first Close frame of this direction begins (who started the closing
   * handshake, section 7.1.2, for the report). */
  onClose: (() => void) | undefined = undefined;

  /** Whether the stream now sits between two frames. */
  get atBoundary(): boolean {
    return this.#headerHave === 0 && this.#payloadLeft === 0;
  }

  /** Reads a whole chunk of the stream. */
  feed(chunk: Uint8Array): void {
    for (let at = 0, n = chunk.length; at < n; ) at = this.toFrameEnd(chunk, at);
  }

  /**
   * Reads `chunk` from `from` up to the end of the frame in progress, or to the chunk's end if the
   * frame goes on past it; returns where it stopped. At a boundary, it reads the next frame.
   */
  toFrameEnd(chunk: Uint8Array, from: number): number {
    let at = from;
    const n = chunk.length;
    while (at < n) {
      if (this.#payloadLeft > 0) {
        const take = Math.min(this.#payloadLeft, n - at);
        this.#payloadLeft -= take;
        return at + take;
      }
      const header = this.#header;
      header[this.#headerHave++] = chunk[at++]!;
      if (this.#headerHave === 2) {
        const length7 = header[1]! & 0x7f;
        this.#headerNeed = 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (header[1]! & 0x80 ? 4 : 0);
      }
      if (this.#headerHave === this.#headerNeed) {
        this.#headerHave = 0;
        this.#headerNeed = 2;
        if ((header[0]! & 0x0f) === CLOSE_OPCODE && !this.closeSeen) {
          this.closeSeen = true;
          this.onClose?.();
        }
        this.#payloadLeft = payloadLength(header);
        if (this.#payloadLeft === 0) return at;
      }
    }
    return at;
  }
}

/** The payload length a complete header says (section 5.2): 7 bits, or the 16- or 64-bit
 * extended length in network byte order (the 64-bit one's top bit is 0; above 2^53 it is not a
 * length anyone sends, and reading it as a double only makes the count imprecise). */
function payloadLength(header: Uint8Array): number {
  const length7 = header[1]! & 0x7f;
  if (length7 < 126) return length7;
  if (length7 === 126) return (header[2]! << 8) | header[3]!;
  let length = 0;
  for (let i = 2; i < 10; i++) length = length * 256 + header[i]!;
  return length;
}

/** RFC 6455 section 7.4.1: 1001, "an endpoint is going away, such as a server going down". */
export const GOING_AWAY = 1001;

/**
 * A Close frame (section 5.5.1): FIN and opcode 0x8, the status code in network byte order and a
 * short UTF-8 reason (control frames carry at most 125 bytes, section 5.5). `maskKey` masks it,
 * as every frame a client sends must be (section 5.3: vipr speaks as the client to the pod);
 * frames to the client are unmasked (section 5.1).
 */
export function closeFrame(code: number, reason: string, maskKey?: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(reason).subarray(0, 123);
  const payload = new Uint8Array(2 + text.length);
  payload[0] = code >> 8;
  payload[1] = code & 0xff;
  payload.set(text, 2);
  const masked = maskKey !== undefined;
  const frame = new Uint8Array(2 + (masked ? 4 : 0) + payload.length);
  frame[0] = 0x80 | CLOSE_OPCODE;
  frame[1] = (masked ? 0x80 : 0) | payload.length;
  if (!masked) {
    frame.set(payload, 2);
    return frame;
  }
  frame.set(maskKey.subarray(0, 4), 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i]! ^ maskKey[i & 3]!;
  return frame;
}
