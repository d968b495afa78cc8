// One direction of a WebSocket tunnel (upgrade-tunnel.ts): the bytes one socket reads, written to
// the other with backpressure (the source pauses while the sink's buffer is full and resumes on
// its 'drain', which is what stream.pipe does), counted, and with the frame boundaries of the
// stream tracked (router/forward/ws-frames.ts) so that vipr can stop relaying between two frames
// and write a Close frame of its own there. The pod's direction begins with the HTTP answer to the
// handshake (RFC 6455 section 4.2.2); frames follow only when it is a 101.
import type { Socket } from "node:net";
import { FrameBoundaries } from "../../router/forward/ws-frames.ts";

/** "\r\n\r\n", the end of an HTTP head (RFC 9112 section 2.1). */
const HEAD_END = [13, 10, 13, 10] as const;

export class Relay {
  readonly frames = new FrameBoundaries();
  /** Bytes written to the sink. */
  bytes = 0;
  /** Stopped (stopAtBoundary): what the source sends now is read and dropped, so that the
   * closing handshake's reply does not sit unread (a socket closed with unread bytes sends RST). */
  stopped = false;
  readonly #from: Socket;
  readonly #to: Socket;
  readonly #count: (bytes: number) => void;
  /** Reading the HTTP answer's head: bytes of HEAD_END matched so far, and its first bytes. */
  #inHead: boolean;
  #headMatched = 0;
  #statusLine = "";
  #onHead: ((status: number) => void) | undefined;
  /** Frames are tracked: the client's direction from the start, the pod's after a 101. */
  #framed: boolean;
  /** Called at the end of the frame in progress, once a stop was asked for. */
  #stopThen: (() => void) | undefined;

  /**
   * `onHead`: the source begins with an HTTP answer's head (the pod's direction); called with its
   * status once the head has passed. `count` hears every chunk's size as it is relayed.
   */
  constructor(from: Socket, to: Socket, count: (bytes: number) => void, onHead?: (status: number) => void) {
    this.#from = from;
    this.#to = to;
    this.#count = count;
    this.#inHead = onHead !== undefined;
    this.#framed = onHead === undefined;
    this.#onHead = onHead;
    from.on("data", (chunk: Buffer) => this.relay(chunk));
    from.on("end", () => {
      // A pod that ends before its first byte is the tunnel's to answer (vipr's 502), not an end
      // to pass on.
      if (this.stopped || to.destroyed || (this.#inHead && this.bytes === 0)) return;
      to.end();
    });
    to.on("drain", () => {
      if (!this.stopped) from.resume();
    });
  }

  /** Relays a chunk of the source (also called with the bytes a server read past the handshake). */
  relay(chunk: Buffer): void {
    if (this.stopped) return;
    let out = chunk;
    if (this.#stopThen !== undefined) {
      // Only to the end of the frame in progress; what follows it is not relayed.
      out = chunk.subarray(0, this.frames.toFrameEnd(chunk, 0));
    } else if (this.#inHead) this.#readHead(chunk);
    else if (this.#framed) this.frames.feed(chunk);
    if (out.length > 0) {
      this.bytes += out.length;
      this.#count(out.length);
      if (!this.#to.write(out)) this.#from.pause();
    }
    if (this.#stopThen !== undefined && this.frames.atBoundary) this.#stop();
  }

  /**
   * Stops relaying at the next frame boundary (now, if the stream sits between frames) and then
   * calls `then`, which may write to the sink. False when the stream has no frame boundaries to
   * stop at (the pod's answer is not complete or not a 101): `then` is never called.
   */
  stopAtBoundary(then: () => void): boolean {
    if (!this.#framed || this.#inHead) return false;
    this.#stopThen = then;
    if (this.frames.atBoundary) this.#stop();
    return true;
  }

  #stop(): void {
    const then = this.#stopThen!;
    this.#stopThen = undefined;
    this.stopped = true;
    this.#from.resume();
    then();
  }

  /** Finds the end of the answer's head in `chunk`; what follows it is the first frames. */
  #readHead(chunk: Buffer): void {
    for (let i = 0, n = chunk.length; i < n; i++) {
      const byte = chunk[i]!;
      if (this.#statusLine.length < 16) this.#statusLine += String.fromCharCode(byte);
      this.#headMatched = byte === HEAD_END[this.#headMatched] ? this.#headMatched + 1 : byte === 13 ? 1 : 0;
      if (this.#headMatched === 4) {
        this.#inHead = false;
        // The status line: "HTTP/1.1 101 Switching Protocols" (RFC 9112 section 4).
        const match = /^HTTP\/1\.[01] (\d{3})/.exec(this.#statusLine);
        const status = match === null ? 0 : Number(match[1]);
        this.#framed = status === 101;
        if (this.#framed) this.frames.feed(chunk.subarray(i + 1));
        this.#onHead!(status);
        return;
      }
    }
  }
}
