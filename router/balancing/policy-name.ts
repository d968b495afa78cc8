// The load-balancing policies a service may name (vipr.io/lb-policy). A file of its own so that
// policy-config.ts and slow-start-config.ts, which both need the name, do not import each other.

export type PolicyName = "least-request" | "round-robin" | "maglev" | "bounded-load";
