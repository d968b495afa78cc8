// The thin binding over one instance of the WASM core: typed exports, views of linear memory made
// once and remade only when memory grows (growth detaches the old buffer), and two reusable
// scratch regions (keys, bulk input) so that hot calls allocate nothing.
import { instantiateCore, type CoreBuild, type CoreExports } from "./core-wasm-module.ts";
import { encodeKeyIntoWords, maxUtf8Length } from "./key-encoding.ts";

export class WasmCore {
  readonly exports: CoreExports;
  readonly build: CoreBuild;
  #u8 = new Uint8Array(0);
  #u16 = new Uint16Array(0);
  #u32 = new Uint32Array(0);
  #keyPtr = 0;
  #keyCapacity = 0;
  #scratchPtr = 0;
  #scratchCapacity = 0;

  constructor(build: CoreBuild = "release") {
    this.build = build;
    this.exports = instantiateCore(build);
    this.#refreshViews();
    this.#ensureKeyCapacity(256);
  }

  // Growing memory detaches the old buffer, and a view of a detached buffer has length 0: that
  // test costs far less on a hot path than reading memory.buffer (an accessor call) every time.
  #refreshViews(): void {
    // The core's memory is not shared, so this is an ArrayBuffer; Deno's lib (JSR's type check)
    // types Memory.buffer as ArrayBuffer | SharedArrayBuffer.
    const buffer = this.exports.memory.buffer as ArrayBuffer;
    this.#u8 = new Uint8Array(buffer);
    this.#u16 = new Uint16Array(buffer);
    this.#u32 = new Uint32Array(buffer);
  }

  /** Linear memory as bytes; take it again after any call that may allocate. */
  get u8(): Uint8Array {
    if (this.#u8.length === 0) this.#refreshViews();
    return this.#u8;
  }

  get u16(): Uint16Array {
    if (this.#u16.length === 0) this.#refreshViews();
    return this.#u16;
  }

  get u32(): Uint32Array {
    if (this.#u32.length === 0) this.#refreshViews();
    return this.#u32;
  }

  #ensureKeyCapacity(bytes: number): void {
    if (bytes <= this.#keyCapacity) return;
    if (this.#keyPtr !== 0) this.exports.free(this.#keyPtr);
    const capacity = Math.max(bytes, this.#keyCapacity * 2);
    this.#keyPtr = this.exports.alloc(capacity);
    this.#keyCapacity = capacity;
  }

  /** Pointer of the key region that writeKey fills. */
  get keyPtr(): number {
    return this.#keyPtr;
  }

  /** Writes `key` as UTF-8 at keyPtr and returns its byte length. */
  writeKey(key: string): number {
    const room = maxUtf8Length(key.length);
    if (room > this.#keyCapacity) this.#ensureKeyCapacity(room);
    if (this.#u8.length === 0) this.#refreshViews();
    return encodeKeyIntoWords(key, this.#u8, this.#u32, this.#keyPtr);
  }

  /**
   * A scratch region of at least `bytes` bytes for bulk input (table builds), 8-byte aligned.
   * Its contents are only good until the next call to scratch.
   */
  scratch(bytes: number): number {
    if (bytes > this.#scratchCapacity) {
      if (this.#scratchPtr !== 0) this.exports.free(this.#scratchPtr);
      const capacity = Math.max(bytes, this.#scratchCapacity * 2, 4096);
      this.#scratchPtr = this.exports.alloc(capacity);
      this.#scratchCapacity = capacity;
    }
    return this.#scratchPtr;
  }
}
