// A fetch that trusts the cluster's CA (and presents a client certificate, when the kubeconfig has
// one). The web fetch API has no field for either, so each runtime has its own way:
// - Node: undici's fetch with an undici Agent whose `connect` options carry ca, cert and key
//   (tls-fetch-node.ts). Node's global fetch bundles its own undici, whose dispatcher contract
//   differs from undici 8's Agent ("invalid onRequestStart method"), so both come from undici 8.
// - Deno: the global fetch with a client from Deno.createHttpClient({ caCerts, cert, key })
//   (tls-fetch-deno.ts).
// Only requests to an https server with such settings go this way; everything else (and every
// request when a test injects its own fetch) uses the global fetch, which msw intercepts.

import { isDeno } from "../../runtime-adapter.ts";
import type { TlsFetch, TlsMaterial } from "./tls-material.ts";

export type { FetchLike, TlsFetch, TlsMaterial } from "./tls-material.ts";

/** The runtime's TLS-capable fetch for `material`. */
export async function createTlsFetch(material: TlsMaterial): Promise<TlsFetch> {
  if (isDeno()) {
    const { createDenoTlsFetch } = await import("./tls-fetch-deno.ts");
    return createDenoTlsFetch(material);
  }
  const { createNodeTlsFetch } = await import("./tls-fetch-node.ts");
  return createNodeTlsFetch(material);
}

/** Equal material needs no new pool; a rotated CA or client certificate does. */
export function sameTlsMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  return a.ca === b.ca && a.cert === b.cert && a.key === b.key && a.rejectUnauthorized === b.rejectUnauthorized && a.servername === b.servername;
}
