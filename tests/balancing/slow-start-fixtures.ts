// Tables for the slow start tests: one service "default/web" (port http 80 -> 8080) with
// annotations, whose pods come and go through a TableInputStore, so each snapshot is built from
// the last one (RoutingTableBuilder.update) as the Kubernetes source builds them.
import type { RoutingTable } from "../../router/table/routing-table.ts";
import { RoutingTableBuilder } from "../../router/table/routing-table-builder.ts";
import { TableInputStore } from "../../router/table/table-input-store.ts";

export interface WebPod {
  readonly name: string;
  /** Default: 10.0.0.<position + 1>. */
  readonly ip?: string;
  readonly ready?: boolean;
}

export class WebTables {
  readonly #store = new TableInputStore();
  readonly #builder = new RoutingTableBuilder(this.#store);
  #version = 0;

  constructor(annotations: Record<string, string>) {
    this.annotate(annotations);
  }

  /** Replaces the Service's annotations, for the next snapshot. */
  annotate(annotations: Record<string, string>): void {
    this.#version++;
    this.#store.set("Service", {
      metadata: { namespace: "default", name: "web", resourceVersion: String(this.#version), annotations },
      spec: { ports: [{ name: "http", port: 80, targetPort: 8080 }] },
    });
  }

  /** The next snapshot, with exactly these pods in the service's one EndpointSlice. */
  next(pods: readonly (WebPod | string)[]): RoutingTable {
    this.#version++;
    this.#store.set("EndpointSlice", {
      metadata: { namespace: "default", name: "web-1", resourceVersion: String(this.#version), labels: { "kubernetes.io/service-name": "web" } },
      addressType: "IPv4",
      ports: [{ name: "http", port: 8080 }],
      endpoints: pods.map((spec, i) => {
        const pod = typeof spec === "string" ? { name: spec } : spec;
        return {
          addresses: [pod.ip ?? `10.0.0.${i + 1}`],
          conditions: { ready: pod.ready ?? true },
          targetRef: { kind: "Pod", namespace: "default", name: pod.name },
        };
      }),
    });
    return this.#builder.update(this.#store.takeChanges());
  }
}

/** A clock the tests move by hand, in ms. */
export interface ManualClock {
  ms: number;
  /** How often it was read. */
  reads: number;
  readonly now: () => number;
}

export function manualClock(start = 0): ManualClock {
  const clock: ManualClock = {
    ms: start,
    reads: 0,
    now: () => {
      clock.reads++;
      return clock.ms;
    },
  };
  return clock;
}

/**
 * The largest deviation of an observed share from `p` over `n` independent picks that the tests
 * accept: 4 standard deviations of a binomial share, sqrt(p (1 - p) / n). The picks are seeded, so
 * each run gives the same figure; the bound shows the seed was not chosen to pass (a fair random
 * source lands outside it about once in 16000 runs).
 */
export function shareTolerance(p: number, n: number): number {
  return 4 * Math.sqrt((p * (1 - p)) / n);
}
