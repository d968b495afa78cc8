// Label selector evaluation over interned bitsets (see wasm/label-interning.ts for the interning
// and the program format): one call evaluates a compiled selector against every endpoint row and
// writes 1 or 0 per endpoint, so the JS boundary is crossed once per selector, not per endpoint.
// Nothing is allocated here: the matrix and the output belong to the index, the program to the
// binding's scratch region.

// @ts-ignore: decorator
@inline const MODE_NONE: u32 = 1;

/** Returned instead of a count when the program is malformed; a count is at most 2^32 - 2. */
// @ts-ignore: decorator
@inline const BAD_PROGRAM: u32 = 0xffffffff;

/**
 * Checks that the program at `program` (`length` u32 words) is well formed for rows of `words`
 * words: every header and term lies inside it, it ends where the last requirement ends, modes are
 * ANY (0) or NONE (1), and every word index is below `words`. This is what makes the unchecked
 * loads in labelsMatch safe; it costs O(length), once per call.
 */
function programIsValid(program: usize, length: u32, words: u32): bool {
  if (length == 0) return false;
  const requirements = load<u32>(program);
  let pc: u32 = 1;
  for (let r: u32 = 0; r < requirements; r++) {
    if (length - pc < 2) return false; // pc <= length holds, so this cannot wrap
    const mode = load<u32>(program + (<usize>pc << 2));
    const terms = load<u32>(program + (<usize>(pc + 1) << 2));
    pc += 2;
    if (mode > MODE_NONE) return false;
    if (<u64>terms * 2 > <u64>(length - pc)) return false;
    for (let t: u32 = 0; t < terms; t++) {
      if (load<u32>(program + (<usize>pc << 2)) >= words) return false;
      pc += 2;
    }
  }
  return pc == length;
}

/**
 * Evaluates the compiled selector at `program` (`length` u32 words) against `count` endpoints whose
 * bitsets are stored column-major at `columns`: word w of endpoint i is the u32 at
 * columns + (w * stride + i) * 4, with `stride` = count rounded up to a multiple of 16 and the
 * padding zeroed. Column-major lets one SIMD instruction test four endpoints against a term's mask
 * (the bench's selector over 10000 endpoints is 4 x 2500 vector steps instead of 40000 scalar
 * rows). `acc` holds stride u32 lanes of scratch (-1 while an endpoint still matches); `out` gets
 * stride bytes, 1 or 0 per endpoint (0 in the padding). Returns the number of matches, or
 * 0xffffffff if the program is malformed (then out is untouched).
 */
export function labelsMatch(columns: usize, count: u32, stride: u32, words: u32, program: usize, length: u32, acc: usize, out: usize): u32 {
  if ((stride & 15) != 0 || stride < count) return BAD_PROGRAM;
  if (!programIsValid(program, length, words)) return BAD_PROGRAM;
  const laneBytes = <usize>stride << 2;
  // Lanes of real endpoints start as matching (-1), padding lanes as not (0), so padding never
  // matches, whatever the requirements.
  const full = <usize>(count & ~3) << 2;
  const ones = i32x4.splat(-1);
  for (let i: usize = 0; i < full; i += 16) v128.store(acc + i, ones);
  for (let i: usize = full; i < laneBytes; i += 4) store<i32>(acc + i, (i >> 2) < <usize>count ? -1 : 0);

  const requirements = load<u32>(program);
  const zero = i32x4.splat(0);
  let pc = program + 4;
  for (let r: u32 = 0; r < requirements; r++) {
    // programIsValid walked these headers and terms inside the program's length, and every term's
    // word is below `words`, so columns + word * laneBytes + i stays inside the matrix.
    const none = load<u32>(pc) == MODE_NONE;
    const termsStart = pc + 8;
    const termsEnd = termsStart + (<usize>load<u32>(pc, 4) << 3);
    for (let i: usize = 0; i < laneBytes; i += 16) {
      let any = zero;
      for (let t = termsStart; t < termsEnd; t += 8) {
        const column = columns + <usize>load<u32>(t) * laneBytes;
        const hits = v128.and(v128.load(column + i), i32x4.splat(load<i32>(t, 4)));
        any = v128.or(any, i32x4.ne(hits, zero));
      }
      const lanes = v128.load(acc + i);
      v128.store(acc + i, none ? v128.andnot(lanes, any) : v128.and(lanes, any));
    }
    pc = termsEnd;
  }

  // Narrow 16 lanes of 0/-1 to 16 bytes of 0/1, and count matches: a matching lane is -1, so
  // subtracting the lanes adds one per match.
  const one = i8x16.splat(1);
  let counts = zero;
  for (let i: usize = 0; i < laneBytes; i += 64) {
    const a = v128.load(acc + i);
    const b = v128.load(acc + i, 16);
    const c = v128.load(acc + i, 32);
    const d = v128.load(acc + i, 48);
    counts = i32x4.sub(i32x4.sub(counts, a), b);
    counts = i32x4.sub(i32x4.sub(counts, c), d);
    const bytes = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(a, b), i16x8.narrow_i32x4_s(c, d));
    v128.store(out + (i >> 2), v128.and(bytes, one)); // i / 4 < stride: inside out
  }
  return <u32>(i32x4.extract_lane(counts, 0) + i32x4.extract_lane(counts, 1) + i32x4.extract_lane(counts, 2) + i32x4.extract_lane(counts, 3));
}
