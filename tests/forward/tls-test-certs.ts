// Certificates and the real TLS clients (openssl, curl) the TLS and HTTP/2 tests use. Certificates
// are made by `openssl req -x509` as a user would make a self-signed one; each test run makes its
// own in a temporary folder.
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end; never rejects (the exit code is part of the answer). */
export function run(command: string, args: readonly string[], input = ""): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(command, [...args], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_PROXY: "*", no_proxy: "*" } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof (error as { code?: unknown }).code === "number" ? ((error as { code: number }).code) : null;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    // A command that exits before reading its input (openssl after a failed handshake) closes the
    // pipe: EPIPE is then no failure of the test.
    child.stdin?.on("error", () => {});
    child.stdin?.end(input);
  });
}

/** A self-signed certificate for `names` (the first is also the CN), written as certFile/keyFile. */
export async function makeCertificate(certFile: string, keyFile: string, names: readonly string[]): Promise<string> {
  const result = await run("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
    "-keyout", keyFile, "-out", certFile, "-subj", `/CN=${names[0]}`, "-addext", `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}`,
  ]);
  if (result.code !== 0) throw new Error(`openssl req failed: ${result.stderr}`);
  return fingerprintOf(await readFile(certFile, "utf8"));
}

export function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/** What `openssl s_client` sees at 127.0.0.1:port: the peer certificate's fingerprint (undefined
 * when the handshake failed) and the protocol agreed. */
export async function sClient(port: number, options: { servername?: string; args?: readonly string[] } = {}): Promise<{ fingerprint: string | undefined; protocol: string | undefined; alpn: string | undefined; result: RunResult }> {
  const args = ["s_client", "-connect", `127.0.0.1:${port}`, ...(options.servername === undefined ? ["-noservername"] : ["-servername", options.servername]), ...(options.args ?? [])];
  const result = await run("openssl", args, "");
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(result.stdout)?.[0];
  const protocol = /^\s*Protocol\s*:\s*(\S+)/m.exec(result.stdout)?.[1] ?? /New, (TLSv[\d.]+),/.exec(result.stdout)?.[1];
  const alpn = /ALPN protocol: (\S+)/.exec(result.stdout)?.[1];
  return { fingerprint: pem === undefined ? undefined : fingerprintOf(pem), protocol, alpn, result };
}

export const certPath = (dir: string, ...parts: string[]): string => join(dir, ...parts);
