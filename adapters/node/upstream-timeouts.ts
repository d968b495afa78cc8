// The undici transport's timeouts on vipr's own clock (deadline-queue.ts says why not undici's
// timers). What each bounds:
// - connect: one connection attempt, in the pool's connector (timedConnector); a connection then
//   serves many tries.
// - response: per try, from when the request has been sent, its body included, until the response
//   head arrives: the wait undici's headersTimeout and nginx's proxy_read_timeout bound. A body
//   still going out is bounded by the client's side (the serve adapter's request timeout) and by
//   the overall deadline.
// - request (overall): the router's deadline for the response head across tries
//   (UpstreamCall.requestTimeLeftMs, made a time on this clock by timeoutWindowsOf). It also
//   runs while a try waits for a connection and sends its body.
// - idle: the longest silence while the response body streams, not counting time the body is
//   paused because the client reads slowly (as undici's bodyTimeout).
//
// A timeout fails the try with undici's own error classes (codes UND_ERR_CONNECT_TIMEOUT,
// UND_ERR_HEADERS_TIMEOUT, UND_ERR_BODY_TIMEOUT), so upstreamErrorFromUndici maps them as before.

import type { Socket } from "node:net";
import { clearTimeout, setTimeout } from "node:timers";
import { buildConnector, errors } from "undici";
import type { UpstreamCall } from "../../router/forward/upstream-transport.ts";
import { Deadline, DeadlineQueue, type DeadlineClock } from "./deadline-queue.ts";

/** performance.now() and unref'd Node timers (a pending deadline alone keeps no process alive). */
export const systemClock: DeadlineClock = {
  now: () => performance.now(),
  setTimer: (fire, ms) => {
    const timer = setTimeout(fire, ms);
    timer.unref();
    return timer;
  },
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

// Where a try is; numbers, because they are compared (erasableSyntaxOnly rules out enums).
/** Waiting for a connection, or sending the request: only the overall deadline runs. */
const SENDING = 0;
/** The request has been sent: the response window and the overall deadline run. */
const AWAITING_HEAD = 1;
/** The response body streams: the idle window runs. */
const STREAMING = 2;
/** The body is paused for a slow client: nothing runs. */
const PAUSED = 3;
const DONE = 4;

/** A try's timeouts as CallTimeouts takes them: the call's windows, and its overall deadline as
 * a time on the queue's clock (timeoutWindowsOf). */
export interface TimeoutWindows {
  readonly responseTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** When the response head must have arrived, on the queue's clock; absent: no deadline. */
  readonly deadline?: number | undefined;
}

/** The call's timeouts with its requestTimeLeftMs made a deadline on `queue`'s clock; the call
 * itself (no copy) when it has none, as nearly every call. */
export function timeoutWindowsOf(call: UpstreamCall, queue: DeadlineQueue): TimeoutWindows {
  const left = call.requestTimeLeftMs;
  if (left === undefined) return call;
  return { responseTimeoutMs: call.responseTimeoutMs, idleTimeoutMs: call.idleTimeoutMs, deadline: queue.now() + left };
}

/**
 * The timers of one try: one queue entry whose expiry follows the try through its phases. Body
 * chunks only read the clock (`bodyData`); the entry is moved when it expires and finds the body
 * was not idle after all, so a streaming response costs one queue operation per idle window, not
 * one per chunk.
 */
export class CallTimeouts extends Deadline {
  readonly #queue: DeadlineQueue;
  readonly #responseMs: number;
  readonly #idleMs: number;
  /** The overall deadline; Infinity when there is none. */
  readonly #deadline: number;
  readonly #onTimeout: (error: Error) => void;
  #phase = SENDING;
  /** When the running window (response or idle) last started over. */
  #since = 0;

  constructor(queue: DeadlineQueue, call: TimeoutWindows, onTimeout: (error: Error) => void) {
    super();
    this.#queue = queue;
    this.#responseMs = call.responseTimeoutMs;
    this.#idleMs = call.idleTimeoutMs;
    this.#deadline = call.deadline ?? Infinity;
    this.#onTimeout = onTimeout;
    if (this.#deadline !== Infinity) queue.schedule(this, this.#deadline);
  }

  /** The request has been sent, body included: the response window opens. */
  requestSent(): void {
    if (this.#phase !== SENDING) return;
    this.#phase = AWAITING_HEAD;
    this.#since = this.#queue.now();
    this.#arm();
  }

  /** The response head arrived: the overall deadline is met, the idle window opens. */
  headArrived(): void {
    if (this.#phase === DONE) return;
    this.#phase = STREAMING;
    this.#since = this.#queue.now();
    this.#arm();
  }

  /** A response body chunk arrived: the idle window starts over. */
  bodyData(): void {
    this.#since = this.#queue.now();
  }

  /** The body is paused because the client reads slowly: idle time stops counting. */
  paused(): void {
    // The queued entry stays; expire() ignores it while paused.
    if (this.#phase === STREAMING) this.#phase = PAUSED;
  }

  resumed(): void {
    if (this.#phase !== PAUSED) return;
    this.#phase = STREAMING;
    this.#since = this.#queue.now();
    if (this.slot < 0) this.#arm();
  }

  /** The try ended (any way): no timeout fires after this. */
  done(): void {
    this.#phase = DONE;
    this.#queue.cancel(this);
  }

  #expiry(): number {
    switch (this.#phase) {
      case SENDING:
        return this.#deadline;
      case AWAITING_HEAD:
        return this.#responseMs > 0 ? Math.min(this.#since + this.#responseMs, this.#deadline) : this.#deadline;
      case STREAMING:
        return this.#idleMs > 0 ? this.#since + this.#idleMs : Infinity;
      default:
        return Infinity;
    }
  }

  #arm(): void {
    const at = this.#expiry();
    if (at === Infinity) this.#queue.cancel(this);
    else this.#queue.schedule(this, at);
  }

  override expire(now: number): void {
    const at = this.#expiry();
    if (at === Infinity) return; // paused (resumed() queues it again) or done
    if (at > now) {
      // Body data arrived since the entry was queued.
      this.#queue.schedule(this, at);
      return;
    }
    const phase = this.#phase;
    this.#phase = DONE;
    this.#onTimeout(this.#error(phase));
  }

  #error(phase: number): Error {
    if (phase === STREAMING) return new errors.BodyTimeoutError(`the response body was idle for the idle timeout of ${this.#idleMs}ms`);
    if (phase === AWAITING_HEAD && (this.#responseMs > 0 && this.#since + this.#responseMs < this.#deadline)) {
      return new errors.HeadersTimeoutError(`no response head within the response timeout of ${this.#responseMs}ms after the request was sent`);
    }
    return new errors.HeadersTimeoutError("the request timeout (overall, across tries) passed before the response head arrived");
  }
}

/** One connection attempt with a limit: destroying its socket fails the attempt, and undici fails
 * the requests that waited for it with this error. */
class ConnectAttempt extends Deadline {
  readonly #socket: Socket;
  readonly #message: string;

  constructor(socket: Socket, message: string) {
    super();
    this.#socket = socket;
    this.#message = message;
  }

  override expire(): void {
    this.#socket.destroy(new errors.ConnectTimeoutError(this.#message));
  }
}

/** A connector as undici calls it: it returns the socket, through which undici can cancel an
 * attempt no request waits for any more (its types say void). */
type SocketConnector = (options: buildConnector.Options, callback: buildConnector.Callback) => Socket;

/**
 * undici's connector for plain TCP with its connect timer (a fast timer) off, and `timeoutMs` on
 * `queue` instead. 0: no limit.
 *
 * @example
 * new Pool(origin, { connect: timedConnector(queue, 100) });
 */
export function timedConnector(queue: DeadlineQueue, timeoutMs: number, h2c = false): buildConnector.connector {
  // h2c: the connector marks the socket as HTTP/2 (undici's useH2c), prior knowledge (RFC 9113 section 3.3).
  const connect = buildConnector({ timeout: 0, ...(h2c ? { allowH2: true, useH2c: true } : {}) }) as SocketConnector;
  if (timeoutMs <= 0) return connect;
  const timed: SocketConnector = (options, callback) => {
    let attempt: ConnectAttempt | undefined;
    let settled = false;
    const socket = connect(options, (...result) => {
      settled = true;
      if (attempt !== undefined) queue.cancel(attempt);
      callback(...result);
    });
    if (!settled) {
      attempt = new ConnectAttempt(socket, `no connection to ${options.hostname}:${options.port} within the connect timeout of ${timeoutMs}ms`);
      queue.schedule(attempt, queue.now() + timeoutMs);
    }
    return socket;
  };
  return timed;
}
