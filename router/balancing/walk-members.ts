// The endpoints a hashing picker's preference walk may stop at: the view's candidates less the
// ejected ones (maglev-picker.ts, bounded-load-picker.ts).
import type { PickView } from "./picker.ts";

export interface WalkMembers {
  /** 1 per endpoint index the walk may stop at; undefined: every endpoint. */
  readonly members: Uint8Array | undefined;
  /** How many: the candidates that are not ejected. */
  readonly count: number;
  /** Their indices. */
  readonly healthy: readonly number[];
}

/** The view's walk members. With no ejection these are the view's own arrays (no allocation). */
export function walkMembers(view: PickView): WalkMembers {
  const { candidates, ejected, members } = view;
  if (ejected === undefined) return { members, count: candidates.length, healthy: candidates };
  const healthy = candidates.filter((i) => ejected[i] !== 1);
  const marks = new Uint8Array(ejected.length);
  for (let i = 0; i < healthy.length; i++) marks[healthy[i]!] = 1;
  return { members: marks, count: healthy.length, healthy };
}
