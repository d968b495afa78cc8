// The few Deno APIs the Deno adapters use, typed here and reached through globalThis, so the
// project type-checks with Node's types (tsc) and no global `Deno` leaks into router/ code.
// Shapes follow Deno's lib.deno.ns.d.ts (Deno.serve), reduced to what is used.

export interface DenoNetAddr {
  readonly transport: string;
  readonly hostname: string;
  readonly port: number;
}

/** The second argument of a Deno.serve handler. */
export interface DenoServeHandlerInfo {
  readonly remoteAddr: DenoNetAddr;
}

export interface DenoHttpServer {
  readonly addr: DenoNetAddr;
  readonly finished: Promise<void>;
  /** Stops accepting; requests in flight finish. */
  shutdown(): Promise<void>;
}

export interface DenoServeOptions {
  readonly port: number;
  readonly hostname: string;
  readonly onListen?: (addr: DenoNetAddr) => void;
}

export interface DenoApi {
  serve(options: DenoServeOptions, handler: (request: Request, info: DenoServeHandlerInfo) => Response | Promise<Response>): DenoHttpServer;
}

/** `Deno`, or an error that says where this code may run. */
export function denoApi(): DenoApi {
  const deno = (globalThis as { Deno?: DenoApi }).Deno;
  if (deno === undefined) throw new Error("adapters/deno needs the Deno runtime (Deno.serve); elsewhere use adapters/node");
  return deno;
}
