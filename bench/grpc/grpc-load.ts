// The load generator of bench:grpc: @grpc/grpc-js clients, CHANNELS channels (each its own HTTP/2
// connection) with IN_FLIGHT unary calls outstanding on each, for SECONDS; prints one JSON line
// {"calls","errors","seconds"}. Calls are counted when answered OK.
// Usage: node bench/grpc/grpc-load.ts PORT AUTHORITY CHANNELS IN_FLIGHT SECONDS
import * as grpc from "@grpc/grpc-js";
import { echoMethod } from "./echo-method.ts";

const [port, authority, channels, inFlight, seconds] = process.argv.slice(2);
const Client = grpc.makeGenericClientConstructor({ unary: echoMethod }, "Echo");
// grpc-js shares one connection among clients of the same target and options unless each has a
// local subchannel pool: without it, "4 channels" would be one connection.
const clients = Array.from({ length: Number(channels) }, () => new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc.default_authority": authority!, "grpc.use_local_subchannel_pool": 1 }));
const request = Buffer.from("vipr bench:grpc unary call, 48 bytes of payload");
let calls = 0;
let errors = 0;
let running = true;
const started = performance.now();

function loop(client: grpc.Client, done: () => void): void {
  if (!running) return done();
  client.makeUnaryRequest(echoMethod.path, echoMethod.requestSerialize, echoMethod.responseDeserialize, request, (error) => {
    if (error === null) calls++;
    else errors++;
    loop(client, done);
  });
}

const finished = clients.flatMap((client) => Array.from({ length: Number(inFlight) }, () => new Promise<void>((done) => loop(client, done))));
setTimeout(() => (running = false), Number(seconds) * 1000);
await Promise.all(finished);
const elapsed = (performance.now() - started) / 1000;
for (const client of clients) client.close();
console.log(JSON.stringify({ calls, errors, seconds: elapsed }));
process.exit(0);
