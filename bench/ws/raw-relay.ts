// A baseline of bench:ws: the least a byte relay does, node:net sockets piped both ways to the
// pod, on whichever runtime runs it (Node, or Deno's node:net, which vipr uses there too). No HTTP
// parsing, no routing, no frame tracking, no idle timeout, no metrics: what any relay in that
// runtime pays per chunk. Prints "ready PORT" once it listens.
// Usage: node bench/ws/raw-relay.ts POD_PORT   (or deno run -A bench/ws/raw-relay.ts POD_PORT)
import net, { type AddressInfo } from "node:net";

const podPort = Number(process.argv[2]);
const server = net.createServer((client) => {
  const pod = net.connect({ port: podPort, host: "127.0.0.1", noDelay: true });
  client.setNoDelay(true);
  client.pipe(pod).pipe(client);
  client.on("error", () => pod.destroy());
  pod.on("error", () => client.destroy());
});
server.listen(0, "127.0.0.1", () => console.log(`ready ${(server.address() as AddressInfo).port}`));
