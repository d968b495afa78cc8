// node bench/deadline-queue.bench.ts   |   deno run -A bench/deadline-queue.bench.ts
// The timer work of one forwarded try, in isolation (issue 17): the undici transport's per-try
// timeouts on one DeadlineQueue (arm the response window, switch to the idle window at the head,
// two body chunks, done), against the same lifecycle with a Node setTimeout per try (set, clear,
// set, two refreshes, clear). `inFlight` other tries stay pending, so the heap has that depth.
// bench:proxy cannot show a cost this small on a shared machine; this can, to within its noise.
import { DeadlineQueue } from "../adapters/node/deadline-queue.ts";
import { CallTimeouts, systemClock } from "../adapters/node/upstream-timeouts.ts";

const TRIES = 200_000;
const call = { responseTimeoutMs: 30_000, idleTimeoutMs: 60_000 };
const noop = (): void => {};

/** Nanoseconds per try with the deadline queue. */
function queuePerTry(inFlight: number): number {
  const queue = new DeadlineQueue(systemClock);
  const pending: CallTimeouts[] = [];
  for (let i = 0; i < inFlight; i++) {
    const other = new CallTimeouts(queue, call, noop);
    other.requestSent();
    pending.push(other);
  }
  const started = performance.now();
  for (let i = 0; i < TRIES; i++) {
    const timeouts = new CallTimeouts(queue, call, noop);
    timeouts.requestSent();
    timeouts.headArrived();
    timeouts.bodyData();
    timeouts.bodyData();
    timeouts.done();
  }
  const ns = ((performance.now() - started) * 1e6) / TRIES;
  for (const other of pending) other.done();
  return ns;
}

/** Nanoseconds per try with a native timer per try. */
function setTimeoutPerTry(inFlight: number): number {
  const pending: ReturnType<typeof setTimeout>[] = [];
  for (let i = 0; i < inFlight; i++) pending.push(setTimeout(noop, 30_000));
  const started = performance.now();
  for (let i = 0; i < TRIES; i++) {
    clearTimeout(setTimeout(noop, 30_000));
    const idle = setTimeout(noop, 60_000);
    idle.refresh();
    idle.refresh();
    clearTimeout(idle);
  }
  const ns = ((performance.now() - started) * 1e6) / TRIES;
  for (const timer of pending) clearTimeout(timer);
  return ns;
}

const runtime = "Deno" in globalThis ? "deno" : "node";
for (const inFlight of [64, 1000]) {
  for (let round = 1; round <= 3; round++) {
    console.log(`${runtime} in flight ${inFlight}, round ${round}: deadline queue ${queuePerTry(inFlight).toFixed(0)} ns/try, setTimeout per try ${setTimeoutPerTry(inFlight).toFixed(0)} ns/try`);
  }
}
