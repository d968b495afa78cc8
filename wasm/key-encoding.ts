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

/**
 * encodeKeyInto for a 4-byte aligned destination seen as 32-bit words (`byteOffset` a multiple of
 * 4): four characters per store instead of one, and the ASCII check folded into one OR. On this
 * project's 2-core machines it writes a 32-character key in about 15% less time than the
 * byte loop (bench/core.bench.ts, encode_key_* rows).
 */
export function encodeKeyIntoWords(key: string, bytes: Uint8Array, words: Uint32Array, byteOffset: number): number {
  const length = key.length;
  let seen = 0;
  let word = byteOffset >>> 2;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    const a = key.charCodeAt(i);
    const b = key.charCodeAt(i + 1);
    const c = key.charCodeAt(i + 2);
    const d = key.charCodeAt(i + 3);
    seen |= a | b | c | d;
    // Little-endian, like WASM memory: byte i is the low byte.
    words[word++] = a | (b << 8) | (c << 16) | (d << 24);
  }
  for (; i < length; i++) {
    const code = key.charCodeAt(i);
    seen |= code;
    bytes[byteOffset + i] = code;
  }
  if (seen >= 0x80) return encoder.encodeInto(key, bytes.subarray(byteOffset)).written;
  return length;
}

/** encodeInto alone, the baseline the benchmark compares the loop against. */
export function encodeKeyWithEncodeInto(key: string, bytes: Uint8Array, offset: number): number {
  return encoder.encodeInto(key, bytes.subarray(offset)).written;
}

/**
 * Many strings as one UTF-8 byte array with offsets: string i is bytes[offsets[i], offsets[i+1]).
 * Used for endpoint identities at table builds; TextEncoder.encode costs about 1 us a call on
 * Node 24, which made it the largest part of a 5000-endpoint Maglev build.
 */
export function encodeStrings(strings: readonly string[]): { bytes: Uint8Array; offsets: Uint32Array } {
  let room = 0;
  for (const text of strings) room += maxUtf8Length(text.length);
  const bytes = new Uint8Array(room);
  const offsets = new Uint32Array(strings.length + 1);
  let offset = 0;
  for (let i = 0; i < strings.length; i++) {
    offsets[i] = offset;
    offset += encodeKeyInto(strings[i]!, bytes, offset);
  }
  offsets[strings.length] = offset;
  return { bytes: bytes.subarray(0, offset), offsets };
}
