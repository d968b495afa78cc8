// A Deno baseline: a minimal hand-written proxy, Deno.serve + fetch, to one backend, the fastest
// proxy Deno offers. vipr on Deno is compared against it and against baseline-node.ts run by Deno
// (node:http + undici, the stack vipr uses on Deno).
// Usage: deno run -A bench/proxy/baseline-deno.ts PORT BACKEND_PORT
interface DenoServe {
  serve(options: { port: number; hostname: string; onListen(addr: { port: number }): void }, handler: (request: Request) => Promise<Response>): unknown;
  args: string[];
}
const deno = (globalThis as unknown as { Deno: DenoServe }).Deno;
const backend = `http://127.0.0.1:${deno.args[1]}`;
deno.serve({ port: Number(deno.args[0] ?? 0), hostname: "127.0.0.1", onListen: ({ port }) => console.log(`ready ${port}`) }, async (request) => {
  const url = new URL(request.url);
  const upstream = await fetch(backend + url.pathname + url.search, { method: request.method, headers: request.headers, body: request.body, redirect: "manual" });
  return new Response(upstream.body, { status: upstream.status, headers: upstream.headers });
});
