// Issue 13: TLS termination on `vipr serve` (adapters/node/tls-certificates.ts,
// listener-server.ts), checked with the clients users run: openssl s_client (which certificate SNI
// picks, which protocol versions are accepted) and curl over https with --cacert. One vipr process
// serves the whole file; the reload cases change its certificate files while it runs and check
// that the next handshake sees the change (no restart: the same process answers throughout).
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { killAll, onDeno, startVipr, type ViprProcess } from "../cli/vipr-process.ts";
import { seedService, slicesFor, startPod, type Pod } from "../support/seed-backends.ts";
import { makeCertificate, run, sClient } from "./tls-test-certs.ts";

const runtimeName = onDeno ? "deno" : "node";
let temp: string;
let pod: Pod;
let vipr: ViprProcess;
let port: number;
const fingerprints: Record<string, string> = {};

beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), "vipr-tls-"));
  pod = await startPod("sise-tls-0");
  const manifest = join(temp, "simpleservice.json");
  await writeFile(manifest, [seedService(), ...slicesFor("simpleservice", [{ pod: pod.name, port: pod.port }])].map((o) => JSON.stringify(o)).join("\n---\n"));
  // --tls-cert: the default; --tls-dir in both layouts: a Secret-like subfolder and a flat pair.
  await mkdir(join(temp, "certs", "a"), { recursive: true });
  fingerprints.default = await makeCertificate(join(temp, "default.crt"), join(temp, "default.key"), ["vipr.test"]);
  fingerprints.a = await makeCertificate(join(temp, "certs", "a", "tls.crt"), join(temp, "certs", "a", "tls.key"), ["a.test"]);
  fingerprints.b = await makeCertificate(join(temp, "certs", "b.crt"), join(temp, "certs", "b.key"), ["b.test", "*.wild.test"]);
  vipr = startVipr([
    "serve", "--source", `file:${manifest}`, "--listen", "127.0.0.1:0", "--admin", "off", "--access-log", "1",
    "--tls-cert", join(temp, "default.crt"), "--tls-key", join(temp, "default.key"), "--tls-dir", join(temp, "certs"),
  ]);
  port = Number((await vipr.waitFor(/^vipr: listening on https:\/\/127\.0\.0\.1:(\d+)$/m, "stderr", 30_000))[1]);
  await vipr.waitFor(/^vipr: table 1 from /m);
}, 60_000);

afterAll(async () => {
  await killAll();
  await pod?.close();
  if (temp !== undefined) await rm(temp, { recursive: true, force: true });
});

describe(`TLS termination on ${runtimeName}`, () => {
  test("SNI picks the certificate: exact names, a wildcard one label deep, the default for other names and for no SNI", async () => {
    expect((await sClient(port, { servername: "a.test" })).fingerprint).toBe(fingerprints.a);
    expect((await sClient(port, { servername: "b.test" })).fingerprint).toBe(fingerprints.b);
    expect((await sClient(port, { servername: "x.wild.test" })).fingerprint).toBe(fingerprints.b);
    // "*" stands for one label only (RFC 6125 section 6.4.3).
    expect((await sClient(port, { servername: "y.x.wild.test" })).fingerprint).toBe(fingerprints.default);
    expect((await sClient(port, { servername: "nobody.test" })).fingerprint).toBe(fingerprints.default);
    expect((await sClient(port)).fingerprint).toBe(fingerprints.default);
  });

  test("TLS 1.2 and 1.3 are accepted, TLS 1.1 is refused", async () => {
    expect((await sClient(port, { servername: "a.test", args: ["-tls1_3"] })).protocol).toBe("TLSv1.3");
    expect((await sClient(port, { servername: "a.test", args: ["-tls1_2"] })).protocol).toBe("TLSv1.2");
    // SECLEVEL=0 lets this openssl offer TLS 1.1 at all; vipr must still refuse it.
    const old = await sClient(port, { servername: "a.test", args: ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"] });
    expect(old.fingerprint, old.result.stdout).toBeUndefined();
    expect(old.result.code).not.toBe(0);
    expect(old.result.stdout + old.result.stderr).not.toMatch(/Cipher is [A-Z]/);
  });

  test("curl over https with --cacert reaches the pod through the same pipeline, with X-Forwarded-Proto https", async () => {
    const result = await run("curl", [
      "-sS", "--http1.1", "--cacert", join(temp, "certs", "a", "tls.crt"), "--resolve", `a.test:${port}:127.0.0.1`,
      "-H", "host: simpleservice", `https://a.test:${port}/echo?x=1`,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const echo = JSON.parse(result.stdout) as { pod: string; path: string; headers: Record<string, string> };
    expect(echo.pod).toBe("sise-tls-0");
    expect(echo.path).toBe("/echo?x=1");
    expect(echo.headers["x-forwarded-proto"]).toBe("https");
    expect(echo.headers["forwarded"]).toMatch(/proto=https/);
    // A name vipr does not know still gets the router's own answer over TLS.
    const unknown = await run("curl", ["-sS", "--http1.1", "--cacert", join(temp, "certs", "a", "tls.crt"), "--resolve", `a.test:${port}:127.0.0.1`, "-H", "host: nosuch", `https://a.test:${port}/`]);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ error: { status: 404, code: "unknown_service" } });
  });

  test("vipr serve speaks h2 by ALPN on the TLS listener; the access log says which protocol each request came over", async () => {
    const common = ["-sS", "--cacert", join(temp, "certs", "a", "tls.crt"), "--resolve", `a.test:${port}:127.0.0.1`, "-H", "host: simpleservice", "-w", "\\n%{http_version}"];
    const h2 = await run("curl", [...common, "--http2", `https://a.test:${port}/proto?h2`]);
    expect(h2.code, h2.stderr).toBe(0);
    expect(h2.stdout.split("\n")[1]).toBe("2");
    const h1 = await run("curl", [...common, "--http1.1", `https://a.test:${port}/proto?h1`]);
    expect(h1.stdout.split("\n")[1]).toBe("1.1");
    const line = (path: string) => vipr.waitFor(new RegExp(`^\\{.*"path":"${path.replace("?", "\\?")}".*\\}$`, "m"), "stdout");
    expect(JSON.parse((await line("/proto?h2"))[0])).toMatchObject({ status: 200, protocol: "h2", upstream_protocol: "http/1.1", service: "default/simpleservice" });
    expect(JSON.parse((await line("/proto?h1"))[0])).toMatchObject({ status: 200, protocol: "http/1.1", upstream_protocol: "http/1.1" });
  });

  test("a renewed certificate is served without a restart; a broken one is logged and the old one kept", async () => {
    const renewed = await makeCertificate(join(temp, "renew.crt"), join(temp, "renew.key"), ["a.test"]);
    expect(renewed).not.toBe(fingerprints.a);
    await writeFile(join(temp, "certs", "a", "tls.key"), await readFile(join(temp, "renew.key")));
    await writeFile(join(temp, "certs", "a", "tls.crt"), await readFile(join(temp, "renew.crt")));
    await vi.waitFor(async () => expect((await sClient(port, { servername: "a.test" })).fingerprint).toBe(renewed), { timeout: 20_000, interval: 200 });
    // b's certificate replaced by something that is not one: the old b keeps serving.
    await writeFile(join(temp, "certs", "b.crt"), "not a certificate\n");
    await vipr.waitFor(/^vipr: TLS reload: .*b\.crt is not a PEM certificate.*the certificate served before is kept$/m, "stderr", 20_000);
    expect((await sClient(port, { servername: "b.test" })).fingerprint).toBe(fingerprints.b);
    expect((await sClient(port, { servername: "a.test" })).fingerprint).toBe(renewed);
    // A key that is not the certificate's is refused the same way.
    await makeCertificate(join(temp, "other.crt"), join(temp, "other.key"), ["b.test"]);
    await writeFile(join(temp, "certs", "b.crt"), await readFile(join(temp, "other.crt")));
    await vipr.waitFor(/^vipr: TLS reload: .*b\.key is not the key of .*b\.crt; the certificate served before is kept$/m, "stderr", 20_000);
    expect((await sClient(port, { servername: "b.test" })).fingerprint).toBe(fingerprints.b);
    expect(vipr.child.exitCode).toBeNull();
  }, 60_000);

  test("a Kubernetes Secret volume ($VIPR_TLS_DIR): its atomic ..data swap is reloaded; an empty folder leaves the listener plain", async () => {
    // The kubelet's atomic writer: files under ..<timestamp>/, "..data" links to the current one,
    // the visible names link through ..data; an update writes a new folder and renames a new
    // ..data link over the old one.
    const secret = join(temp, "secret");
    await mkdir(join(secret, "..v1", "default"), { recursive: true });
    const first = await makeCertificate(join(secret, "..v1", "default", "tls.crt"), join(secret, "..v1", "default", "tls.key"), ["gw.test"]);
    await symlink("..v1", join(secret, "..data"));
    await symlink(join("..data", "default"), join(secret, "default"));
    const manifest = join(temp, "simpleservice.json");
    const previous = process.env["VIPR_TLS_DIR"];
    process.env["VIPR_TLS_DIR"] = secret;
    let gateway: ViprProcess;
    try {
      gateway = startVipr(["serve", "--source", `file:${manifest}`, "--listen", "127.0.0.1:0", "--admin", "off"]);
    } finally {
      if (previous === undefined) delete process.env["VIPR_TLS_DIR"];
      else process.env["VIPR_TLS_DIR"] = previous;
    }
    const gatewayPort = Number((await gateway.waitFor(/^vipr: listening on https:\/\/127\.0\.0\.1:(\d+)$/m, "stderr", 30_000))[1]);
    expect((await sClient(gatewayPort, { servername: "gw.test" })).fingerprint).toBe(first);
    await mkdir(join(secret, "..v2", "default"), { recursive: true });
    const second = await makeCertificate(join(secret, "..v2", "default", "tls.crt"), join(secret, "..v2", "default", "tls.key"), ["gw.test"]);
    await symlink("..v2", join(secret, "..data_tmp"));
    await rename(join(secret, "..data_tmp"), join(secret, "..data"));
    await rm(join(secret, "..v1"), { recursive: true });
    await vi.waitFor(async () => expect((await sClient(gatewayPort, { servername: "gw.test" })).fingerprint).toBe(second), { timeout: 20_000, interval: 200 });
    gateway.signal("SIGTERM");
    expect((await gateway.exited).code).toBe(0);

    const empty = join(temp, "empty-secret");
    await mkdir(empty);
    process.env["VIPR_TLS_DIR"] = empty;
    let plain: ViprProcess;
    try {
      plain = startVipr(["serve", "--source", `file:${manifest}`, "--listen", "127.0.0.1:0", "--admin", "off"]);
    } finally {
      if (previous === undefined) delete process.env["VIPR_TLS_DIR"];
      else process.env["VIPR_TLS_DIR"] = previous;
    }
    await plain.waitFor(/^vipr: TLS: no certificate pair in \$VIPR_TLS_DIR .*: the listener serves plain HTTP$/m, "stderr", 30_000);
    await plain.waitFor(/^vipr: listening on http:\/\/127\.0\.0\.1:\d+$/m, "stderr", 30_000);
    plain.signal("SIGTERM");
    expect((await plain.exited).code).toBe(0);
  }, 120_000);

  test("a bad pair at start is a usage error naming the file", async () => {
    await writeFile(join(temp, "bad.crt"), "nope\n");
    const bad = startVipr(["serve", "--source", `file:${join(temp, "simpleservice.json")}`, "--listen", "127.0.0.1:0", "--admin", "off", "--tls-cert", join(temp, "bad.crt"), "--tls-key", join(temp, "default.key")]);
    const exit = await bad.exited;
    expect(exit.code).toBe(2);
    expect(bad.stderr()).toMatch(/--tls-cert\/--tls-key: .*bad\.crt is not a PEM certificate/);
  });
});
