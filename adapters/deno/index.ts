/** vipr inside Deno.serve, for apps that must live there (opt-in; `vipr serve` on Deno uses the
 * Node edge, adapters/runtime-adapter.ts): serve a Hono app with Deno.serve and forward with the
 * undici transport, the one transport of both runtimes. Deno.serve parses HTTP/1 with hyper, not
 * llhttp: the README ("Under Deno") lists where its answers differ. @module */
export { serveDeno, guardedDenoHandler, denoClientAddress, denoRequestHeaders, type DenoServer, type ServeDenoOptions } from "./serve-deno.ts";
export { createUndiciTransport, type UndiciTransportOptions } from "../node/undici-transport.ts";
