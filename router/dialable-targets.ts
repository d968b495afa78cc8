// The targets vipr keeps connection pools for under the current table, as the transport's pool keys
// ("10.0.0.7:8080", "[fd00::7]:8080", an allowed external name with its port): what
// UpstreamTransport.retain keeps. Kept up to date per changed service entry: each key is counted
// once per entry that names it (two services may share pods), and leaves the set when its last
// entry does, so a publish of one changed service costs that service's endpoints only.
//
// Graceful drain: an endpoint that is not ready (terminating, or failing its readiness probe) gets
// no new requests while its service has a ready one (kube-proxy's rule, eligible-endpoints.ts), so
// its key leaves the set and the transport closes its pool: idle keep-alive connections close now,
// requests in flight finish first. The pod then sees no request on a connection it is about to
// close (the race behind most "connection reset during rollout" reports: Traefik 4452, Istio
// 7665). When a service has no ready endpoint, its serving-and-terminating ones may be the
// fallback and keep their pools. A not-ready endpoint that is nevertheless picked (Local traffic
// policy falling back on this node's terminating pods while other nodes have ready ones) gets a
// new pool on demand; the transport dials only what the router picked from the table.
import type { ServiceEntry } from "./table/routing-table.ts";

export class DialableTargets {
  /** The keys, for transport.retain; the same set object throughout (retain reads it only). */
  readonly keys: ReadonlySet<string>;
  readonly #keys = new Set<string>();
  readonly #counts = new Map<string, number>();
  readonly #allowedExternalNames: ReadonlySet<string>;

  /** `allowedExternalNames`: lowercase host names an ExternalName service may be dialled at. */
  constructor(allowedExternalNames: ReadonlySet<string>) {
    this.#allowedExternalNames = allowedExternalNames;
    this.keys = this.#keys;
  }

  /** An entry joined the table (or replaced `before`, which is then taken out). */
  replace(before: ServiceEntry | undefined, after: ServiceEntry | undefined): void {
    if (before === after) return;
    if (before !== undefined) this.#each(before, -1);
    if (after !== undefined) this.#each(after, 1);
  }

  clear(): void {
    this.#keys.clear();
    this.#counts.clear();
  }

  #each(service: ServiceEntry, delta: 1 | -1): void {
    // A pure function of the entry, so taking an entry out undoes exactly what putting it in did.
    const everyReady = service.publishNotReadyAddresses || !service.endpoints.some((e) => e.ready);
    for (const endpoint of service.endpoints) {
      if (!everyReady && !endpoint.ready) continue;
      const host = endpoint.addressType === "IPv6" ? `[${endpoint.address}]` : endpoint.address;
      for (const port of endpoint.ports) this.#count(`${host}:${port.port}`, delta);
    }
    const external = service.externalName?.toLowerCase();
    if (external !== undefined && this.#allowedExternalNames.has(external)) {
      for (const port of service.ports) this.#count(`${external}:${port.port}`, delta);
    }
  }

  #count(key: string, delta: 1 | -1): void {
    const count = (this.#counts.get(key) ?? 0) + delta;
    if (count > 0) {
      this.#counts.set(key, count);
      this.#keys.add(key);
    } else {
      this.#counts.delete(key);
      this.#keys.delete(key);
    }
  }
}
