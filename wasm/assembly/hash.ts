// xxHash32 (Yann Collet, https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md), over
// bytes in linear memory. 32 bits are enough here: a hash picks one of at most a few million
// Maglev slots, and keys are not adversarial secrets (the seed makes tables differ per use).

// @ts-ignore: decorator
@inline const P1: u32 = 2654435761;
// @ts-ignore: decorator
@inline const P2: u32 = 2246822519;
// @ts-ignore: decorator
@inline const P3: u32 = 3266489917;
// @ts-ignore: decorator
@inline const P4: u32 = 668265263;
// @ts-ignore: decorator
@inline const P5: u32 = 374761393;

// @ts-ignore: decorator
@inline
function round(acc: u32, lane: u32): u32 {
  return rotl<u32>(acc + lane * P2, 13) * P1;
}

/** xxHash32 of `len` bytes at `ptr` with `seed`. */
export function xxh32(ptr: usize, len: usize, seed: u32): u32 {
  const end = ptr + len;
  let p = ptr;
  let h: u32;
  if (len >= 16) {
    let v1 = seed + P1 + P2;
    let v2 = seed + P2;
    let v3 = seed;
    let v4 = seed - P1;
    const limit = end - 16;
    // load<u32> reads little-endian, as the spec requires; p + 16 <= end holds in the loop.
    do {
      v1 = round(v1, load<u32>(p));
      v2 = round(v2, load<u32>(p, 4));
      v3 = round(v3, load<u32>(p, 8));
      v4 = round(v4, load<u32>(p, 12));
      p += 16;
    } while (p <= limit);
    h = rotl<u32>(v1, 1) + rotl<u32>(v2, 7) + rotl<u32>(v3, 12) + rotl<u32>(v4, 18);
  } else {
    h = seed + P5;
  }
  h += <u32>len;
  while (p + 4 <= end) {
    h = rotl<u32>(h + load<u32>(p) * P3, 17) * P4;
    p += 4;
  }
  while (p < end) {
    h = rotl<u32>(h + <u32>load<u8>(p) * P5, 11) * P1;
    p++;
  }
  h ^= h >> 15;
  h *= P2;
  h ^= h >> 13;
  h *= P3;
  h ^= h >> 16;
  return h;
}
