// Deno: the global fetch with a Deno.HttpClient that trusts the cluster CA. Deno has no per-client
// switch to skip certificate checks (only the --unsafely-ignore-certificate-errors flag), so
// insecure-skip-tls-verify is refused here with that advice rather than silently ignored.

import type { TlsFetch, TlsMaterial } from "./tls-material.ts";

/** Deno.createHttpClient's TLS options (lib.deno.ns.d.ts, CreateHttpClientOptions). */
interface DenoTlsClientOptions {
  readonly caCerts?: string[];
  readonly cert?: string;
  readonly key?: string;
}

interface DenoHttpClient {
  close(): void;
}

interface DenoTls {
  createHttpClient(options: DenoTlsClientOptions): DenoHttpClient;
}

export function createDenoTlsFetch(material: TlsMaterial): TlsFetch {
  if (material.rejectUnauthorized === false) {
    throw new Error("insecure-skip-tls-verify: Deno cannot turn certificate checks off per client; run with --unsafely-ignore-certificate-errors=<host>, or give the cluster's CA (certificate-authority-data)");
  }
  const deno = (globalThis as unknown as { Deno: DenoTls }).Deno;
  const client = deno.createHttpClient({
    ...(material.ca === undefined ? {} : { caCerts: [material.ca] }),
    ...(material.cert === undefined ? {} : { cert: material.cert }),
    ...(material.key === undefined ? {} : { key: material.key }),
  });
  return {
    // `client` is Deno's extension of RequestInit; looked up per call so a patched fetch applies.
    fetch: (url, init) => globalThis.fetch(url, { ...init, client } as RequestInit),
    close: async () => client.close(),
  };
}
