// GET requests to the API server with the credentials of a client-node KubeConfig. client-node
// works out the headers and TLS settings (applyToHTTPSOptions: bearer token, re-read token file,
// exec and OIDC plugins, basic auth, impersonation, CA, client certificate); the request itself is
// a fetch, so that a test's msw handlers can answer it with no module mocks, and so that a watch
// body is a web ReadableStream on Node and Deno alike.

import type { KubeConfig } from "@kubernetes/client-node";
import { checkKubeConfig } from "./kube-config.ts";
import { networkError } from "./kube-api-error.ts";
import { createTlsFetch, sameTlsMaterial, type FetchLike, type TlsFetch, type TlsMaterial } from "./transport/tls-fetch.ts";

export type { FetchLike } from "./transport/tls-fetch.ts";

export interface KubeApiClientOptions {
  /** Replaces the transport: every request goes to it, and TLS settings are its business. */
  readonly fetch?: FetchLike;
  /** Default "vipr". */
  readonly userAgent?: string;
}

export interface KubeApiClient {
  /** The API server's base URL, without a trailing slash. */
  readonly server: string;
  /** GET `pathAndQuery` (e.g. "/api/v1/services?limit=500"). Rejects with a KubeApiError of kind
   * "network" when no response came; a response of any status resolves. */
  get(pathAndQuery: string, signal: AbortSignal): Promise<Response>;
  /** Closes connection pools opened for TLS. */
  close(): Promise<void>;
}

/** What applyToHTTPSOptions fills in (node's https.RequestOptions, reduced to what is read). */
interface HttpsOptions {
  headers: Record<string, unknown>;
  auth?: string;
  ca?: Uint8Array | string;
  cert?: Uint8Array | string;
  key?: Uint8Array | string;
  rejectUnauthorized?: boolean;
  servername?: string;
}

function pem(value: Uint8Array | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : new TextDecoder().decode(value);
}

function tlsMaterial(options: HttpsOptions): TlsMaterial | undefined {
  const ca = pem(options.ca);
  const cert = pem(options.cert);
  const key = pem(options.key);
  const material: TlsMaterial = {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(options.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: options.rejectUnauthorized }),
    ...(options.servername === undefined ? {} : { servername: options.servername }),
  };
  return Object.keys(material).length === 0 ? undefined : material;
}

/**
 * @example
 * const client = createKubeApiClient(loadKubeConfig());
 * const response = await client.get("/api/v1/services?limit=1", AbortSignal.timeout(5000));
 */
export function createKubeApiClient(kc: KubeConfig, options: KubeApiClientOptions = {}): KubeApiClient {
  checkKubeConfig(kc);
  const server = kc.getCurrentCluster()!.server.replace(/\/+$/, "");
  const overTls = server.startsWith("https:");
  const userAgent = options.userAgent ?? "vipr";
  let tls: { material: TlsMaterial; transport: Promise<TlsFetch> } | undefined;

  const transportFor = (material: TlsMaterial): Promise<TlsFetch> => {
    if (tls !== undefined && sameTlsMaterial(tls.material, material)) return tls.transport;
    // A rotated CA or client certificate: a new pool; the old one closes once its requests end.
    const old = tls;
    tls = { material, transport: createTlsFetch(material) };
    if (old !== undefined) void old.transport.then((t) => t.close()).catch(() => {});
    return tls.transport;
  };

  return {
    server,
    async get(pathAndQuery, signal) {
      const url = `${server}${pathAndQuery}`;
      try {
        // Per request: the token file may have rotated, an exec plugin's token may have expired.
        const https: HttpsOptions = { headers: {} };
        await kc.applyToHTTPSOptions(https as unknown as Parameters<KubeConfig["applyToHTTPSOptions"]>[0]);
        const headers = new Headers({ accept: "application/json", "user-agent": userAgent });
        for (const [name, value] of Object.entries(https.headers)) if (value !== undefined) headers.set(name, String(value));
        if (https.auth !== undefined && !headers.has("authorization")) {
          headers.set("authorization", `Basic ${btoa(https.auth)}`);
        }
        const init: RequestInit = { method: "GET", headers, signal };
        if (options.fetch !== undefined) return await options.fetch(url, init);
        const material = overTls ? tlsMaterial(https) : undefined;
        if (material === undefined) return await globalThis.fetch(url, init);
        return await (await transportFor(material)).fetch(url, init);
      } catch (error) {
        if (signal.aborted) throw error;
        throw networkError(error, `GET ${url}`);
      }
    },
    async close() {
      const current = tls;
      tls = undefined;
      if (current !== undefined) await (await current.transport).close();
    },
  };
}
