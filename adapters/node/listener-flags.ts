// `vipr serve`'s listener flags (TLS and HTTP/2), parsed here so that serve-command.ts only
// spreads them in: --tls-cert/--tls-key, --tls-dir, --http2-max-streams, --no-http2.

import { UsageError } from "../cli/cli-errors.ts";
import { DEFAULT_MAX_CONCURRENT_STREAMS, type ListenerProtocols } from "./listener-server.ts";
import { CertificateStore, describeCertificates, pairsInDir } from "./tls-certificates.ts";

export const listenerFlagOptions = {
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "tls-dir": { type: "string" },
  "http2-max-streams": { type: "string" },
  "no-http2": { type: "boolean", default: false },
} as const;

export const listenerFlagsHelp = `
TLS and HTTP/2 (the traffic listener):
  --tls-cert FILE --tls-key FILE
                            terminate TLS (1.2 and 1.3) with this PEM certificate and key
  --tls-dir DIR             certificates chosen by SNI: DIR/NAME/tls.crt + tls.key (Kubernetes
                            TLS Secrets mounted under DIR) or DIR/NAME.crt + NAME.key; the
                            --tls-cert pair, else the first by name, serves clients without SNI.
                            Files are reloaded when they change; a broken pair is logged and the
                            one served before is kept. Default: $VIPR_TLS_DIR, where a folder
                            without a pair leaves the listener plain (an optional Secret volume)
  --http2-max-streams N     concurrent HTTP/2 streams per connection (default ${DEFAULT_MAX_CONCURRENT_STREAMS})
  --no-http2                HTTP/1.1 only (default: h2c with prior knowledge on the plain port,
                            h2 by ALPN over TLS)
`;

export interface ListenerFlagValues {
  readonly "tls-cert"?: string | undefined;
  readonly "tls-key"?: string | undefined;
  readonly "tls-dir"?: string | undefined;
  readonly "http2-max-streams"?: string | undefined;
  readonly "no-http2"?: boolean | undefined;
}

/** The listener flags alone, JSON-safe: what `vipr serve --workers` hands each worker, which reads
 * its certificates itself (adapters/workers/worker-main.ts). */
export function listenerFlagValues(values: ListenerFlagValues): ListenerFlagValues {
  const { "tls-cert": tlsCert, "tls-key": tlsKey, "tls-dir": tlsDir, "http2-max-streams": maxStreams, "no-http2": noHttp2 } = values;
  return { "tls-cert": tlsCert, "tls-key": tlsKey, "tls-dir": tlsDir, "http2-max-streams": maxStreams, "no-http2": noHttp2 };
}

export interface ListenerFromFlags extends ListenerProtocols {
  /** For X-Forwarded-Proto and the start-up line. */
  readonly proto: "http" | "https";
}

/** The listener's protocols from flags; the certificates are read (and checked) now and watched
 * for changes. */
export function listenerFromFlags(values: ListenerFlagValues, log: (line: string) => void): ListenerFromFlags {
  const certFile = values["tls-cert"];
  const keyFile = values["tls-key"];
  // $VIPR_TLS_DIR is --tls-dir's default, for a manifest that mounts a TLS Secret that may not
  // exist yet (an optional Secret volume is an empty folder): from the environment, a folder
  // without a pair leaves the listener plain, and says so. From the flag it is an error.
  const fromEnv = values["tls-dir"] === undefined && (process.env["VIPR_TLS_DIR"] ?? "") !== "";
  let dir = values["tls-dir"] ?? (fromEnv ? process.env["VIPR_TLS_DIR"] : undefined);
  if (fromEnv && certFile === undefined && !hasPairs(dir!)) {
    log(`TLS: no certificate pair in $VIPR_TLS_DIR (${dir}): the listener serves plain HTTP`);
    dir = undefined;
  }
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError("--tls-cert and --tls-key go together");
  let http2: ListenerProtocols["http2"];
  if (values["no-http2"] !== true) {
    const text = values["http2-max-streams"];
    const streams = text === undefined ? DEFAULT_MAX_CONCURRENT_STREAMS : Number(text);
    if (!(Number.isInteger(streams) && streams >= 1 && streams <= 2 ** 31 - 1) || text?.trim() === "") {
      throw new UsageError(`--http2-max-streams ${JSON.stringify(text)}: expected a whole number from 1 to ${2 ** 31 - 1}`);
    }
    http2 = { maxConcurrentStreams: streams };
  } else if (values["http2-max-streams"] !== undefined) {
    throw new UsageError("--http2-max-streams with --no-http2: HTTP/2 is off");
  }
  if (certFile === undefined && dir === undefined) return { proto: "http", ...(http2 === undefined ? {} : { http2 }) };
  let tls: CertificateStore;
  try {
    tls = new CertificateStore({ ...(certFile === undefined ? {} : { certFile, keyFile: keyFile! }), ...(dir === undefined ? {} : { dir }) }, log);
  } catch (error) {
    throw new UsageError(`${certFile === undefined ? "--tls-dir" : "--tls-cert/--tls-key"}: ${(error as Error).message}`);
  }
  tls.watch();
  log(`TLS certificates: ${describeCertificates(tls)}`);
  return { proto: "https", tls, ...(http2 === undefined ? {} : { http2 }) };
}

function hasPairs(dir: string): boolean {
  try {
    return pairsInDir(dir).length > 0;
  } catch {
    return false;
  }
}
