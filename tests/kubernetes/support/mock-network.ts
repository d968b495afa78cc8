// msw on both runtimes. msw 3's setupServer (msw/node) intercepts Node's fetch below the fetch API
// (at the socket), which Deno's native fetch never reaches; there the web FetchInterceptor, which
// patches globalThis.fetch itself, is mounted through msw's network API instead. The handlers are
// the same msw handlers either way.
import type { RequestHandler } from "msw";

export interface MockNetwork {
  close(): void;
}

export async function mockNetwork(...handlers: RequestHandler[]): Promise<MockNetwork> {
  if ("Deno" in globalThis) {
    const { defineNetwork, InterceptorSource } = await import("msw/experimental");
    const { FetchInterceptor } = await import("@mswjs/interceptors/fetch/web");
    // `as never`: the web build declares its Interceptor class in a .d.ts of its own, so TypeScript
    // sees two classes where the running code has one.
    const network = defineNetwork({ sources: [new InterceptorSource({ interceptors: [new FetchInterceptor() as never] })], handlers, context: { quiet: true } });
    network.enable();
    return { close: () => network.disable() };
  }
  const { setupServer } = await import("msw/node");
  const server = setupServer(...handlers);
  server.listen();
  return { close: () => server.close() };
}
