// Exit codes scripts can rely on, and the error that carries one.
export const EXIT_OK = 0;
/** Something went wrong while running (a listener failed, a source broke). */
export const EXIT_FAILURE = 1;
/** The command line was wrong: unknown command or flag, bad value. */
export const EXIT_USAGE = 2;
/** `vipr check`: the manifests have problems. `vipr explain`: the host does not resolve. */
export const EXIT_INVALID = 3;

export class UsageError extends Error {
  override readonly name = "UsageError";
}
