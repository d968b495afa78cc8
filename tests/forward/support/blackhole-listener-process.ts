// Run as its own process by blackhole-listener.ts: listens on a loopback port with an accept
// queue of one, prints the port, then blocks its event loop for good, so nothing ever accepts.
import fs from "node:fs";
import net from "node:net";

const server = net.createServer();
server.listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
  // A synchronous write: the event loop never runs again to flush an asynchronous one.
  fs.writeSync(1, `${(server.address() as net.AddressInfo).port}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});
