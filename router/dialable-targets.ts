// The targets vipr may dial under the current table, as the transport's pool keys
// ("10.0.0.7:8080", "[fd00::7]:8080", an allowed external name with its port): what
// UpstreamTransport.retain keeps pools for. Kept up to date per changed service entry: each key is
// counted once per entry that names it (two services may share pods), and leaves the set when its
// last entry does, so a publish of one changed service costs that service's endpoints only.
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
    for (const endpoint of service.endpoints) {
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
