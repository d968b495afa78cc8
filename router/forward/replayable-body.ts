// A request body that can be sent a second time when the first try never reached the backend.
//
// fetch reads a streamed request body before it knows whether the connection will open (Deno
// pulls the first chunks while it connects), so a retry after "connection refused" would find the
// body half read. This keeps the chunks it hands out, up to a limit, and a second open() replays
// them before reading on. Once the backend has the request (commit) or the limit is passed,
// nothing more is kept and the body can no longer be replayed.

export class ReplayableBody {
  readonly #source: ReadableStream<Uint8Array>;
  readonly #limitBytes: number;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #pending: Promise<Uint8Array | undefined> | undefined;
  /** Every chunk read from the source so far, while replay is still possible. */
  #kept: Uint8Array[] | undefined = [];
  #keptBytes = 0;
  #ended = false;

  constructor(source: ReadableStream<Uint8Array>, limitBytes: number) {
    this.#source = source;
    this.#limitBytes = limitBytes;
  }

  /** True while open() would give the whole body from its first byte. */
  get replayable(): boolean {
    return this.#kept !== undefined;
  }

  /** Stops keeping chunks: the backend has the request, no retry will need them. */
  commit(): void {
    this.#kept = undefined;
  }

  /** The whole body as a new stream: the chunks read so far again, then the rest of the source.
   * Cancelling it leaves the source alone, for the next open(). */
  open(): ReadableStream<Uint8Array> {
    if (this.#kept === undefined) throw new Error("request body was already sent and cannot be replayed");
    let index = 0;
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          const kept = this.#kept;
          if (kept !== undefined && index < kept.length) {
            controller.enqueue(kept[index++]!);
            return;
          }
          const chunk = await this.#read();
          if (chunk === undefined) {
            controller.close();
            return;
          }
          if (this.#kept !== undefined) index = this.#kept.length;
          controller.enqueue(chunk);
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** The next chunk of the source (undefined at its end). One read at a time: a stream abandoned
   * with a read under way leaves its chunk in #kept for the next one. */
  #read(): Promise<Uint8Array | undefined> {
    if (this.#ended) return Promise.resolve(undefined);
    this.#pending ??= this.#readSource().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #readSource(): Promise<Uint8Array | undefined> {
    this.#reader ??= this.#source.getReader();
    const { done, value } = await this.#reader.read();
    if (done) {
      this.#ended = true;
      return undefined;
    }
    if (this.#kept !== undefined) {
      this.#keptBytes += value.byteLength;
      if (this.#keptBytes <= this.#limitBytes) this.#kept.push(value);
      else this.#kept = undefined;
    }
    return value;
  }
}
