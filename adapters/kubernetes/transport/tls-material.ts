// What the TLS-capable fetch is made from and what it gives, shared by tls-fetch.ts (which picks
// the runtime's) and the two runtimes' makers (tls-fetch-node.ts, tls-fetch-deno.ts), so that the
// runtimes do not import the module that imports them.

/** What a kubeconfig asks of TLS, as client-node's applyToHTTPSOptions reports it. */
export interface TlsMaterial {
  /** PEM: the cluster CA. */
  readonly ca?: string;
  /** PEM: a client certificate and its key. */
  readonly cert?: string;
  readonly key?: string;
  /** false: insecure-skip-tls-verify. */
  readonly rejectUnauthorized?: boolean;
  /** tls-server-name: the name to check the server's certificate against. */
  readonly servername?: string;
}

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface TlsFetch {
  readonly fetch: FetchLike;
  /** Closes the connection pool. */
  close(): Promise<void>;
}
