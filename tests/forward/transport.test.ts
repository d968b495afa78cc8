// The upstream transport behind the serve adapter, against real loopback backends: the undici
// transport on @hono/node-server, the edge of both runtimes (adapters/runtime-adapter.ts); run
// under Node and under Deno (`deno run -A node_modules/vitest/vitest.mjs run tests/forward`).

import { createHash } from "node:crypto";
import http from "node:http";
import { Hono } from "hono";
import type { Context } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRuntimeAdapter } from "../../adapters/runtime-adapter.ts";
import { createHeaderForwarder } from "../../router/forward/forward-headers.ts";
import type { UpstreamOutcome, UpstreamTarget } from "../../router/forward/upstream-transport.ts";
import { UpstreamError } from "../../router/forward/upstream-transport.ts";
import type { Backend } from "./loopback-backend.ts";
import { deadPort, startBackend, streamChunks } from "./loopback-backend.ts";

async function pickRuntime() {
  const adapter = await loadRuntimeAdapter();
  return {
    name: `${adapter.name}: undici transport on @hono/node-server`,
    transport: adapter.createTransport(),
    serve: (app: Hono) => adapter.serve(app),
    clientAddressOf: adapter.clientAddress,
    requestHeadersOf: adapter.requestHeaders,
  };
}

const runtime = await pickRuntime();
const forwarder = createHeaderForwarder();
const bigBytes = 20 * 1024 * 1024;

let backend: Backend;
let keepAliveBackend: Backend;
let deadTarget: UpstreamTarget;
let app: Hono;
let vipr: { port: number; close(): Promise<void> };
const outcomes: { path: string; outcome: UpstreamOutcome }[] = [];
/** What forward() resolved with, by upstream path. */
const returned = new Map<string, Response>();

const target = (port: number, identity: string): UpstreamTarget => ({ address: "127.0.0.1", port, addressType: "IPv4", identity });

/** The test router: "/<route>/<upstream path>", route one of live, keepalive, dead, retry. */
function buildApp(): Hono {
  const hono = new Hono();
  hono.all("*", async (c: Context) => {
    const url = c.req.url;
    const full = url.slice(url.indexOf("/", url.indexOf("//") + 2));
    const cut = full.indexOf("/", 1);
    const route = full.slice(1, cut);
    const path = full.slice(cut);
    const headers = forwarder.request(runtime.requestHeadersOf(c), { clientAddress: runtime.clientAddressOf(c), proto: "http" });
    const call = {
      method: c.req.method,
      path,
      headers,
      rewriteResponseHeaders: forwarder.response,
      connectTimeoutMs: 1000,
      responseTimeoutMs: path === "/hang" ? 300 : 10_000,
      idleTimeoutMs: path === "/stall" ? 300 : 2000,
      onEnd: (outcome: UpstreamOutcome) => outcomes.push({ path, outcome }),
    };
    const first = route === "dead" || route === "retry" ? deadTarget : route === "keepalive" ? target(keepAliveBackend.port, "keepalive") : target(backend.port, "live");
    try {
      try {
        const response = await runtime.transport.forward(c, first, call);
        returned.set(path, response);
        return response;
      } catch (error) {
        // The router's retry rule in miniature: another target, only when nothing was sent.
        if (route === "retry" && error instanceof UpstreamError && !error.sentRequest) return await runtime.transport.forward(c, target(backend.port, "live"), call);
        throw error;
      }
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      return c.json({ kind: error.kind, sentRequest: error.sentRequest, message: error.message }, error.kind === "timeout" ? 504 : 502);
    }
  });
  return hono;
}

interface Reply {
  status: number;
  headers: string[];
  body: string;
}

/** A downstream request with node:http, which lets a test set Host and hop-by-hop fields. */
function send(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port: vipr.port, path, method: options.method ?? "GET", headers: options.headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.rawHeaders, body: Buffer.concat(chunks).toString("utf8") }));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(options.body);
  });
}

function values(list: readonly string[], name: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < list.length; i += 2) if (list[i]!.toLowerCase() === name) found.push(list[i + 1]!);
  return found;
}

async function outcomeOf(path: string): Promise<UpstreamOutcome> {
  for (let i = 0; i < 100; i++) {
    const found = outcomes.find((entry) => entry.path === path);
    if (found !== undefined) return found.outcome;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no onEnd for ${path}`);
}

beforeAll(async () => {
  backend = await startBackend();
  keepAliveBackend = await startBackend();
  deadTarget = target(await deadPort(), "dead");
  app = buildApp();
  vipr = await runtime.serve(app);
});

afterAll(async () => {
  await vipr?.close();
  await runtime.transport.close();
  await backend?.close();
  await keepAliveBackend?.close();
});

describe(runtime.name, () => {
  it("forwards a GET with the request fields rewritten, and the response fields back", async () => {
    const reply = await send("/live/echo?x=1", {
      headers: {
        host: "simpleservice:8080",
        connection: "keep-alive, x-hop",
        "x-hop": "dropped",
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "x-forwarded-for": "6.6.6.6",
      },
    });
    expect(reply.status).toBe(200);
    const seen = JSON.parse(reply.body) as { method: string; url: string; headers: string[] };
    expect(seen.method).toBe("GET");
    expect(seen.url).toBe("/echo?x=1");
    expect(values(seen.headers, "host")).toEqual(["simpleservice:8080"]);
    expect(values(seen.headers, "x-hop")).toEqual([]);
    expect(values(seen.headers, "traceparent")).toEqual(["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]);
    expect(values(seen.headers, "x-forwarded-for")).toEqual(["127.0.0.1"]);
    expect(values(seen.headers, "x-forwarded-proto")).toEqual(["http"]);
    expect(values(seen.headers, "x-forwarded-host")).toEqual(["simpleservice:8080"]);
    expect(values(seen.headers, "forwarded")).toEqual(['for=127.0.0.1;proto=http;host="simpleservice:8080"']);
    expect(values(seen.headers, "via")).toEqual(["1.1 vipr"]);
    expect(values(reply.headers, "set-cookie")).toEqual(["a=1", "b=2"]);
    expect(values(reply.headers, "x-backend-hop")).toEqual([]);
    expect(values(reply.headers, "via")).toEqual(["1.1 vipr"]);
    // The response went straight into the raw ServerResponse.
    expect(returned.get("/echo?x=1")?.headers.has("x-hono-already-sent")).toBe(true);
  });

  it("forwards a POST body and relays a redirect instead of following it", async () => {
    const reply = await send("/live/echo", { method: "POST", body: "hello", headers: { "content-type": "text/plain" } });
    const seen = JSON.parse(reply.body) as { method: string; body: string };
    expect([seen.method, seen.body]).toEqual(["POST", "hello"]);
    const redirect = await send("/live/redirect");
    expect(redirect.status).toBe(302);
    expect(values(redirect.headers, "location")).toEqual(["/elsewhere"]);
  });

  it("streams the response: the first chunk arrives before the backend has sent the rest", async () => {
    const response = await fetch(`http://127.0.0.1:${vipr.port}/live/gated`);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("first;")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toBe("first;");
    backend.openGate();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toBe("first;second");
  });

  it("streams the request: the backend sees the first chunk before the client has sent the rest", async () => {
    const encoder = new TextEncoder();
    let step = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (step === 0) controller.enqueue(encoder.encode("part one;"));
        else if (step === 1) {
          await backend.firstUploadChunk;
          controller.enqueue(encoder.encode("part two"));
        } else controller.close();
        step++;
      },
    });
    const response = await fetch(`http://127.0.0.1:${vipr.port}/live/gated-upload`, { method: "POST", body, duplex: "half" } as RequestInit);
    expect(await response.json()).toEqual({ bytes: 17 });
  });

  it("streams 20 MB up and 20 MB down with matching checksums", async () => {
    const sent = createHash("sha256");
    const chunks = streamChunks(bigBytes);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.next();
        if (next.done) controller.close();
        else {
          sent.update(next.value);
          controller.enqueue(next.value);
        }
      },
    });
    const upload = await fetch(`http://127.0.0.1:${vipr.port}/live/upload`, { method: "POST", body, duplex: "half" } as RequestInit);
    expect(await upload.json()).toEqual({ bytes: bigBytes, sha256: sent.digest("hex") });

    const download = await fetch(`http://127.0.0.1:${vipr.port}/live/download?bytes=${bigBytes}`);
    const received = createHash("sha256");
    let bytes = 0;
    for await (const chunk of download.body!) {
      bytes += chunk.byteLength;
      received.update(chunk);
    }
    const expected = createHash("sha256");
    for (const chunk of streamChunks(bigBytes)) expected.update(chunk);
    expect(bytes).toBe(bigBytes);
    expect(received.digest("hex")).toBe(expected.digest("hex"));
    expect(await outcomeOf(`/download?bytes=${bigBytes}`)).toEqual({ ok: true, bytesOut: bigBytes });
  });

  it("reuses one keep-alive connection for sequential requests", async () => {
    const before = keepAliveBackend.connections();
    for (let i = 0; i < 10; i++) expect((await send("/keepalive/echo")).status).toBe(200);
    expect(keepAliveBackend.connections() - before).toBe(1);
  });

  it("reports a refused connection as kind connect, nothing sent", async () => {
    const reply = await send("/dead/echo");
    expect(reply.status).toBe(502);
    expect(JSON.parse(reply.body)).toMatchObject({ kind: "connect", sentRequest: false });
  });

  it("can send a POST body again after a refused connection", async () => {
    const reply = await send("/retry/echo", { method: "POST", body: "sent twice, arrived once" });
    expect(reply.status).toBe(200);
    expect((JSON.parse(reply.body) as { body: string }).body).toBe("sent twice, arrived once");
  });

  it("reports a backend that never answers as kind timeout", async () => {
    const started = performance.now();
    const reply = await send("/live/hang");
    expect(reply.status).toBe(504);
    expect(JSON.parse(reply.body)).toMatchObject({ kind: "timeout", sentRequest: true });
    // Never before the 300 ms response timeout; how soon after is tests/forward/timeouts-fire.test.ts.
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it("aborts the client's body when the backend resets mid-response, and reports it in onEnd", async () => {
    const response = await fetch(`http://127.0.0.1:${vipr.port}/live/reset`);
    expect(response.status).toBe(200);
    let bytes = 0;
    const read = (async () => {
      for await (const chunk of response.body!) bytes += chunk.byteLength;
    })();
    await expect(read).rejects.toThrow();
    expect(bytes).toBeLessThan(1_000_000);
    const outcome = await outcomeOf("/reset");
    expect(outcome.ok).toBe(false);
    expect(outcome.error?.kind).toBe("reset");
    expect(outcome.error?.sentRequest).toBe(true);
  });

  it("reports a response body idle for too long as kind timeout in onEnd, aborting the client's body", async () => {
    const response = await fetch(`http://127.0.0.1:${vipr.port}/live/stall`);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    const outcome = await outcomeOf("/stall");
    expect([outcome.ok, outcome.error?.kind]).toEqual([false, "timeout"]);
  });

  it("stops the upstream exchange when the client leaves mid-body, reporting kind aborted", async () => {
    const response = await fetch(`http://127.0.0.1:${vipr.port}/live/trickle`);
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    const outcome = await outcomeOf("/trickle");
    expect([outcome.ok, outcome.error?.kind]).toEqual([false, "aborted"]);
    await backend.trickleClosed;
  });

  it("works without the runtime's raw objects (app.request), streaming a Web Response", async () => {
    const get = await app.request("/live/echo?via=app.request", { headers: { host: "svc" } });
    expect(get.status).toBe(200);
    const seen = (await get.json()) as { headers: string[] };
    expect(values(seen.headers, "forwarded")).toEqual(["for=unknown;proto=http;host=svc"]);
    expect(get.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    const post = await app.request("/retry/echo", { method: "POST", body: "via app.request", headers: { host: "svc" } });
    expect(((await post.json()) as { body: string }).body).toBe("via app.request");
  });
});
