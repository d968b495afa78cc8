// The shapes a ServiceBalancer (service-balancer.ts) takes and gives: what the router knows about
// a request, the endpoint chosen for it (or why none was), and the /debug/explain answer.
import type { EndpointEntry } from "../table/routing-table.ts";
import type { PickPolicy, PolicyName } from "./policy-name.ts";
import type { SlowStartState } from "./slow-start.ts";
import type { SlowStartConfig } from "./slow-start-config.ts";

export interface PickRequest {
  /** From hashKeyOf (hash-key.ts); undefined: the request has no key, least-request picks. */
  readonly hashKey: string | undefined;
  /** The client's address, for sessionAffinity ClientIP; "" when unknown. */
  readonly clientIp: string;
  /** Label selector text naming a subset (`version=v2,!canary`); undefined or "" for all. */
  readonly subset?: string | undefined;
  /** Retries: 0 for the first try, 1 for the first retry, ... Maglev walks the key's preference
   * list this far, so each retry of a key goes to a different endpoint. */
  readonly attempt?: number;
  /** Indices (Pick.index) this request already tried: least-request and round robin pass over
   * them while others remain, as Envoy's previous_hosts retry predicate does. */
  readonly tried?: readonly number[];
}

export type { PickPolicy } from "./policy-name.ts";

export interface Pick {
  readonly ok: true;
  readonly endpoint: EndpointEntry;
  /** The endpoint port carrying the service port. */
  readonly port: number;
  /** Position in the balancer's `endpoints`: give the pick back to acquire and release. */
  readonly index: number;
  readonly policy: PickPolicy;
  /** xxHash32 of the hash key, when a Maglev table chose. */
  readonly hash?: number;
  /** The key's own table slot: hash mod table size. */
  readonly slot?: number;
  /** One line for logs and /debug/explain. */
  readonly reason: string;
}

export type PickFailureReason = "no-eligible-endpoints" | "subset-empty" | "bad-subset";

export interface PickFailure {
  readonly ok: false;
  readonly reason: PickFailureReason;
  /** Names the service and what was wrong; for a bad subset, the selector parser's message. */
  readonly message: string;
}

export interface ExplainedEndpoint {
  readonly identity: string;
  readonly address: string;
  readonly port: number;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  /** False for a terminating endpoint only an existing session affinity may still reach. */
  readonly eligible: boolean;
  /** Passed over by passive health (outlier-detection.ts) for now. */
  readonly ejected: boolean;
  readonly inFlight: number;
  /** Present while the endpoint ramps up after turning ready (slow-start.ts). */
  readonly slowStart?: SlowStartState;
}

/** A plain object: /debug/explain serialises it as is. */
export interface PickExplanation {
  service: string;
  servicePort: { readonly name: string; readonly port: number };
  /** Why these endpoints are eligible (eligible-endpoints.ts) and what they are. */
  eligible: { readonly reason: string; readonly endpoints: readonly ExplainedEndpoint[] };
  policy: PolicyName;
  /** Where the key is read from, e.g. "header:x-user". */
  hashKeySource?: string;
  hashKey?: string;
  hash?: number;
  slot?: number;
  tableSize?: number;
  /** Bounded load: the factor and the in-flight cap for the next request. */
  loadFactor?: number;
  loadBound?: number;
  /** The service's slow start settings, when it has them. */
  slowStart?: SlowStartConfig;
  subset?: { readonly selector: string; readonly matching?: readonly string[]; readonly error?: string };
  sessionAffinity?: {
    readonly clientIp: string;
    readonly timeoutSeconds: number;
    readonly boundTo?: { readonly identity: string; readonly address: string; readonly silentSeconds: number };
  };
  result:
    | { readonly ok: true; readonly identity: string; readonly address: string; readonly port: number; readonly policy: PickPolicy; readonly reason: string }
    | PickFailure;
}
