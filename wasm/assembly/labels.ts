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
 * Evaluates the compiled selector at `program` (`length` u32 words) against `count` endpoint rows
 * of `words` u32 words each, row-major at `matrix`, and stores 1 (matches) or 0 at out[i] for each
 * endpoint i. Returns the number of matches, or 0xffffffff if the program is malformed (then out
 * is untouched). The caller owns matrix (count * words * 4 bytes) and out (count bytes).
 */
export function labelsMatch(matrix: usize, count: u32, words: u32, program: usize, length: u32, out: usize): u32 {
  if (!programIsValid(program, length, words)) return BAD_PROGRAM;
  const requirements = load<u32>(program);
  const rowBytes = <usize>words << 2;
  let matched: u32 = 0;
  let row = matrix;
  for (let i: u32 = 0; i < count; i++) {
    let ok: u32 = 1;
    let pc = program + 4;
    for (let r: u32 = 0; r < requirements; r++) {
      // programIsValid walked these same headers and terms inside the program's length.
      const mode = load<u32>(pc);
      const end = pc + 8 + (<usize>load<u32>(pc, 4) << 3);
      let any = false;
      for (let t = pc + 8; t < end; t += 8) {
        // word < words (checked by programIsValid), so the load stays inside row i (i < count).
        if ((load<u32>(row + (<usize>load<u32>(t) << 2)) & load<u32>(t, 4)) != 0) {
          any = true;
          break;
        }
      }
      if (any == (mode == MODE_NONE)) {
        ok = 0;
        break;
      }
      pc = end;
    }
    store<u8>(out + <usize>i, <u8>ok); // i < count, the caller's out length
    matched += ok;
    row += rowBytes;
  }
  return matched;
}
