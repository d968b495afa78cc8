// A service entry's own settings: its load-balancing policy (hash key, load factor, subset
// header, slow start: balancing/policy-config.ts) and its timeouts (timeout-config.ts), each read
// from the entry's annotations over the router's defaults. A table entry is never edited (a
// changed Service is a new entry), so the settings are resolved once per entry object and kept
// beside it, for as long as the entry lives, whoever asks first: the balancer's state on a
// request, or the slow start bookkeeping on a new snapshot.
import { policyFromAnnotations, type PolicyConfig } from "./balancing/policy-config.ts";
import type { ServiceEntry } from "./table/routing-table.ts";
import { timeoutsFromAnnotations, type RouterTimeouts } from "./timeout-config.ts";

export interface ServiceSettings {
  readonly policy: PolicyConfig;
  readonly timeouts: RouterTimeouts;
  /** One line per annotation that was ignored or corrected (policy's first, then timeouts'). */
  readonly diagnostics: readonly string[];
}

export class ServiceSettingsCache {
  readonly #defaultPolicy: PolicyConfig;
  readonly #defaultTimeouts: RouterTimeouts;
  readonly #byEntry = new WeakMap<ServiceEntry, ServiceSettings>();

  constructor(defaultPolicy: PolicyConfig, defaultTimeouts: RouterTimeouts) {
    this.#defaultPolicy = defaultPolicy;
    this.#defaultTimeouts = defaultTimeouts;
  }

  /** The settings of `entry`, resolved on the first call for that entry. */
  of(entry: ServiceEntry): ServiceSettings {
    let settings = this.#byEntry.get(entry);
    if (settings === undefined) {
      const policy = policyFromAnnotations(entry.annotations, this.#defaultPolicy);
      const timeouts = timeoutsFromAnnotations(entry.annotations, this.#defaultTimeouts);
      settings = { policy: policy.config, timeouts: timeouts.config, diagnostics: [...policy.diagnostics, ...timeouts.diagnostics] };
      this.#byEntry.set(entry, settings);
    }
    return settings;
  }
}
