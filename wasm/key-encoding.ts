// Getting a JS string key into bytes. Keys are mostly short ASCII (header values, cookie values,
// client addresses): a charCodeAt loop writes those without the per-call overhead of
// TextEncoder.encodeInto (bench/core.bench.ts measures both); any code unit >= 0x80 hands the
// whole key to encodeInto, so non-ASCII keys hash their proper UTF-8 bytes.

const encoder = new TextEncoder();

/** Most bytes UTF-8 needs for a string of `length` UTF-16 code units. */
export function maxUtf8Length(length: number): number {
  return length * 3;
}

/**
 * Writes `key` as UTF-8 into `bytes` at `offset` and returns the byte length. The caller
 * guarantees maxUtf8Length(key.length) bytes of room from `offset`.
 */
export function encodeKeyInto(key: string, bytes: Uint8Array, offset: number): number {
  const length = key.length;
  for (let i = 0; i < length; i++) {
    const code = key.charCodeAt(i);
    if (code >= 0x80) return encoder.encodeInto(key, bytes.subarray(offset)).written;
    bytes[offset + i] = code;
  }
  return length;
}

/** encodeInto alone, the baseline the benchmark compares the loop against. */
export function encodeKeyWithEncodeInto(key: string, bytes: Uint8Array, offset: number): number {
  return encoder.encodeInto(key, bytes.subarray(offset)).written;
}
