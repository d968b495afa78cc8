// `vipr serve --source file:DIR --listen-https`: a Gateway's HTTPS listener served on vipr's TLS
// listener with the certificate of a kubernetes.io/tls Secret read from the same folder (base64
// `data`, as `kubectl get secret -o yaml` prints it). curl reaches the route over TLS; the same host
// in cleartext is not routed; a rewritten Secret file is served from the next handshake (the same
// process throughout), and a Secret rewritten with a broken certificate is reported by its
// listener's status line while the listener stops being served.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { killAll, onDeno, startVipr, type ViprProcess } from "../cli/vipr-process.ts";
import { startEchoBackend, type EchoBackend } from "../support/echo-backend.ts";
import { makeCertificate, run, sClient } from "../forward/tls-test-certs.ts";
import { backendsYaml, viprGatewayYaml } from "./gateway-yaml.ts";
import { serveFromFiles, type FileServe } from "./serve-from-files.ts";

const runtimeName = onDeno ? "deno" : "node";
let serve: FileServe;
let dir: string;
let certs: string;
let backend: EchoBackend;
let vipr: ViprProcess;
let port: number;
let httpsPort: number;
const fingerprints: Record<string, string> = {};

const gateway = `${viprGatewayYaml("shop", "web", "[{ name: https, port: 443, protocol: HTTPS, hostname: shop.example.com, tls: { certificateRefs: [{ name: shop-tls }] } }]")}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: shop, namespace: shop }
spec:
  parentRefs: [{ name: web }]
  rules: [{ backendRefs: [{ name: web-v1, port: 8080 }] }]
`;

async function secretYaml(name: string): Promise<string> {
  const b64 = async (file: string): Promise<string> => Buffer.from(await readFile(join(certs, file))).toString("base64");
  return `apiVersion: v1
kind: Secret
metadata: { name: shop-tls, namespace: shop }
type: kubernetes.io/tls
data:
  tls.crt: ${await b64(`${name}.crt`)}
  tls.key: ${await b64(`${name}.key`)}
`;
}

beforeAll(async () => {
  certs = await mkdtemp(join(tmpdir(), "vipr-gw-https-certs-"));
  fingerprints.one = await makeCertificate(join(certs, "one.crt"), join(certs, "one.key"), ["shop.example.com"]);
  fingerprints.two = await makeCertificate(join(certs, "two.crt"), join(certs, "two.key"), ["shop.example.com"]);
  backend = await startEchoBackend("shop", "web-v1");
  serve = await serveFromFiles("vipr-gw-https-serve-", { "backend.yaml": backendsYaml(backend), "gateway.yaml": gateway, "secret.yaml": await secretYaml("one") }, ["--listen-https", "127.0.0.1:0"]);
  ({ dir, vipr, port } = serve);
  httpsPort = Number((await vipr.waitFor(/^vipr: Gateway HTTPS listeners on https:\/\/127\.0\.0\.1:(\d+)$/m, "stderr", 30_000))[1]);
  await vipr.waitFor(/^vipr: gateway TLS: 1 HTTPS listener \(shop\.example\.com\)$/m, "stderr", 30_000);
}, 60_000);

afterAll(async () => {
  await killAll();
  await backend?.close();
  await serve?.remove();
  if (certs !== undefined) await rm(certs, { recursive: true, force: true });
});

const curl = (cert: string, scheme = "https", p = httpsPort) =>
  run("curl", ["-sS", "--cacert", join(certs, cert), "--resolve", `shop.example.com:${p}:127.0.0.1`, `${scheme}://shop.example.com:${p}/hello`, "-w", "\n%{http_code}"]);

describe(`vipr serve --listen-https with a Gateway HTTPS listener from files on ${runtimeName}`, () => {
  test("curl over TLS reaches the route with the Secret's certificate; cleartext to the same host is not routed", async () => {
    const answer = await curl("one.crt");
    expect(answer.code).toBe(0);
    const [body, code] = answer.stdout.split("\n");
    expect([code, (JSON.parse(body!) as { service: string }).service, (JSON.parse(body!) as { headers: Record<string, string[]> }).headers["x-forwarded-proto"]]).toEqual(["200", "web-v1", ["https"]]);
    const plain = await curl("one.crt", "http", port);
    expect(plain.stdout.split("\n").at(-1)).toBe("404");
  });

  test("a rewritten Secret is served from the next handshake; a broken one takes the listener out, reported by its status", async () => {
    await serve.save("secret.yaml", await secretYaml("two"));
    await vi.waitFor(async () => expect((await sClient(httpsPort, { servername: "shop.example.com" })).fingerprint).toBe(fingerprints.two), { timeout: 10_000, interval: 200 });
    expect((await curl("two.crt")).stdout.split("\n").at(-1)).toBe("200");
    await serve.save("secret.yaml", (await secretYaml("two")).replace(/tls\.key: .*/, `tls.key: ${Buffer.from(await readFile(join(certs, "one.key"))).toString("base64")}`));
    await vipr.waitFor(/^vipr: Gateway shop\/web listener https: ResolvedRefs False InvalidCertificateRef: certificateRef shop\/shop-tls: tls\.key is not the key of tls\.crt$/m, "stderr", 10_000);
    // No listener has a certificate now: the handshake fails rather than serve a stale one.
    await vi.waitFor(async () => expect((await sClient(httpsPort, { servername: "shop.example.com" })).fingerprint).toBeUndefined(), { timeout: 10_000, interval: 200 });
    await serve.save("secret.yaml", await secretYaml("one"));
    await vi.waitFor(async () => expect((await sClient(httpsPort, { servername: "shop.example.com" })).fingerprint).toBe(fingerprints.one), { timeout: 10_000, interval: 200 });
  });
});

describe(`vipr serve --listen-https --workers 2 on ${runtimeName}`, () => {
  test("every worker serves the HTTPS listener on the shared port, with the certificate from the Gateway API objects the supervisor sends", async () => {
    const workers = startVipr(["serve", "--source", `file:${dir}`, "--listen", "127.0.0.1:0", "--listen-https", "127.0.0.1:0", "--admin", "off", "--workers", "2"]);
    const workersHttps = Number((await workers.waitFor(/^vipr: Gateway HTTPS listeners on https:\/\/127\.0\.0\.1:(\d+)$/m, "stderr", 30_000))[1]);
    const seen = new Set<string>();
    await vi.waitFor(
      async () => {
        const answer = await run("curl", ["-sS", "-D", "-", "-o", "/dev/null", "--cacert", join(certs, "one.crt"), "--resolve", `shop.example.com:${workersHttps}:127.0.0.1`, `https://shop.example.com:${workersHttps}/`]);
        expect(answer.stdout).toMatch(/^HTTP\/\S+ 200/);
        seen.add(/^x-vipr-worker: (\d+)/im.exec(answer.stdout)?.[1] ?? "?");
        expect([...seen].sort()).toEqual(["0", "1"]);
      },
      { timeout: 30_000, interval: 50 },
    );
  }, 60_000);
});
