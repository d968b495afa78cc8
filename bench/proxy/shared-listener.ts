// How N processes share one listening port, measured apart from vipr (bench/proxy/workers.ts):
// the minimal node:http + undici proxy of baseline-node.ts (minimal-proxy.ts), run N times either with SO_REUSEPORT
// (each process listens itself; the kernel spreads connections) or under node:cluster (the
// primary accepts and hands each connection to a worker, round-robin, Node's default on Linux).
// Usage: node bench/proxy/shared-listener.ts reuseport|cluster N PORT BACKEND_PORT
// Prints "ready PORT" once every process listens, then "pids P1 P2 ..." (the primary first).
import cluster from "node:cluster";
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createMinimalProxy } from "./minimal-proxy.ts";

const [mode, countText, portText, backendText] = process.argv.slice(2);
const count = Number(countText);
const port = Number(portText);

function serveProxy(reusePort: boolean): void {
  const server = createMinimalProxy(Number(backendText));
  server.listen({ port, host: "127.0.0.1", reusePort }, () => process.send?.("listening"));
  process.on("disconnect", () => process.exit(0)); // the launcher is gone
}

if (mode === "cluster" && cluster.isWorker) serveProxy(false);
else if (mode === "reuseport" && process.send !== undefined && process.env.SHARED_LISTENER_CHILD === "1") serveProxy(true);
else {
  let listening = 0;
  const pids: number[] = [process.pid];
  const onListening = (): void => {
    if (++listening === count) console.log(`ready ${port}\npids ${pids.join(" ")}`);
  };
  for (let i = 0; i < count; i++) {
    if (mode === "cluster") {
      const worker = cluster.fork();
      pids.push(worker.process.pid!);
      worker.on("message", (m) => m === "listening" && onListening());
    } else {
      const child = fork(fileURLToPath(import.meta.url), process.argv.slice(2), { env: { ...process.env, SHARED_LISTENER_CHILD: "1" } });
      pids.push(child.pid!);
      child.on("message", (m) => m === "listening" && onListening());
    }
  }
  process.on("SIGTERM", () => process.exit(0));
}
