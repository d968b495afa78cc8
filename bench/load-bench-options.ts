// The command-line options every load benchmark (bench:proxy, bench:h2, bench:ws) takes, for
// node:util parseArgs: --json, --duration S (seconds per counted run), --rounds N, --connections C.

/** The shared options; `connections` is the bench's default connection count. */
export function loadBenchOptions(connections: string) {
  return {
    json: { type: "boolean", default: false },
    duration: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    connections: { type: "string", default: connections },
  } as const;
}
