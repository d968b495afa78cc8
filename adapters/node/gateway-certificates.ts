// The certificates of the Gateways' HTTPS listeners (router/gateway-api/gateway-listener-tls.ts,
// from their certificateRefs to kubernetes.io/tls Secrets), served by `vipr serve --listen-https`
// and chosen per connection by SNI (RFC 6066 section 3) among the listeners' hostnames, in the
// order the Gateway API gives listeners that differ only by hostname (gateway_types.go, "Listeners
// that are distinct only by Hostname"): an exact hostname, then wildcards, more specific first,
// then a listener without one. Within a listener with several certificates, the one whose
// subjectAltName answers for the name (tls-certificates.ts rules), else its first. A name no
// listener covers gets the first listener's certificate: the handshake completes and the request
// then finds no route (404), as a Gateway answers a host it has no route for.
//
// update() takes each compile's listeners: a changed Secret is served from the next handshake on,
// no restart; a pair whose PEM does not check is left out here and reported by the compiler
// (ResolvedRefs False InvalidCertificateRef, through checkCertificate below).
import { X509Certificate, createPrivateKey } from "node:crypto";
import type { SecureContext } from "node:tls";
import type { ListenerTlsEntry } from "../../router/gateway-api/compile-gateway-routes.ts";
import { hostnameMatches, hostnameSpecificity } from "../../router/gateway-api/gateway-hostnames.ts";
import type { CertificateCheck } from "../../router/gateway-api/gateway-listener-tls.ts";
import { certificatePairOf, type CertificatePair, type TlsCertificateSource } from "./tls-certificates.ts";

/** The compiler's certificate check on this runtime: the PEM parses as a certificate, the key as a
 * private key, and the key is the certificate's (the same check tls-certificates.ts makes). */
export const checkCertificatePem: CertificateCheck = (certPem, keyPem) => {
  try {
    const x509 = new X509Certificate(certPem);
    let key;
    try {
      key = createPrivateKey(keyPem);
    } catch (error) {
      return `tls.key is not a PEM private key: ${(error as Error).message}`;
    }
    return x509.checkPrivateKey(key) ? undefined : "tls.key is not the key of tls.crt";
  } catch (error) {
    return `tls.crt is not a PEM certificate: ${(error as Error).message}`;
  }
};

interface ServedListener {
  readonly hostname: string | undefined;
  readonly pairs: readonly CertificatePair[];
}

export class GatewayCertificateStore implements TlsCertificateSource {
  /** Most specific hostname first; ties in the compiler's order (oldest Gateway first). */
  #listeners: readonly ServedListener[] = [];
  /** Pairs by Secret and PEM, so an unchanged Secret keeps its SecureContext across compiles. */
  #pairs = new Map<string, CertificatePair>();
  #signature = "";
  readonly #reloaded: (() => void)[] = [];
  readonly #log: (line: string) => void;

  constructor(log: (line: string) => void = () => {}) {
    this.#log = log;
  }

  /** The HTTPS listeners of one compile. */
  update(entries: readonly ListenerTlsEntry[]): void {
    const signature = JSON.stringify(entries.map((e) => [e.hostname ?? "", e.certificates.map((c) => [c.secret, c.certPem, c.keyPem])]));
    if (signature === this.#signature) return;
    this.#signature = signature;
    const pairs = new Map<string, CertificatePair>();
    const listeners: ServedListener[] = [];
    for (const entry of entries) {
      const served: CertificatePair[] = [];
      for (const c of entry.certificates) {
        const key = `${c.secret}\n${c.certPem}\n${c.keyPem}`;
        let pair = pairs.get(key) ?? this.#pairs.get(key);
        if (pair === undefined) {
          try {
            pair = certificatePairOf(Buffer.from(c.certPem), Buffer.from(c.keyPem), `Secret ${c.secret} tls.crt`, `Secret ${c.secret} tls.key`);
          } catch (error) {
            this.#log(`gateway TLS: listener ${entry.listener}: ${(error as Error).message}`);
            continue;
          }
        }
        pairs.set(key, pair);
        served.push(pair);
      }
      if (served.length > 0) listeners.push({ hostname: entry.hostname, pairs: served });
    }
    // Stable: listeners of equal specificity keep the compiler's order.
    listeners.sort((a, b) => hostnameSpecificity(b.hostname) - hostnameSpecificity(a.hostname));
    this.#listeners = listeners;
    this.#pairs = pairs;
    this.#log(`gateway TLS: ${listeners.length} HTTPS listener${listeners.length === 1 ? "" : "s"} (${listeners.map((l) => l.hostname ?? "any host").join(", ") || "none"})`);
    for (const listener of this.#reloaded) listener();
  }

  /** The pair a client's SNI name gets, or undefined with no listener at all. */
  pairFor(servername: string | undefined): CertificatePair | undefined {
    const name = servername === undefined || servername === "" ? undefined : servername.toLowerCase().replace(/\.$/, "");
    const listener = (name === undefined ? undefined : this.#listeners.find((l) => l.hostname !== undefined && (l.hostname === name || hostnameMatches(l.hostname, name)))) ?? this.#listeners.find((l) => l.hostname === undefined) ?? this.#listeners[0];
    if (listener === undefined) return undefined;
    if (name !== undefined && listener.pairs.length > 1) {
      const answering = listener.pairs.find((p) => p.names.some((n) => n === name || (n.startsWith("*.") && name.slice(name.indexOf(".") + 1) === n.slice(2))));
      if (answering !== undefined) return answering;
    }
    return listener.pairs[0];
  }

  contextFor(servername: string | undefined): SecureContext | undefined {
    return this.pairFor(servername)?.context;
  }

  defaultPair(): CertificatePair | undefined {
    return this.pairFor(undefined);
  }

  onReload(listener: () => void): void {
    this.#reloaded.push(listener);
  }

  close(): void {}
}
