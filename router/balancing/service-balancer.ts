// One service port's load balancer: given the eligible endpoints (eligible-endpoints.ts) and the
// service's policy (policy-config.ts), it picks one endpoint per request. The router builds it on
// the service's first request and drops it when the service's table entry changes, so everything
// here is fixed at construction but the in-flight counts; the WASM tables (Maglev, label index) are
// built on the first pick that needs them.
//
// The picker is built in one place, the constructor: the policy's picker (picker-for-policy.ts)
// inside the layers the service's settings ask for (picker-layers.ts: session affinity, slow
// start, outlier ejection, outermost first). Per request the balancer only narrows the
// candidates to the request's subset (subset-matcher.ts), asks the picker, and counts the request
// in and out of the endpoint it got.
import type { CoreEngine } from "../../wasm/core-engine.ts";
import { createReferenceCore } from "../../wasm/core-engine.ts";
import type { Labels } from "../../wasm/label-interning.ts";
import type { EligibleEndpoint, EligibleEndpoints } from "../table/eligible-endpoints.ts";
import type { ServiceEntry, ServicePortEntry } from "../table/routing-table.ts";
import { endpointPortFor } from "../table/routing-table.ts";
import type { EjectionLayer } from "./ejection-layer.ts";
import type { RandomSource } from "./least-request.ts";
import { loadBound } from "./maglev-endpoints.ts";
import type { OutlierDetector } from "./outlier-detection.ts";
import type { Pick, PickExplanation, PickFailure, PickRequest } from "./pick.ts";
import { endpointWeights, type Picker, type PickerChoice } from "./picker.ts";
import { pickerFor } from "./picker-for-policy.ts";
import { formatHashKeySource, type PolicyConfig } from "./policy-config.ts";
import type { ReadySinceStore } from "./ready-since.ts";
import { withLayers } from "./picker-layers.ts";
import { SessionAffinityStore } from "./session-affinity.ts";
import type { SessionAffinityLayer } from "./session-affinity-layer.ts";
import type { SlowStartLayer } from "./slow-start-layer.ts";
import { SubsetMatcher, type MatchedSubset } from "./subset-matcher.ts";

export interface ServiceBalancerOptions {
  readonly service: ServiceEntry;
  readonly servicePort: ServicePortEntry;
  readonly eligible: EligibleEndpoints;
  readonly config: PolicyConfig;
  /** The engine that builds Maglev tables and label indexes (one WASM core per process). */
  readonly core: CoreEngine;
  /** Random numbers in [0, 1) for least-request and the round-robin start; default Math.random. */
  readonly random?: RandomSource;
  /** The service's ClientIP affinity store. The router keeps one per service across rebuilds, so
   * an affinity survives endpoint changes; without one, the balancer makes its own. */
  readonly affinity?: SessionAffinityStore;
  /** The service's passive health (one per service key, kept across rebuilds); none: no ejection. */
  readonly outliers?: OutlierDetector;
  /** When each endpoint of the service turned ready (one store per service key, kept across
   * rebuilds); with `config.slowStart`, endpoints ramp up from then. None: no slow start. */
  readonly readySince?: ReadySinceStore;
  /** Milliseconds, for the store the balancer makes and for slow start; default Date.now. */
  readonly now?: () => number;
  /** Maglev table size, a prime (tests use small ones); default: wasm/maglev-plan.ts. */
  readonly maglevTableSize?: number;
}

let referenceCore: CoreEngine | undefined;
/** A first try's `tried`, shared rather than allocated per pick. */
const NO_TRIES: readonly number[] = Object.freeze([]);

export class ServiceBalancer {
  readonly service: ServiceEntry;
  readonly servicePort: ServicePortEntry;
  readonly eligible: EligibleEndpoints;
  readonly config: PolicyConfig;
  /** The eligible endpoints (indices below eligibleCount), then the terminating-but-serving ones
   * that only an existing session affinity may reach. Pick.index is a position here. */
  readonly endpoints: readonly EligibleEndpoint[];
  readonly eligibleCount: number;
  /** One slot per entry of `endpoints`, for the router's dial target of it (pick-stage.ts): kept
   * with the balancer, so it is made once per endpoint, not per request. */
  readonly dialTargets: unknown[] = [];

  #core: CoreEngine;
  /** The policy's picker inside the layers the settings ask for; the layers are kept for
   * /debug/explain and the outcome reports. */
  readonly #picker: Picker;
  readonly #affinity: SessionAffinityLayer | undefined;
  readonly #slowStart: SlowStartLayer | undefined;
  readonly #ejection: EjectionLayer | undefined;
  readonly #all: readonly number[];
  readonly #weights: Float64Array | undefined;
  readonly #inFlight: Uint32Array;
  #inFlightTotal = 0;
  #eligibleInFlight = 0;
  #subsets: SubsetMatcher | undefined;
  #retiring = false;

  constructor(options: ServiceBalancerOptions) {
    const { service, servicePort, eligible, config } = options;
    this.service = service;
    this.servicePort = servicePort;
    this.eligible = eligible;
    this.config = config;
    this.#core = options.core;
    const now = options.now ?? Date.now;
    const affinity = service.sessionAffinity;

    const endpoints = eligible.endpoints.slice();
    this.eligibleCount = endpoints.length;
    if (affinity.type === "ClientIP") endpoints.push(...drainingEndpoints(service, servicePort, endpoints));
    this.endpoints = endpoints;
    this.#all = Array.from({ length: this.eligibleCount }, (_, i) => i);
    this.#weights = endpointWeights(endpoints);
    this.#inFlight = new Uint32Array(endpoints.length);

    // The policy's picker, inside the layers the service's settings ask for (picker-layers.ts).
    const policy = pickerFor(config.policy, {
      endpoints: eligible.endpoints,
      weights: this.#weights,
      inFlight: this.#inFlight,
      random: options.random ?? Math.random,
      core: options.core,
      loadFactor: config.loadFactor,
      maglevTableSize: options.maglevTableSize,
    });
    const { readySince } = options;
    const layered = withLayers(policy, {
      endpoints,
      eligibleCount: this.eligibleCount,
      weights: this.#weights,
      now,
      affinity: affinity.type === "ClientIP" ? { store: options.affinity ?? new SessionAffinityStore({ now }), timeoutSeconds: affinity.timeoutSeconds } : undefined,
      slowStart: config.slowStart === undefined || readySince === undefined ? undefined : { config: config.slowStart, readySince },
      outliers: options.outliers,
    });
    this.#picker = layered.picker;
    this.#affinity = layered.affinity;
    this.#slowStart = layered.slowStart;
    this.#ejection = layered.ejection;
  }

  /** Chooses the endpoint for one request. Never throws on request input: a bad subset selector,
   * an empty subset or no eligible endpoint come back as a PickFailure. */
  pick(request: PickRequest): Pick | PickFailure {
    return this.#choose(request, true);
  }

  /** Counts a request in flight to the picked endpoint (least-request and bounded load read it). */
  acquire(pick: Pick): void {
    const index = pick.index;
    if (this.endpoints[index]?.endpoint !== pick.endpoint) return; // a pick from another balancer
    this.#inFlight[index]!++;
    this.#inFlightTotal++;
    if (index < this.eligibleCount) this.#eligibleInFlight++;
    this.#picker.acquire(index);
  }

  /** Counts it out again when the response is done (or the try failed). */
  release(pick: Pick): void {
    const index = pick.index;
    if (this.endpoints[index]?.endpoint !== pick.endpoint || this.#inFlight[index] === 0) return;
    this.#inFlight[index]!--;
    this.#inFlightTotal--;
    if (index < this.eligibleCount) this.#eligibleInFlight--;
    this.#picker.release(index);
    if (this.#retiring && this.#inFlightTotal === 0) this.#releaseTables();
  }

  /** Requests in flight to endpoint `index`. */
  inFlight(index: number): number {
    return this.#inFlight[index] ?? 0;
  }

  /** Reports how a try to a picked endpoint ended, to passive health: `failed` per
   * outlier-detection.ts. Returns true when this try ejected the endpoint. */
  recordOutcome(pick: Pick, failed: boolean): boolean {
    return this.#ejection?.recordOutcome(pick.endpoint, failed) ?? false;
  }

  /**
   * Frees the WASM tables: at once when no request is in flight, else when the last one is
   * released, so requests that started on this balancer can still retry on it. A pick after that
   * rebuilds what it needs with the plain-TS reference engine (the same tables, in memory the
   * garbage collector reclaims), so a late retry never touches freed WASM memory.
   */
  free(): void {
    this.#retiring = true;
    if (this.#inFlightTotal === 0) this.#releaseTables();
  }

  /** Which endpoint `request` would reach and why, without counting it as a request: no round-robin
   * turn is taken and no affinity is recorded or refreshed. */
  explain(request: PickRequest): PickExplanation {
    const { service, servicePort, config } = this;
    const out: PickExplanation = {
      service: service.key,
      servicePort: { name: servicePort.name, port: servicePort.port },
      eligible: {
        reason: this.eligible.reason,
        endpoints: this.endpoints.map(({ endpoint, port }, i) => {
          const slowStart = this.#slowStart?.stateOf(i);
          return {
            identity: endpoint.identity,
            address: endpoint.address,
            port,
            ready: endpoint.ready,
            serving: endpoint.serving,
            terminating: endpoint.terminating,
            eligible: i < this.eligibleCount,
            ejected: this.#ejection?.isEjected(i) ?? false,
            inFlight: this.#inFlight[i]!,
            ...(slowStart === undefined ? {} : { slowStart }),
          };
        }),
      },
      policy: config.policy,
      result: { ok: false, reason: "no-eligible-endpoints", message: "" },
    };
    if (config.hashKey !== undefined) out.hashKeySource = formatHashKeySource(config.hashKey);
    if (request.hashKey !== undefined) out.hashKey = request.hashKey;
    if (config.policy === "bounded-load") out.loadFactor = config.loadFactor;
    if (config.slowStart !== undefined) out.slowStart = config.slowStart;
    if (request.subset !== undefined && request.subset !== "") {
      const match = this.#subsetMatcher().match(request.subset);
      out.subset = match.ok
        ? { selector: match.text, matching: this.endpoints.filter((_, i) => match.matches[i] === 1).map((e) => e.endpoint.identity) }
        : { selector: match.text, error: match.message };
    }
    if (this.#affinity !== undefined) {
      const hit = this.#affinity.boundTo(request.clientIp);
      out.sessionAffinity = {
        clientIp: request.clientIp,
        timeoutSeconds: this.#affinity.timeoutSeconds,
        ...(hit === undefined ? {} : { boundTo: { identity: hit.target.identity, address: hit.target.address, silentSeconds: hit.silentMs / 1000 } }),
      };
    }
    const result = this.#choose(request, false);
    if (result.ok) {
      const { endpoint } = result;
      out.result = { ok: true, identity: endpoint.identity, address: endpoint.address, port: result.port, policy: result.policy, reason: result.reason };
      if (result.hash !== undefined) out.hash = result.hash;
      if (result.slot !== undefined) out.slot = result.slot;
      const tableSize = result.hash === undefined ? undefined : this.#picker.tableSize();
      if (tableSize !== undefined) out.tableSize = tableSize;
      if (result.policy === "bounded-load" && out.subset === undefined) {
        out.loadBound = loadBound(config.loadFactor, this.#eligibleInFlight, this.eligibleCount);
      }
    } else {
      out.result = result;
    }
    return out;
  }

  /** Narrows the candidates to the request's subset, asks the picker, and says why there was no
   * answer when there was none. */
  #choose(request: PickRequest, commit: boolean): Pick | PickFailure {
    let subset: MatchedSubset | undefined;
    if (request.subset !== undefined && request.subset !== "") {
      const match = this.#subsetMatcher().match(request.subset);
      if (!match.ok) return { ok: false, reason: "bad-subset", message: match.message };
      subset = match;
    }
    const choice = this.#picker.pick({
      key: request.hashKey,
      clientIp: request.clientIp,
      attempt: request.attempt ?? 0,
      candidates: subset?.eligible ?? this.#all,
      members: subset?.matches,
      ejected: undefined,
      tried: request.tried ?? NO_TRIES,
      weights: this.#weights,
      weightsGeneration: 0,
      commit,
    });
    return choice === undefined ? this.#noCandidate(subset) : this.#chosen(choice);
  }

  #noCandidate(subset: MatchedSubset | undefined): PickFailure {
    if (this.eligibleCount === 0) {
      const port = this.servicePort.name === "" ? `port ${this.servicePort.port}` : `port ${JSON.stringify(this.servicePort.name)}`;
      return { ok: false, reason: "no-eligible-endpoints", message: `no eligible endpoint for ${this.service.key} ${port}: ${this.eligible.reason}` };
    }
    const text = subset === undefined ? "" : subset.text;
    return { ok: false, reason: "subset-empty", message: `no eligible endpoint of ${this.service.key} matches the subset ${JSON.stringify(text)}` };
  }

  #chosen({ index, policy, reason, hash, slot }: PickerChoice): Pick {
    const { endpoint, port } = this.endpoints[index]!;
    return hash === undefined || slot === undefined
      ? { ok: true, endpoint, port, index, policy, reason }
      : { ok: true, endpoint, port, index, policy, hash, slot, reason };
  }

  /**
   * The identity owning each Maglev slot, for comparing the tables of two snapshots (the share of
   * keys a rebuild moved). Undefined when the policy does not hash, there is no eligible endpoint,
   * or the table was never built and `build` is false.
   */
  hashSlotOwners(build: boolean): string[] | undefined {
    const { policy, hashKey } = this.config;
    if ((policy !== "maglev" && policy !== "bounded-load") || hashKey === undefined || this.eligibleCount === 0) return undefined;
    return this.#picker.slotOwners(build && !this.#retiring);
  }

  #subsetMatcher(): SubsetMatcher {
    if (this.#subsets === undefined) {
      const labels: Labels[] = this.endpoints.map((e) => e.endpoint.labels ?? {});
      this.#subsets = new SubsetMatcher(labels, this.eligibleCount, (l) => this.#core.buildLabelIndex(l));
    }
    return this.#subsets;
  }

  #releaseTables(): void {
    this.#picker.free();
    referenceCore ??= createReferenceCore();
    this.#core = referenceCore;
    this.#subsets?.free();
  }
}

/** The service's endpoints that terminate but still serve, not among `eligible`, on the service
 * port: only an existing session affinity may reach them (they drain). */
function drainingEndpoints(service: ServiceEntry, servicePort: ServicePortEntry, eligible: readonly EligibleEndpoint[]): EligibleEndpoint[] {
  const taken = new Set(eligible.map((e) => e.endpoint));
  const out: EligibleEndpoint[] = [];
  for (const endpoint of service.endpoints) {
    if (taken.has(endpoint) || !endpoint.serving || !endpoint.terminating) continue;
    const port = endpointPortFor(endpoint, servicePort);
    if (port !== undefined) out.push({ endpoint, port: port.port });
  }
  return out;
}
