// The router's monotonic clock: milliseconds that only move forward, for durations (the latency
// histogram, the access log's duration_ms) and the overall request timeout. Kept apart from the
// router's `now` (wall time, Date.now: retry budget, session affinity, slow start), which may
// step when the system clock is set; a duration read on it could come out negative.
// Injected (ServiceRouterOptions.monotonicNow), so a test drives the timing of a request without
// waiting: tests/router/monotonic-clock.test.ts.

/** Milliseconds on a monotonic clock; only differences between two readings mean anything. */
export type MonotonicNow = () => number;

/** The runtime's monotonic clock (High Resolution Time, performance.now()), on Node and Deno. */
export const performanceNow: MonotonicNow = () => performance.now();
