// When each endpoint of one service turned ready, for slow start (slow-start.ts). The router keeps
// one store per service key across table rebuilds (service-state.ts), as it keeps affinity and
// passive health: a rebuild that adds one endpoint must not restart the ramp of the others.
//
// An endpoint counts while it is ready (or the service publishes not-ready addresses, when every
// endpoint counts as ready, as for eligibility). One that stops being ready, or leaves, is
// forgotten, so its next ready period starts a new ramp: Envoy likewise lets an endpoint re-enter
// slow start when it turns healthy again (docs, "Slow start mode"), and a container that
// restarted is cold again. An endpoint
// known by the same identity at another address is another pod (a restart elsewhere) and starts
// over too.
import type { EndpointEntry, ServiceEntry } from "../table/routing-table.ts";

interface ReadyRecord {
  readonly address: string;
  readonly since: number;
}

/** "Ready since" for an endpoint ready before the router could see it turn ready. */
export const READY_BEFORE_START = Number.NEGATIVE_INFINITY;

export class ReadySinceStore {
  #byIdentity = new Map<string, ReadyRecord>();

  /**
   * Records a service entry: endpoints ready in it and not known yet (or known at another address)
   * turned ready `at`; the others keep their time; endpoints not ready in it are forgotten.
   * `at` READY_BEFORE_START marks endpoints that were ready before the router started.
   */
  observe(service: ServiceEntry, at: number): void {
    const previous = this.#byIdentity;
    const next = new Map<string, ReadyRecord>();
    const everyReady = service.publishNotReadyAddresses;
    for (const endpoint of service.endpoints) {
      if (!everyReady && !endpoint.ready) continue;
      const known = previous.get(endpoint.identity);
      next.set(endpoint.identity, known !== undefined && known.address === endpoint.address ? known : { address: endpoint.address, since: at });
    }
    this.#byIdentity = next;
  }

  /** When `endpoint` turned ready, in the router's clock; READY_BEFORE_START when it was ready
   * before the router started, or is not known as ready (it then gets its full weight). */
  sinceOf(endpoint: EndpointEntry): number {
    const known = this.#byIdentity.get(endpoint.identity);
    return known !== undefined && known.address === endpoint.address ? known.since : READY_BEFORE_START;
  }

  /** Endpoints known as ready. */
  get size(): number {
    return this.#byIdentity.size;
  }
}
