// The idle timeout of a WebSocket tunnel (upgrade-tunnel.ts), checked coarsely: a timer that
// looks at the tunnel's byte counts CHECKS times per idle period, instead of an idle timer on each
// socket. A socket's own timer (socket.setTimeout) is refreshed by Node on every read and every
// write, two timer-list moves and a clock read per relayed chunk; the relay already counts bytes, so
// watching the count costs nothing per chunk and one timer callback per idle/CHECKS.
//
// Precision: a check that sees the count changed starts the silence over; the tunnel ends at the
// CHECKS-th check after that with no change. So it never ends before `idleMs` of silence, and at
// most idleMs / CHECKS later than a per-byte timer would (60 s: by 75 s at the latest).

/** Checks per idle period. */
export const CHECKS = 4;

/**
 * Calls `onIdle` once `activity()` (a count that grows with every byte relayed) has not changed
 * for at least `idleMs`. Returns the function that stops watching. The timer does not keep the
 * process alive (as a socket's idle timer does not).
 */
export function watchIdle(idleMs: number, activity: () => number, onIdle: () => void): () => void {
  let seen = activity();
  let quietChecks = 0;
  const timer = setInterval(() => {
    const now = activity();
    if (now !== seen) {
      seen = now;
      quietChecks = 0;
      return;
    }
    if (++quietChecks < CHECKS) return;
    clearInterval(timer);
    onIdle();
  }, Math.max(1, Math.ceil(idleMs / CHECKS)));
  timer.unref();
  return () => clearInterval(timer);
}
