// A copy of a request body, kept as the transport sends it to the pod, up to a bound: what a
// Gateway API rule needs to send the same body again (a retry on a status code, GEP-1731) or to a
// second backend (RequestMirror). vipr streams bodies: the client's bytes go to the pod as they
// arrive and are not kept, so without a copy a request that carried a body cannot be sent twice.
//
// The bound (COPY_LIMIT_BYTES) is the one the transport already has for replaying a body after a
// failed connect (undici-transport.ts replayLimitBytes, 256 KiB): memory per request in flight
// stays small whatever the serve adapter's maxBodyBytes is, and only requests on rules with a
// mirror or retry codes get a copy. A body past the bound is dropped from the copy (the request
// itself goes on streaming): it is neither retried on a status nor mirrored with a body.

/** Bytes of a request body kept for a retry or a mirror. */
export const COPY_LIMIT_BYTES = 256 * 1024;

/**
 * What became of the copy:
 * - none: the request had no body (the transport never expected one);
 * - whole: the body ended within the bound; `body` is all of it;
 * - too_large: the body passed the bound (`bytes` read when it did);
 * - incomplete: the body broke off, or the request ended before the body was read through.
 */
export type BodyCopyResult =
  | { readonly kind: "none" }
  | { readonly kind: "whole"; readonly body: Uint8Array }
  | { readonly kind: "too_large"; readonly bytes: number }
  | { readonly kind: "incomplete" };

export class RequestBodyCopy {
  readonly limitBytes: number;
  /** The transport has a body to send (set when it builds the try's body). */
  #expected = false;
  /** Someone reads the client's body into this copy; a second reader only replays. */
  #recording = false;
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  #result: BodyCopyResult | undefined;
  readonly #settled: Promise<BodyCopyResult>;
  #settle!: (result: BodyCopyResult) => void;

  constructor(limitBytes = COPY_LIMIT_BYTES) {
    this.limitBytes = limitBytes;
    this.#settled = new Promise((resolve) => (this.#settle = resolve));
  }

  /** The request carries a body (the transport is about to send one). */
  expectBody(): void {
    this.#expected = true;
  }

  get bodyExpected(): boolean {
    return this.#expected;
  }

  /** The whole body's chunks, when it ended within the bound: a later try sends these. */
  get wholeChunks(): readonly Uint8Array[] | undefined {
    return this.#result?.kind === "whole" ? this.#chunks : undefined;
  }

  /** Whether the same request, body included, can be sent again now: no body, or a whole copy. */
  get replayable(): boolean {
    return !this.#expected || this.#result?.kind === "whole";
  }

  /** Claims the recording: true for the first reader of the client's body, false after (a
   * reader that comes later either replays wholeChunks or sends a body that is not copied). */
  startRecording(): boolean {
    if (this.#recording || this.#result !== undefined) return false;
    this.#recording = true;
    return true;
  }

  /** A chunk the recording reader passed on. */
  add(chunk: Uint8Array): void {
    if (this.#result !== undefined) return;
    this.#bytes += chunk.byteLength;
    if (this.#bytes > this.limitBytes) {
      this.#chunks = [];
      this.#finish({ kind: "too_large", bytes: this.#bytes });
      return;
    }
    this.#chunks.push(chunk);
  }

  /** The body ended. */
  end(): void {
    if (this.#result !== undefined) return;
    this.#finish({ kind: "whole", body: concat(this.#chunks, this.#bytes) });
  }

  /** The body broke off, or nothing more will be read into the copy (the request ended). */
  close(): void {
    if (this.#result !== undefined) return;
    this.#chunks = [];
    this.#finish(this.#expected ? { kind: "incomplete" } : { kind: "none" });
  }

  /** Resolves once the copy is whole, too large or given up (close()). */
  settled(): Promise<BodyCopyResult> {
    return this.#settled;
  }

  #finish(result: BodyCopyResult): void {
    this.#result = result;
    this.#settle(result);
  }
}

function concat(chunks: readonly Uint8Array[], bytes: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
