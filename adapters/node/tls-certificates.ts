// The certificates vipr's TLS listener serves, chosen per connection by SNI (RFC 6066 section 3),
// read from files and read again when they change, without a restart.
//
// Two sources: one pair (--tls-cert / --tls-key), and a folder of pairs (--tls-dir) in either of
// two layouts, both read:
// - a subfolder per certificate holding tls.crt and tls.key: what a Kubernetes TLS Secret
//   (type kubernetes.io/tls) mounted as a volume looks like, so several Secrets mounted under one
//   folder (or one projected volume) need no renaming;
// - NAME.crt next to NAME.key in the folder itself.
// A certificate answers for the DNS names of its subjectAltName (its CN when it has none); the
// first pair read (the --tls-cert pair when both are given, else the folder's first by name) is
// the default, for clients that send no SNI or a name no certificate has.
//
// Every pair is checked before it is used: the certificate parses and the key is its key
// (X509Certificate.checkPrivateKey). Deno's tls.createSecureContext accepts any bytes and only
// fails at the handshake, so the check is done here, the same on both runtimes. On a reload a
// pair that fails the check is logged and the pair that was served before under that path is
// kept: a half-written or mismatched renewal never takes a working name offline.

import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFileSync, readdirSync, statSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname, join } from "node:path";
import { createSecureContext, type SecureContext } from "node:tls";

/** TLS 1.2 and 1.3 only: TLS 1.0 and 1.1 are deprecated (RFC 8996). */
export const TLS_MIN_VERSION = "TLSv1.2";

/** Where the certificates come from: one pair, a folder of pairs, or both. */
export interface CertificateFiles {
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly dir?: string;
}

/** One certificate and its key, checked, with the names it answers for. */
export interface CertificatePair {
  /** The certificate file (the pair's identity across reloads). */
  readonly certFile: string;
  readonly keyFile: string;
  /** Lower-case DNS names, wildcards as "*.example.com". */
  readonly names: readonly string[];
  readonly context: SecureContext;
  /** The PEM bytes, for the listener's default certificate. */
  readonly cert: Buffer;
  readonly key: Buffer;
  /** The certificate's notAfter, as X509Certificate prints it. */
  readonly validTo: string;
}

/** What a TLS listener asks of its certificates (listener-server.ts): a CertificateStore (files),
 * or a GatewayCertificateStore (the certificateRefs of Gateway HTTPS listeners). */
export interface TlsCertificateSource {
  /** The context for a client's SNI name; undefined: none (the handshake fails). */
  contextFor(servername: string | undefined): SecureContext | undefined;
  /** The certificate for clients that send no SNI; undefined: none yet. */
  defaultPair(): { readonly cert: Buffer; readonly key: Buffer } | undefined;
  /** Called after each change of what is served. */
  onReload(listener: () => void): void;
  close(): void;
}

/** Reads and checks one pair; throws with what is wrong, naming the files. */
export function readCertificatePair(certFile: string, keyFile: string): CertificatePair {
  let cert: Buffer, key: Buffer;
  try {
    cert = readFileSync(certFile);
    key = readFileSync(keyFile);
  } catch (error) {
    throw new Error(`cannot read ${certFile} / ${keyFile}: ${(error as Error).message}`);
  }
  return certificatePairOf(cert, key, certFile, keyFile);
}

/** Checks a PEM certificate and key (the certificate parses, the key is its key) and makes the
 * pair; throws with what is wrong, naming `certFile` and `keyFile` (paths, or a Secret's keys). */
export function certificatePairOf(cert: Buffer, key: Buffer, certFile: string, keyFile: string): CertificatePair {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (error) {
    throw new Error(`${certFile} is not a PEM certificate: ${(error as Error).message}`);
  }
  let matches: boolean;
  try {
    matches = x509.checkPrivateKey(createPrivateKey(key));
  } catch (error) {
    throw new Error(`${keyFile} is not a PEM private key: ${(error as Error).message}`);
  }
  if (!matches) throw new Error(`${keyFile} is not the key of ${certFile}`);
  return { certFile, keyFile, cert, key, names: certificateNames(x509), context: createSecureContext({ cert, key, minVersion: TLS_MIN_VERSION }), validTo: x509.validTo };
}

/** DNS names of the subjectAltName (RFC 6125 section 6.4.4: when there are any, CN is not used). */
function certificateNames(x509: X509Certificate): string[] {
  const names: string[] = [];
  for (const entry of (x509.subjectAltName ?? "").split(/,\s*/)) {
    if (entry.startsWith("DNS:")) names.push(entry.slice(4).toLowerCase());
  }
  if (names.length > 0) return names;
  const cn = /(?:^|\n|,\s*)CN=([^,\n]+)/.exec(x509.subject)?.[1];
  return cn === undefined ? [] : [cn.trim().toLowerCase()];
}

/** The pairs a folder holds, in name order: SUB/tls.crt + SUB/tls.key, and NAME.crt + NAME.key. */
export function pairsInDir(dir: string): { certFile: string; keyFile: string }[] {
  const pairs: { certFile: string; keyFile: string }[] = [];
  // Kubernetes' atomic writer keeps the real files under "..data" and "..<timestamp>" folders,
  // linked from the visible names: only the visible names are read.
  const entries = readdirSync(dir).filter((name) => !name.startsWith("..")).sort();
  for (const name of entries) {
    const path = join(dir, name);
    if (name.endsWith(".crt")) {
      const keyFile = join(dir, `${name.slice(0, -4)}.key`);
      if (isFile(keyFile)) pairs.push({ certFile: path, keyFile });
    } else if (isDirectory(path)) {
      const certFile = join(path, "tls.crt");
      const keyFile = join(path, "tls.key");
      if (isFile(certFile) && isFile(keyFile)) pairs.push({ certFile, keyFile });
    }
  }
  return pairs;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The set of pairs served, and the SNI lookup over them. */
export class CertificateStore implements TlsCertificateSource {
  #pairs: readonly CertificatePair[] = [];
  #exact = new Map<string, CertificatePair>();
  #wildcard = new Map<string, CertificatePair>();
  readonly #files: CertificateFiles;
  readonly #log: (line: string) => void;
  #watchers: FSWatcher[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #reloaded: (() => void)[] = [];
  /** Reloads done (each a read of every file), for tests and logs. */
  reloads = 0;

  /** Reads every pair now; throws when none can be served (a bad pair at start is an error, not
   * a log line: vipr would otherwise start without the certificate it was told to use). */
  constructor(files: CertificateFiles, log: (line: string) => void = () => {}) {
    if ((files.certFile === undefined) !== (files.keyFile === undefined)) throw new Error("a certificate file needs its key file, and a key file its certificate");
    if (files.certFile === undefined && files.dir === undefined) throw new Error("no certificate given: a certificate and key file, or a folder of pairs");
    this.#files = files;
    this.#log = log;
    const { pairs, problems } = this.#read(new Map());
    if (problems.length > 0) throw new Error(problems.join("; "));
    if (pairs.length === 0) throw new Error(`no certificate pair in ${files.dir}: expected SUBFOLDER/tls.crt + tls.key or NAME.crt + NAME.key`);
    this.#use(pairs);
  }

  get pairs(): readonly CertificatePair[] {
    return this.#pairs;
  }

  /** The context for a client's SNI name: an exact name, then a wildcard one label up (RFC 6125
   * section 6.4.3: "*" stands for exactly one left-most label), else the default pair. */
  contextFor(servername: string | undefined): SecureContext {
    return this.pairFor(servername).context;
  }

  defaultPair(): CertificatePair {
    return this.#pairs[0]!;
  }

  pairFor(servername: string | undefined): CertificatePair {
    if (servername !== undefined && servername !== "") {
      const name = servername.toLowerCase().replace(/\.$/, "");
      const exact = this.#exact.get(name);
      if (exact !== undefined) return exact;
      const dot = name.indexOf(".");
      if (dot > 0) {
        const wildcard = this.#wildcard.get(name.slice(dot + 1));
        if (wildcard !== undefined) return wildcard;
      }
    }
    return this.#pairs[0]!;
  }

  /** Called after each reload that changed what is served. */
  onReload(listener: () => void): void {
    this.#reloaded.push(listener);
  }

  /** Reads every pair again; a pair that fails is logged, and what was served from its files
   * before is kept. */
  reload(): void {
    const previous = new Map(this.#pairs.map((pair) => [pair.certFile, pair]));
    const { pairs, problems } = this.#read(previous);
    this.reloads++;
    for (const problem of problems) this.#log(`TLS reload: ${problem}; the certificate served before is kept`);
    if (pairs.length === 0) {
      this.#log("TLS reload: no certificate pair could be read; the certificates served before are kept");
      return;
    }
    this.#use(pairs);
    for (const listener of this.#reloaded) listener();
    this.#log(`TLS reload: ${pairs.length} certificate${pairs.length === 1 ? "" : "s"} (${pairs.flatMap((pair) => pair.names).join(", ")})`);
  }

  /**
   * Reloads when the files change: fs.watch on the folders that hold them (a file replaced by a
   * rename, or a Kubernetes Secret's "..data" link swapped, is seen on its folder, not on the old
   * file), debounced so that a cert and key written one after the other are read together.
   */
  watch(debounceMs = 200): void {
    const folders = new Set<string>();
    if (this.#files.certFile !== undefined) folders.add(dirname(this.#files.certFile)).add(dirname(this.#files.keyFile!));
    if (this.#files.dir !== undefined) {
      folders.add(this.#files.dir);
      for (const pair of pairsInDir(this.#files.dir)) folders.add(dirname(pair.certFile));
    }
    for (const folder of folders) {
      try {
        const watcher = watch(folder, () => this.#changed(debounceMs));
        watcher.on("error", (error) => this.#log(`TLS watch of ${folder}: ${error.message}`));
        this.#watchers.push(watcher);
      } catch (error) {
        this.#log(`TLS watch of ${folder}: ${(error as Error).message}; certificates there are not reloaded`);
      }
    }
  }

  close(): void {
    clearTimeout(this.#timer);
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers = [];
  }

  #changed(debounceMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.reload();
      // A new subfolder (another Secret mounted) gets watched too.
      if (this.#files.dir !== undefined) this.#watchNewFolders(debounceMs);
    }, debounceMs);
    this.#timer.unref?.();
  }

  #watchNewFolders(debounceMs: number): void {
    if (this.#watchers.length === 0) return; // closed meanwhile
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers = [];
    this.watch(debounceMs);
  }

  #read(previous: ReadonlyMap<string, CertificatePair>): { pairs: CertificatePair[]; problems: string[] } {
    const wanted: { certFile: string; keyFile: string }[] = [];
    const problems: string[] = [];
    if (this.#files.certFile !== undefined) wanted.push({ certFile: this.#files.certFile, keyFile: this.#files.keyFile! });
    if (this.#files.dir !== undefined) {
      try {
        wanted.push(...pairsInDir(this.#files.dir));
      } catch (error) {
        problems.push(`cannot read the folder ${this.#files.dir}: ${(error as Error).message}`);
      }
    }
    const pairs: CertificatePair[] = [];
    for (const { certFile, keyFile } of wanted) {
      try {
        pairs.push(readCertificatePair(certFile, keyFile));
      } catch (error) {
        problems.push((error as Error).message);
        const kept = previous.get(certFile);
        if (kept !== undefined) pairs.push(kept);
      }
    }
    return { pairs, problems };
  }

  #use(pairs: CertificatePair[]): void {
    const exact = new Map<string, CertificatePair>();
    const wildcard = new Map<string, CertificatePair>();
    for (const pair of pairs) {
      for (const name of pair.names) {
        // The first pair with a name keeps it: the --tls-cert pair, then the folder's in name order.
        if (name.startsWith("*.")) {
          if (!wildcard.has(name.slice(2))) wildcard.set(name.slice(2), pair);
        } else if (!exact.has(name)) exact.set(name, pair);
      }
    }
    this.#pairs = pairs;
    this.#exact = exact;
    this.#wildcard = wildcard;
  }
}

/** A short description of a store's certificates for the start-up log. */
export function describeCertificates(store: CertificateStore): string {
  return store.pairs.map((pair) => `${basename(dirname(pair.certFile))}/${basename(pair.certFile)} (${pair.names.join(", ") || "no DNS name"})`).join(", ");
}
