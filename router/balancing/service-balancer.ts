// One service port's load balancer: given the eligible endpoints (eligible-endpoints.ts) and the
// service's policy (policy-config.ts), it picks one endpoint per request. The router builds it on
// the service's first request and drops it when the service's table entry changes, so everything
// here is fixed at construction but the in-flight counts; the WASM tables (Maglev, label index) are
// built on the first pick that needs them.
//
// Order of decisions for a request:
//   1. a subset selector, if the request names one, narrows the endpoints (subset-matcher.ts);
//   2. sessionAffinity ClientIP sends a known client back to its endpoint (session-affinity.ts),
//      also when that endpoint now terminates but still serves: it drains, as a conntrack entry does.
//      Retries (attempt > 0) neither use nor change the binding; a binding to an endpoint that is
//      gone, or outside the request's subset, is replaced by the policy's pick;
//   3. the policy's picker (picker.ts; one file per policy, chosen in picker-for-policy.ts): Maglev
//      or bounded load on the hash key when there is one, else least-request (power of two
//      choices) or round robin. Endpoints that passive health ejected
//      (outlier-detection.ts) are passed over like endpoints a retry already tried, and skipped on
//      Maglev's preference walk; when every candidate is ejected, ejection is ignored. With slow
//      start (slow-start.ts), least-request and round robin read weights that ramp endpoints which
//      just turned ready up over the service's window; the hashing policies and an existing
//      affinity are not shaped by it.
import type { CoreEngine } from "../../wasm/core-engine.ts";
import { createReferenceCore } from "../../wasm/core-engine.ts";
import type { Labels } from "../../wasm/label-interning.ts";
import type { EligibleEndpoint, EligibleEndpoints } from "../table/eligible-endpoints.ts";
import type { ServiceEntry, ServicePortEntry } from "../table/routing-table.ts";
import { endpointPortFor } from "../table/routing-table.ts";
import type { RandomSource } from "./least-request.ts";
import { loadBound } from "./maglev-endpoints.ts";
import type { Pick, PickExplanation, PickFailure, PickFailureReason, PickPolicy, PickRequest } from "./pick.ts";
import { endpointWeights, type Picker, type PickerChoice } from "./picker.ts";
import { pickerFor } from "./picker-for-policy.ts";
import { formatHashKeySource, type PolicyConfig } from "./policy-config.ts";
import type { OutlierDetector } from "./outlier-detection.ts";
import type { ReadySinceStore } from "./ready-since.ts";
import { SlowStartWeights, type SlowStartState } from "./slow-start.ts";
import { slowStartApplies } from "./slow-start-config.ts";
import { SessionAffinityStore, type AffinityHit } from "./session-affinity.ts";
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

  #core: CoreEngine;
  readonly #picker: Picker;
  readonly #affinity: SessionAffinityStore | undefined;
  readonly #outliers: OutlierDetector | undefined;
  readonly #timeoutSeconds: number;
  readonly #all: readonly number[];
  readonly #weights: Float64Array | undefined;
  readonly #now: () => number;
  /** Set while some endpoint ramps up; dropped (for good) once every ramp has ended. */
  #slowStart: SlowStartWeights | undefined;
  /** Bumped whenever the weights least-request and round robin read change (slow start). */
  #weightsGeneration = 0;
  readonly #inFlight: Uint32Array;
  #inFlightTotal = 0;
  #eligibleInFlight = 0;
  #subsets: SubsetMatcher | undefined;
  #byIdentity: Map<string, number> | undefined;
  #retiring = false;

  constructor(options: ServiceBalancerOptions) {
    const { service, servicePort, eligible, config } = options;
    this.service = service;
    this.servicePort = servicePort;
    this.eligible = eligible;
    this.config = config;
    this.#core = options.core;
    this.#outliers = options.outliers;
    const affinity = service.sessionAffinity;
    this.#timeoutSeconds = affinity.type === "ClientIP" ? affinity.timeoutSeconds : 0;
    this.#affinity = affinity.type === "ClientIP" ? (options.affinity ?? new SessionAffinityStore(options.now ? { now: options.now } : {})) : undefined;

    const endpoints = eligible.endpoints.slice();
    this.eligibleCount = endpoints.length;
    if (this.#affinity !== undefined) {
      const taken = new Set(endpoints.map((e) => e.endpoint));
      for (const endpoint of service.endpoints) {
        if (taken.has(endpoint) || !endpoint.serving || !endpoint.terminating) continue;
        const port = endpointPortFor(endpoint, servicePort);
        if (port !== undefined) endpoints.push({ endpoint, port: port.port });
      }
    }
    this.endpoints = endpoints;
    this.#all = Array.from({ length: this.eligibleCount }, (_, i) => i);
    this.#weights = endpointWeights(endpoints);
    this.#inFlight = new Uint32Array(endpoints.length);
    this.#now = options.now ?? Date.now;
    const slowStart = config.slowStart;
    const readySince = options.readySince;
    this.#slowStart =
      slowStart === undefined || readySince === undefined || !slowStartApplies(config.policy)
        ? undefined
        : SlowStartWeights.start(slowStart, endpoints.map((e) => readySince.sinceOf(e.endpoint)), this.#weights, endpoints.length, this.#now());
    this.#picker = pickerFor(config.policy, {
      endpoints: eligible.endpoints,
      weights: this.#weights,
      inFlight: this.#inFlight,
      random: options.random ?? Math.random,
      core: options.core,
      loadFactor: config.loadFactor,
      maglevTableSize: options.maglevTableSize,
    });
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
    const now = this.#slowStart === undefined ? 0 : this.#now();
    const out: PickExplanation = {
      service: service.key,
      servicePort: { name: servicePort.name, port: servicePort.port },
      eligible: {
        reason: this.eligible.reason,
        endpoints: this.endpoints.map(({ endpoint, port }, i) => ({
          identity: endpoint.identity,
          address: endpoint.address,
          port,
          ready: endpoint.ready,
          serving: endpoint.serving,
          terminating: endpoint.terminating,
          eligible: i < this.eligibleCount,
          ejected: this.#outliers?.isEjected(endpoint.identity, endpoint.address) ?? false,
          inFlight: this.#inFlight[i]!,
          ...this.#slowStartOf(i, now),
        })),
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
      const hit = request.clientIp === "" ? undefined : this.#affinity.peek(request.clientIp, this.#timeoutSeconds);
      out.sessionAffinity = {
        clientIp: request.clientIp,
        timeoutSeconds: this.#timeoutSeconds,
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

  #choose(request: PickRequest, commit: boolean): Pick | PickFailure {
    const attempt = request.attempt ?? 0;
    let subset: MatchedSubset | undefined;
    if (request.subset !== undefined && request.subset !== "") {
      const match = this.#subsetMatcher().match(request.subset);
      if (!match.ok) return this.#failure("bad-subset", match.message);
      subset = match;
    }
    const affinity = this.#affinity;
    const clientIp = request.clientIp;
    const sticky = affinity !== undefined && attempt === 0 && clientIp !== "";
    if (sticky) {
      const hit = commit ? affinity.lookup(clientIp, this.#timeoutSeconds) : affinity.peek(clientIp, this.#timeoutSeconds);
      const index = hit === undefined ? -1 : this.#indexOf(hit);
      if (index !== -1 && (subset === undefined || subset.matches[index] === 1)) {
        const reason =
          index < this.eligibleCount
            ? "session affinity: the endpoint this client used last"
            : "session affinity: the endpoint this client used last, terminating but still serving (draining)";
        return this.#pick(index, "session-affinity", reason);
      }
    }
    if (this.eligibleCount === 0) {
      const port = this.servicePort.name === "" ? `port ${this.servicePort.port}` : `port ${JSON.stringify(this.servicePort.name)}`;
      return this.#failure("no-eligible-endpoints", `no eligible endpoint for ${this.service.key} ${port}: ${this.eligible.reason}`);
    }
    if (subset !== undefined && subset.eligible.length === 0) {
      return this.#failure("subset-empty", `no eligible endpoint of ${this.service.key} matches the subset ${JSON.stringify(subset.text)}`);
    }
    const chosen = this.#byPolicy(request, attempt, subset, commit);
    if (sticky && commit) affinity.remember(clientIp, chosen.endpoint, this.#timeoutSeconds);
    return chosen;
  }

  /** Asks the picker, with what the layers around it decided: the subset's candidates, the
   * ejected ones to pass over, slow start's weights. */
  #byPolicy(request: PickRequest, attempt: number, members: MatchedSubset | undefined, commit: boolean): Pick {
    const candidates = members?.eligible ?? this.#all;
    // Undefined unless some candidate, but not every one, is ejected: the common case costs one compare.
    const ejected = this.#outliers === undefined || this.#outliers.ejectedCount() === 0 ? undefined : this.#ejectedAmong(candidates);
    // The common case (no slow start, or every ramp over) costs one compare here.
    const weights = this.#slowStart === undefined ? this.#weights : this.#rampedWeights();
    const choice = this.#picker.pick({
      key: request.hashKey,
      attempt,
      candidates,
      members: members?.matches,
      ejected,
      tried: request.tried ?? NO_TRIES,
      weights,
      weightsGeneration: this.#weightsGeneration,
      commit,
    });
    return this.#chosen(choice);
  }

  /** A mark per balancer index of the ejected candidates; undefined when none or all of them are
   * ejected (then ejection is ignored rather than fail the request). */
  #ejectedAmong(candidates: readonly number[]): Uint8Array | undefined {
    const outliers = this.#outliers!;
    const marks = new Uint8Array(this.endpoints.length);
    let count = 0;
    for (let i = 0; i < candidates.length; i++) {
      const index = candidates[i]!;
      const { endpoint } = this.endpoints[index]!;
      if (outliers.isEjected(endpoint.identity, endpoint.address)) {
        marks[index] = 1;
        count++;
      }
    }
    return count === 0 || count === candidates.length ? undefined : marks;
  }

  /** Reports how a try to a picked endpoint ended, to passive health: `failed` per
   * outlier-detection.ts. Returns true when this try ejected the endpoint. */
  recordOutcome(pick: Pick, failed: boolean): boolean {
    const outliers = this.#outliers;
    if (outliers === undefined) return false;
    const { endpoint } = pick;
    if (!failed) {
      outliers.recordSuccess(endpoint.identity, endpoint.address);
      return false;
    }
    return outliers.recordFailure(endpoint.identity, endpoint.address, this.eligibleCount);
  }

  /** Slow start's weights brought up to now; once every ramp has ended, the plain weights from
   * then on (the next pick no longer reads the clock). */
  #rampedWeights(): Float64Array | undefined {
    const slowStart = this.#slowStart!;
    if (slowStart.refresh(this.#now())) {
      this.#weightsGeneration = slowStart.generation;
      return slowStart.weights;
    }
    this.#slowStart = undefined;
    this.#weightsGeneration = slowStart.generation + 1;
    return this.#weights;
  }

  /** `{ slowStart }` for endpoint `index` while it ramps up, for /debug/explain; else nothing. */
  #slowStartOf(index: number, now: number): { slowStart?: SlowStartState } {
    const state = this.#slowStart?.stateOf(index, now);
    return state === undefined ? {} : { slowStart: state };
  }

  #pick(index: number, policy: PickPolicy, reason: string, hash?: number, slot?: number): Pick {
    const { endpoint, port } = this.endpoints[index]!;
    return hash === undefined || slot === undefined
      ? { ok: true, endpoint, port, index, policy, reason }
      : { ok: true, endpoint, port, index, policy, hash, slot, reason };
  }

  #chosen(choice: PickerChoice): Pick {
    return this.#pick(choice.index, choice.policy, choice.reason, choice.hash, choice.slot);
  }

  #failure(reason: PickFailureReason, message: string): PickFailure {
    return { ok: false, reason, message };
  }

  /** The balancer index of an affinity's endpoint: same identity and same address. A new address
   * is a new pod (a restart), and kube-proxy keys affinity on the endpoint address too. */
  #indexOf(hit: AffinityHit): number {
    if (this.#byIdentity === undefined) {
      this.#byIdentity = new Map();
      this.endpoints.forEach((e, i) => this.#byIdentity!.set(e.endpoint.identity, i));
    }
    const index = this.#byIdentity.get(hit.target.identity);
    return index !== undefined && this.endpoints[index]!.endpoint.address === hit.target.address ? index : -1;
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
