// The load-balancing policies a service may name (vipr.io/lb-policy). A file of its own so that
// policy-config.ts and slow-start-config.ts, which both need the name, do not import each other.

export type PolicyName = "least-request" | "round-robin" | "maglev" | "bounded-load";

/** What chose a request's endpoint: a policy, or an existing session affinity
 * (session-affinity-layer.ts). */
export type PickPolicy = PolicyName | "session-affinity";
