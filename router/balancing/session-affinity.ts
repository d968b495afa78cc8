// `sessionAffinity: ClientIP` (core/v1 ServiceSpec): requests from one client address go to the
// endpoint its first request went to, until `timeoutSeconds` (default 10800, three hours) pass
// without a request from it. kube-proxy does this with iptables' `recent` module: the endpoint
// chain records the source (`-m recent --name KUBE-SEP-... --set`) and the service chain sends
// a source seen within the timeout back to it (`--rcheck --seconds 10800 --reap`); every request
// refreshes the record, so the timeout counts silence, not age.
//
// One store per service, kept by the router across rebuilds of the service's balancer: an
// affinity outlives changes to the endpoint set (session-affinity-layer.ts decides whether its
// endpoint may still be used). Memory is bounded: records expire lazily, and past `maxEntries` the record
// silent the longest is dropped. A Map keeps insertion order, and each use re-inserts its record,
// so the first record is always the one silent the longest: expiry and eviction both take from
// the front, in O(1) per record.

/** The endpoint a client is bound to: its stable identity and the address it had. */
export interface AffinityTarget {
  readonly identity: string;
  readonly address: string;
}

export interface SessionAffinityOptions {
  /** Milliseconds on a clock that does not go backwards; default Date.now. */
  readonly now?: () => number;
  /** Most clients remembered at once; default 100 000 (about 15 MB at worst). */
  readonly maxEntries?: number;
}

export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;
export const DEFAULT_MAX_AFFINITY_ENTRIES = 100_000;

interface AffinityRecord extends AffinityTarget {
  lastSeen: number;
}

/** A bound found by lookup: the target, and how long the client had been silent before this request. */
export interface AffinityHit {
  readonly target: AffinityTarget;
  readonly silentMs: number;
}

export class SessionAffinityStore {
  readonly #records = new Map<string, AffinityRecord>();
  readonly #now: () => number;
  readonly #maxEntries: number;

  constructor(options: SessionAffinityOptions = {}) {
    this.#now = options.now ?? Date.now;
    const max = options.maxEntries ?? DEFAULT_MAX_AFFINITY_ENTRIES;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`session affinity maxEntries must be a positive integer, got ${String(max)}`);
    this.#maxEntries = max;
  }

  /** Clients remembered, counting expired records not yet dropped. */
  get size(): number {
    return this.#records.size;
  }

  /**
   * The endpoint `clientIp` is bound to, if it was seen less than `timeoutSeconds` ago; the record
   * is refreshed (this request counts as seen). An expired record is dropped.
   */
  lookup(clientIp: string, timeoutSeconds: number): AffinityHit | undefined {
    const record = this.#records.get(clientIp);
    if (record === undefined) return undefined;
    const now = this.#now();
    const silentMs = now - record.lastSeen;
    if (silentMs >= timeoutSeconds * 1000) {
      this.#records.delete(clientIp);
      return undefined;
    }
    record.lastSeen = now;
    this.#records.delete(clientIp);
    this.#records.set(clientIp, record);
    return { target: record, silentMs };
  }

  /** What lookup would answer, without refreshing or dropping anything (for /debug/explain). */
  peek(clientIp: string, timeoutSeconds: number): AffinityHit | undefined {
    const record = this.#records.get(clientIp);
    if (record === undefined) return undefined;
    const silentMs = this.#now() - record.lastSeen;
    return silentMs >= timeoutSeconds * 1000 ? undefined : { target: record, silentMs };
  }

  /** Binds `clientIp` to `target` as of now, dropping records expired under `timeoutSeconds` and,
   * past the cap, the one silent the longest. */
  remember(clientIp: string, target: AffinityTarget, timeoutSeconds: number): void {
    const now = this.#now();
    const records = this.#records;
    records.delete(clientIp);
    records.set(clientIp, { identity: target.identity, address: target.address, lastSeen: now });
    this.#expire(now, timeoutSeconds * 1000, 8);
    if (records.size > this.#maxEntries) {
      for (const key of records.keys()) {
        records.delete(key);
        if (records.size <= this.#maxEntries) break;
      }
    }
  }

  /** Forgets a client (its endpoint is gone). */
  forget(clientIp: string): void {
    this.#records.delete(clientIp);
  }

  /** Drops every expired record; remember() does a few at a time, this is for a periodic sweep. */
  sweep(timeoutSeconds: number): void {
    this.#expire(this.#now(), timeoutSeconds * 1000, Number.POSITIVE_INFINITY);
  }

  /** Drops up to `limit` expired records from the front (the ones silent the longest). */
  #expire(now: number, timeoutMs: number, limit: number): void {
    let dropped = 0;
    for (const [key, record] of this.#records) {
      if (dropped >= limit || now - record.lastSeen < timeoutMs) return;
      this.#records.delete(key);
      dropped++;
    }
  }
}
