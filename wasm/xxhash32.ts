// xxHash32 in plain TypeScript: the reference for wasm/assembly/hash.ts (same spec:
// https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md). Math.imul keeps products in
// 32 bits; `>>> 0` makes results unsigned.

const P1 = 2654435761;
const P2 = 2246822519;
const P3 = 3266489917;
const P4 = 668265263;
const P5 = 374761393;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function round(acc: number, lane: number): number {
  return Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1);
}

function readU32(bytes: Uint8Array, i: number): number {
  // Little-endian, as the spec requires; callers keep i + 4 <= end.
  return (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) >>> 0;
}

/** xxHash32 of bytes[start, start + length) with `seed`, as an unsigned 32-bit integer. */
export function xxh32(bytes: Uint8Array, seed = 0, start = 0, length = bytes.length - start): number {
  const end = start + length;
  let p = start;
  let h: number;
  if (length >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    const limit = end - 16;
    do {
      v1 = round(v1, readU32(bytes, p));
      v2 = round(v2, readU32(bytes, p + 4));
      v3 = round(v3, readU32(bytes, p + 8));
      v4 = round(v4, readU32(bytes, p + 12));
      p += 16;
    } while (p <= limit);
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + P5) | 0;
  }
  h = (h + length) | 0;
  while (p + 4 <= end) {
    h = Math.imul(rotl((h + Math.imul(readU32(bytes, p), P3)) | 0, 17), P4);
    p += 4;
  }
  while (p < end) {
    h = Math.imul(rotl((h + Math.imul(bytes[p]!, P5)) | 0, 11), P1);
    p++;
  }
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}
