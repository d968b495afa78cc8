// A throwaway self-signed certificate for 127.0.0.1, made by openssl for one test run: the fake
// API server serves https with it where a client sends credentials only over TLS (kubectl).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let made: { key: string; cert: string } | undefined;

export function loopbackCertificate(): { key: string; cert: string } {
  if (made !== undefined) return made;
  const folder = mkdtempSync(join(tmpdir(), "vipr-cert-"));
  try {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", join(folder, "key.pem"), "-out", join(folder, "cert.pem"),
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "2",
    ], { stdio: "ignore" });
    made = { key: readFileSync(join(folder, "key.pem"), "utf8"), cert: readFileSync(join(folder, "cert.pem"), "utf8") };
    return made;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
