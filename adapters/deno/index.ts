/** vipr's Deno edge: serve a Hono app with Deno.serve, forward with fetch. @module */
export { serveDeno, denoClientAddress, denoRequestHeaders, type DenoServer, type ServeDenoOptions } from "./serve-deno.ts";
export { createFetchTransport, type FetchTransportOptions } from "./fetch-transport.ts";
