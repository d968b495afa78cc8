// The load generator of bench:ws: CONNECTIONS `ws` clients, each keeping WINDOW binary messages of
// SIZE bytes in flight (a new one as each echo comes back). Half a second of warm-up at full load,
// then it prints "counting" and counts echoes for SECONDS, then prints one JSON line
// {"messages","seconds","errors","cpuMs"} (cpuMs: its own CPU time over the counted window), so
// that the caller can read the other processes' CPU over the same window.
// Usage: node bench/ws/ws-load.ts URL HOST|- CONNECTIONS WINDOW SIZE SECONDS
import { WebSocket } from "ws";

const [url, host, connections, window, size, seconds] = process.argv.slice(2);
const payload = Buffer.alloc(Number(size), 0x61);
let counting = false;
let messages = 0;
let errors = 0;
const sockets = await Promise.all(
  Array.from({ length: Number(connections) }, () => new Promise<WebSocket>((resolve, reject) => {
    const socket = new WebSocket(url!, { perMessageDeflate: false, ...(host === "-" ? {} : { headers: { host: host! } }) });
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  })),
);
for (const socket of sockets) {
  socket.on("error", () => errors++);
  socket.on("message", () => {
    if (counting) messages++;
    if (socket.readyState === WebSocket.OPEN) socket.send(payload, { binary: true });
  });
}
for (const socket of sockets) for (let i = 0; i < Number(window); i++) socket.send(payload, { binary: true });
await new Promise((resolve) => setTimeout(resolve, 500));
console.log("counting");
counting = true;
const cpuBefore = process.cpuUsage();
const started = performance.now();
await new Promise((resolve) => setTimeout(resolve, Number(seconds) * 1000));
counting = false;
const elapsed = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
console.log(JSON.stringify({ messages, seconds: elapsed, errors, cpuMs: (cpu.user + cpu.system) / 1000 }));
for (const socket of sockets) socket.terminate();
process.exit(0);
