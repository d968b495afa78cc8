// The Node baseline: a minimal hand-written proxy, node:http + undici Pool.stream() into the raw
// response, to one backend (minimal-proxy.ts). What vipr on Node is compared against, and, run by Deno, vipr on Deno
// too (the same stack there; the other Deno baseline is baseline-deno.ts).
// Usage: node bench/proxy/baseline-node.ts PORT BACKEND_PORT
//        deno run -A bench/proxy/baseline-node.ts PORT BACKEND_PORT
import type { AddressInfo } from "node:net";
import { createMinimalProxy } from "./minimal-proxy.ts";

const server = createMinimalProxy(Number(process.argv[3]));
// Exits on SIGINT through process.exit(), so that `node --cpu-prof` writes its profile.
process.once("SIGINT", () => process.exit(0));
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => console.log(`ready ${(server.address() as AddressInfo).port}`));
