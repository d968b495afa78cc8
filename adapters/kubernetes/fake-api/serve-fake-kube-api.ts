// The fake API server on a loopback port, for process-level tests (a vipr process started with a
// KUBECONFIG that points here), through the runtime adapter's serve (Node or Deno).
// A network-error fault (Response.error()) cannot be sent over a socket as such: it becomes a 200
// whose body breaks at once, which the client sees as a connection reset.

import { loadRuntimeAdapter, type ServeOptions } from "../../runtime-adapter.ts";
import type { FakeKubeApi } from "./fake-kube-api.ts";
import { connectionReset } from "./fake-watch.ts";
import { fakeKubeConfigYaml, type FakeKubeConfigOptions } from "./fake-kube-config.ts";
import { startTlsFront, type FakeTlsOptions } from "./fake-tls-front.ts";

export interface ServeFakeKubeApiOptions extends Omit<ServeOptions, "tls"> {
  /** Serve https with this key and certificate (kubectl sends tokens only over TLS); the
   * kubeconfig then trusts the certificate (certificate-authority-data). Default plain http. */
  readonly tls?: FakeTlsOptions;
}

export interface ServedFakeKubeApi {
  /** "http://127.0.0.1:<port>", or "https://..." with the tls option. */
  readonly url: string;
  readonly port: number;
  /** A kubeconfig for this server, as YAML. */
  kubeconfig(options?: FakeKubeConfigOptions): string;
  /** Ends the open watches, then stops the server. */
  close(): Promise<void>;
}

function resetConnection(): Response {
  return new Response(
    new ReadableStream({
      start(controller) {
        controller.error(connectionReset("fake API server: injected network error"));
      },
    }),
  );
}

/**
 * @example
 * const fake = new FakeKubeApi();
 * const served = await serveFakeKubeApi(fake);
 * await writeFile(path, served.kubeconfig()); // then KUBECONFIG=path vipr ...
 */
export async function serveFakeKubeApi(api: FakeKubeApi, options: ServeFakeKubeApiOptions = {}): Promise<ServedFakeKubeApi> {
  const runtime = await loadRuntimeAdapter();
  // The TLS front (fake-tls-front.ts) terminates TLS; the server behind it is plain.
  const { tls, ...serveOptions } = options;
  const server = await runtime.serve(
    {
      fetch: async (request: Request) => {
        const response = await api.fetch(request);
        return response.type === "error" ? resetConnection() : response;
      },
    },
    serveOptions,
  );
  const hostname = options.hostname ?? "127.0.0.1";
  const front = tls === undefined ? undefined : await startTlsFront(tls, server.port, hostname);
  const port = front?.port ?? server.port;
  const url = `${front === undefined ? "http" : "https"}://${hostname}:${port}`;
  const certificateAuthority = options.tls?.cert;
  return {
    url,
    port,
    kubeconfig: (config) => fakeKubeConfigYaml(url, { ...(certificateAuthority === undefined ? {} : { certificateAuthority }), ...config }),
    close: async () => {
      api.close();
      await front?.close();
      await server.close();
    },
  };
}
