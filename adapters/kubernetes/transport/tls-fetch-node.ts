// Node: undici 8's fetch through an Agent that trusts the cluster CA (see tls-fetch.ts for why not
// the global fetch). Keep-alive probes after 30 s, as client-node and client-go set them, so a load
// balancer's idle timeout (often 60 s) does not cut a quiet watch unseen.

import { Agent, fetch as undiciFetch } from "undici";
import type { TlsFetch, TlsMaterial } from "./tls-material.ts";

export function createNodeTlsFetch(material: TlsMaterial): TlsFetch {
  const agent = new Agent({
    connect: {
      ...(material.ca === undefined ? {} : { ca: material.ca }),
      ...(material.cert === undefined ? {} : { cert: material.cert }),
      ...(material.key === undefined ? {} : { key: material.key }),
      ...(material.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: material.rejectUnauthorized }),
      ...(material.servername === undefined ? {} : { servername: material.servername }),
      keepAlive: true,
      keepAliveInitialDelay: 30_000,
    },
  });
  return {
    // undici's Response is not the global class, but has the same interface.
    fetch: (url, init) => undiciFetch(url, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>,
    close: () => agent.close(),
  };
}
