// The access log: one JSON object per line, for log shippers that parse JSON lines (Fluent Bit,
// Vector, Loki's json stage). Off, or sampled: at 20k requests/s a full log is a few MB/s, so a
// busy router logs a share of its requests. The log formats and samples; where lines go (stdout, a
// file) is the runtime's business, through `write`.

export interface AccessRecord {
  /** When the request arrived, ISO 8601 (`new Date(start).toISOString()`). */
  readonly time: string;
  readonly method: string;
  /** As the client sent it (Host or :authority, or the authority of an absolute-form target). */
  readonly host: string;
  /** Path and query. */
  readonly path: string;
  /** Sent to the client. */
  readonly status: number;
  readonly duration_ms: number;
  /** "namespace/name"; null when the host named no service. */
  readonly service: string | null;
  /** The endpoint forwarded to ("address:port"); null when none was picked. */
  readonly endpoint: string | null;
  /** The upstream's status; null when no upstream answered (connect error, timeout, no endpoint). */
  readonly upstream_status: number | null;
  /** Response body bytes sent to the client. */
  readonly bytes: number;
  /** The client's address. */
  readonly client: string;
  /** What the client spoke to vipr: "http/1.1", "h2" (over TLS) or "h2c"; absent when the serve
   * adapter does not say. */
  readonly protocol?: string;
  /** What vipr spoke to the pod: "http/1.1", or "h2c" for a port with appProtocol
   * kubernetes.io/h2c; absent when nothing was forwarded. */
  readonly upstream_protocol?: string;
  /** Why the request failed, when vipr answered with an error of its own. */
  readonly error?: string;
  /** The request's x-request-id header, when it had one. */
  readonly request_id?: string;
  /** An upgraded connection (WebSocket tunnel), logged when it ends: bytes the client sent after
   * the handshake, and why it ended (tunnel-metrics.ts, TunnelEndReason); `bytes` is what the pod
   * sent, its answer included, and `duration_ms` the tunnel's life. */
  readonly tunnel?: { readonly bytes_in: number; readonly end: string };
}

export interface AccessLogOptions {
  /** The share of requests logged: 0 is off, 1 logs every request, 0.01 one in a hundred. */
  readonly sampleRate: number;
  /** Receives one line, without its trailing newline. */
  readonly write: (line: string) => void;
  /** Uniform in [0, 1); default Math.random. Injected by tests. */
  readonly random?: () => number;
}

export interface AccessLog {
  /** False when sampleRate is 0: callers can skip building records at all. */
  readonly enabled: boolean;
  /** Logs the record if this request is sampled. */
  log(record: AccessRecord): void;
  /** Draws the sampling decision alone, so a caller can build a record only for sampled requests
   * and then `write` it; `log` is `if (sample()) write(record)`. */
  sample(): boolean;
  /** Logs the record without sampling. */
  write(record: AccessRecord): void;
}

export function createAccessLog(options: AccessLogOptions): AccessLog {
  const rate = options.sampleRate;
  if (typeof rate !== "number" || !(rate >= 0 && rate <= 1)) {
    throw new RangeError(`access log sampleRate must be a number from 0 to 1, got ${String(rate)}`);
  }
  const random = options.random ?? Math.random;
  const out = options.write;
  // random() < 1 always holds, so rate 1 logs everything and rate 0 nothing, without a draw.
  const sample = rate === 1 ? () => true : rate === 0 ? () => false : () => random() < rate;
  const write = (record: AccessRecord): void => out(formatAccessRecord(record));
  return {
    enabled: rate > 0,
    sample,
    write,
    log(record) {
      if (sample()) write(record);
    },
  };
}

/** One line of JSON with the fields in a fixed order, whatever order the record's keys have; the
 * optional fields come last, so every other field keeps its position. JSON.stringify escapes line
 * breaks inside strings, so a record is always exactly one line. */
export function formatAccessRecord(r: AccessRecord): string {
  const ordered: Record<string, unknown> = {
    time: r.time,
    method: r.method,
    host: r.host,
    path: r.path,
    status: r.status,
    // Microseconds are the useful resolution; more digits only lengthen the line.
    duration_ms: Math.round(r.duration_ms * 1000) / 1000,
    service: r.service,
    endpoint: r.endpoint,
    upstream_status: r.upstream_status,
    bytes: r.bytes,
    client: r.client,
  };
  if (r.error !== undefined) ordered["error"] = r.error;
  if (r.request_id !== undefined) ordered["request_id"] = r.request_id;
  if (r.tunnel !== undefined) ordered["tunnel"] = { bytes_in: r.tunnel.bytes_in, end: r.tunnel.end };
  if (r.protocol !== undefined) ordered["protocol"] = r.protocol;
  if (r.upstream_protocol !== undefined) ordered["upstream_protocol"] = r.upstream_protocol;
  return JSON.stringify(ordered);
}
