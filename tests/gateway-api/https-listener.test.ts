// Gateway HTTPS listeners and listener conflicts (issue 15): our own cases for what the upstream
// conformance tests HTTPRouteHTTPSListener, GatewaySecretReferenceGrantAllInNamespace,
// GatewaySecretReferenceGrantSpecific, GatewaySecretMissingReferenceGrant,
// GatewaySecretInvalidReferenceGrant and GatewayInvalidTLSConfiguration check, plus listener
// conflicts (gateway_types.go "Distinct Listeners"). One served router with a cleartext listener and
// a TLS one (as `vipr serve --listen-https` runs them), certificates made by openssl and carried in
// Secret YAML read by the file source's code; requests by real TLS clients: node:https trusting the
// test certificate, curl --cacert, and openssl s_client for which certificate SNI picks.
import https from "node:https";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { gatewayApiObjectsOf } from "../../adapters/file/gateway-api-manifests.ts";
import { parseManifests } from "../../adapters/file/manifest-documents.ts";
import { GatewayCertificateStore } from "../../adapters/node/gateway-certificates.ts";
import { gatewaySinkWithTls } from "../../adapters/node/gateway-tls-sink.ts";
import { loadRuntimeAdapter, type RunningServer } from "../../adapters/runtime-adapter.ts";
import type { Condition, GatewayApiStatus, ListenerStatusReport } from "../../router/gateway-api/gateway-conditions.ts";
import type { GatewayObjectsSink } from "../../router/gateway-api/gateway-route-state.ts";
import type { EchoAnswer } from "../support/echo-backend.ts";
import { onDeno } from "../cli/vipr-process.ts";
import { makeCertificate, run, sClient } from "../forward/tls-test-certs.ts";
import { INFRA, WEB, startGatewayHarness, type GatewayHarness } from "./gateway-harness.ts";
import { BASE_GATEWAY, gatewayProblems, gatewayYaml } from "./gateway-yaml.ts";

const runtimeName = onDeno ? "deno" : "node";
let temp: string;
let harness: GatewayHarness;
let tlsServer: RunningServer;
let store: GatewayCertificateStore;
let sink: GatewayObjectsSink;
const pem: Record<string, { cert: string; key: string; fingerprint: string }> = {};

async function certificate(name: string, names: string[]): Promise<void> {
  const certFile = join(temp, `${name}.crt`);
  const keyFile = join(temp, `${name}.key`);
  const fingerprint = await makeCertificate(certFile, keyFile, names);
  pem[name] = { cert: await readFile(certFile, "utf8"), key: await readFile(keyFile, "utf8"), fingerprint };
}

/** A kubernetes.io/tls Secret as kubectl would store it (base64 data), or with stringData. */
function secretYaml(namespace: string, name: string, cert: string, key: string, form: "data" | "stringData" = "data", type = "kubernetes.io/tls"): string {
  const value = (text: string): string => (form === "data" ? Buffer.from(text).toString("base64") : JSON.stringify(text));
  return `
---
apiVersion: v1
kind: Secret
metadata: { name: ${name}, namespace: ${namespace} }
type: ${type}
${form}:
  tls.crt: ${value(cert)}
  tls.key: ${value(key)}
`;
}

/** Base objects plus `yaml`, read as the file source reads manifests (Secrets included). */
function apply(yaml: string): GatewayApiStatus {
  const parsed = parseManifests(BASE_GATEWAY + yaml, "test.yaml");
  if (parsed.problems.length > 0) throw new Error(parsed.problems.map((p) => `${p.field}: ${p.message}`).join("\n"));
  return sink.setGatewayObjects(gatewayApiObjectsOf(parsed.objects), { serviceExists: (key) => harness.router.table?.services.has(key) ?? true });
}

function listenerOf(status: GatewayApiStatus, gateway: string, listener: string): ListenerStatusReport {
  const found = status.gateways.find((g) => `${g.namespace}/${g.name}` === gateway)?.listeners.find((l) => l.name === listener);
  if (found === undefined) throw new Error(`no status for listener ${gateway}/${listener}`);
  return found;
}

function conditionOf(conditions: readonly Condition[], type: Condition["type"]): { status: string; reason: string } {
  const c = conditions.find((x) => x.type === type);
  return { status: c?.status ?? "absent", reason: c?.reason ?? "absent" };
}

interface TlsAnswer {
  readonly status: number;
  readonly echo: EchoAnswer | undefined;
}

/** GET over TLS to the TLS listener with SNI `host`, trusting only `ca`; `anyName`: the chain is
 * checked but not the name (a host no listener names gets another listener's certificate). */
function httpsGet(host: string, path: string, ca: string, anyName = false): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: "127.0.0.1", port: tlsServer.port, path, servername: host, headers: { host }, ca, agent: false, ...(anyName ? { checkServerIdentity: () => undefined } : {}) }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, echo: res.headers["content-type"] === "application/json" && !("x-vipr-error" in res.headers) ? (JSON.parse(body) as EchoAnswer) : undefined }));
    });
    req.on("error", reject);
    req.end();
  });
}

const HTTPS_GATEWAY = `
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: same-namespace-with-https-listener, namespace: ${INFRA} }
spec:
  gatewayClassName: vipr
  listeners:
  - name: https
    port: 443
    protocol: HTTPS
    allowedRoutes: { namespaces: { from: Same } }
    tls: { certificateRefs: [{ group: "", kind: Secret, name: tls-validity-checks-certificate, namespace: ${INFRA} }] }
  - name: https-with-hostname
    port: 443
    hostname: second-example.org
    protocol: HTTPS
    allowedRoutes: { namespaces: { from: Same } }
    tls: { certificateRefs: [{ name: second-certificate }] }
  - name: https-with-wildcard-hostname
    port: 443
    hostname: "*.wildcard.org"
    protocol: HTTPS
    allowedRoutes: { namespaces: { from: Same } }
    tls: { certificateRefs: [{ name: tls-validity-checks-certificate }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: httproute-https-test, namespace: ${INFRA} }
spec:
  parentRefs: [{ name: same-namespace-with-https-listener }]
  hostnames: [example.org]
  rules: [{ backendRefs: [{ name: infra-backend-v1, port: 8080 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: httproute-https-test-no-hostname, namespace: ${INFRA} }
spec:
  parentRefs: [{ name: same-namespace-with-https-listener, sectionName: https-with-hostname }]
  rules: [{ backendRefs: [{ name: infra-backend-v2, port: 8080 }] }]
`;

beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), "vipr-gw-https-"));
  await certificate("infra", ["example.org", "*.wildcard.org"]);
  await certificate("second", ["second-example.org"]);
  await certificate("second2", ["second-example.org"]);
  await certificate("web", ["web.example.org"]);
  await certificate("intersect", ["very.specific.com", "*.wildcard.io", "*.bar.wildcard.io", "*.anotherwildcard.io"]);
  const runtime = await loadRuntimeAdapter();
  harness = await startGatewayHarness({ requestIsTls: runtime.requestIsTls });
  store = new GatewayCertificateStore();
  tlsServer = await runtime.serve(harness.router.app, { tls: store, upgrades: harness.router });
  sink = gatewaySinkWithTls(harness.router, store, true);
}, 60_000);

afterAll(async () => {
  await tlsServer?.close();
  await harness?.close();
  if (temp !== undefined) await rm(temp, { recursive: true, force: true });
});

const infraSecrets = (): string => secretYaml(INFRA, "tls-validity-checks-certificate", pem.infra!.cert, pem.infra!.key) + secretYaml(INFRA, "second-certificate", pem.second!.cert, pem.second!.key, "stringData");

describe(`HTTPRouteHTTPSListener on ${runtimeName}`, () => {
  test("routes attach to the HTTPS listeners; requests over TLS reach the backends by host, an unknown host gets 404", async () => {
    const status = apply(HTTPS_GATEWAY + infraSecrets());
    for (const name of ["https", "https-with-hostname", "https-with-wildcard-hostname"]) {
      const l = listenerOf(status, `${INFRA}/same-namespace-with-https-listener`, name);
      expect([name, conditionOf(l.conditions, "Programmed"), conditionOf(l.conditions, "ResolvedRefs")]).toEqual([name, { status: "True", reason: "Programmed" }, { status: "True", reason: "ResolvedRefs" }]);
    }
    for (const route of status.httpRoutes.filter((r) => r.name.startsWith("httproute-https-test"))) {
      expect(route.parents.map((p) => [conditionOf(p.conditions, "Accepted").status, conditionOf(p.conditions, "ResolvedRefs").status])).toEqual([["True", "True"]]);
    }
    const one = await httpsGet("example.org", "/", pem.infra!.cert);
    expect([one.status, one.echo?.service, one.echo?.headers["x-forwarded-proto"]]).toEqual([200, "infra-backend-v1", ["https"]]);
    const unknown = await httpsGet("unknown-example.org", "/", pem.infra!.cert, true);
    expect(unknown.status).toBe(404);
    const second = await httpsGet("second-example.org", "/", pem.second!.cert);
    expect([second.status, second.echo?.service]).toEqual([200, "infra-backend-v2"]);
  });

  test("SNI picks the listener's certificate by its hostname: exact, wildcard, then the listener without one", async () => {
    expect((await sClient(tlsServer.port, { servername: "second-example.org" })).fingerprint).toBe(pem.second!.fingerprint);
    expect((await sClient(tlsServer.port, { servername: "example.org" })).fingerprint).toBe(pem.infra!.fingerprint);
    expect((await sClient(tlsServer.port, { servername: "a.b.wildcard.org" })).fingerprint).toBe(pem.infra!.fingerprint);
    expect((await sClient(tlsServer.port, { servername: "unknown-example.org" })).fingerprint).toBe(pem.infra!.fingerprint);
  });

  test("curl over https with --cacert and --resolve reaches the route; the same host in cleartext does not", async () => {
    const curl = await run("curl", ["-sS", "--cacert", join(temp, "second.crt"), "--resolve", `second-example.org:${tlsServer.port}:127.0.0.1`, `https://second-example.org:${tlsServer.port}/curl`, "-w", "\n%{http_code}"]);
    expect(curl.code).toBe(0);
    const [body, code] = curl.stdout.split("\n");
    expect([code, (JSON.parse(body!) as EchoAnswer).service, (JSON.parse(body!) as EchoAnswer).path]).toEqual(["200", "infra-backend-v2", "/curl"]);
    // Routes of an HTTPS listener are never served over cleartext HTTP.
    const plain = await harness.request("example.org", "/");
    expect(plain.status).toBe(404);
  });

  test("a changed Secret is served from the next handshake, without a restart", async () => {
    apply(HTTPS_GATEWAY + secretYaml(INFRA, "tls-validity-checks-certificate", pem.infra!.cert, pem.infra!.key) + secretYaml(INFRA, "second-certificate", pem.second2!.cert, pem.second2!.key));
    expect((await sClient(tlsServer.port, { servername: "second-example.org" })).fingerprint).toBe(pem.second2!.fingerprint);
    const answer = await httpsGet("second-example.org", "/", pem.second2!.cert);
    expect(answer.status).toBe(200);
    apply(HTTPS_GATEWAY + infraSecrets());
    expect((await sClient(tlsServer.port, { servername: "second-example.org" })).fingerprint).toBe(pem.second!.fingerprint);
  });
});

const crossNamespaceGateway = (name: string): string => `
---
${gatewayYaml(INFRA, name, `[{ name: https, port: 443, protocol: HTTPS, hostname: web.example.org, allowedRoutes: { namespaces: { from: All } }, tls: { certificateRefs: [{ group: "", kind: Secret, name: certificate, namespace: ${WEB} }] } }]`)}`;

const grant = (name: string, from: string, to: string): string => `
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: { name: ${name}, namespace: ${WEB} }
spec:
  from: [${from}]
  to: [${to}]
`;

describe(`GatewaySecretReferenceGrantAllInNamespace and GatewaySecretReferenceGrantSpecific on ${runtimeName}`, () => {
  for (const [label, to] of [
    ["all Secrets in the namespace", `{ group: "", kind: Secret }`],
    ["the one Secret", `{ group: "", kind: Secret, name: certificate }`],
  ] as const) {
    test(`a ReferenceGrant for ${label}: the listener is programmed and serves the other namespace's certificate`, async () => {
      const status = apply(crossNamespaceGateway("gateway-secret-reference-grant") + grant("grant", `{ group: gateway.networking.k8s.io, kind: Gateway, namespace: ${INFRA} }`, to) + secretYaml(WEB, "certificate", pem.web!.cert, pem.web!.key));
      const l = listenerOf(status, `${INFRA}/gateway-secret-reference-grant`, "https");
      expect([conditionOf(l.conditions, "Programmed"), conditionOf(l.conditions, "ResolvedRefs").status, l.attachedRoutes, l.supportedKinds]).toEqual([
        { status: "True", reason: "Programmed" },
        "True",
        0,
        [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute" }, { group: "gateway.networking.k8s.io", kind: "GRPCRoute" }],
      ]);
      expect((await sClient(tlsServer.port, { servername: "web.example.org" })).fingerprint).toBe(pem.web!.fingerprint);
    });
  }
});

describe(`GatewaySecretMissingReferenceGrant and GatewaySecretInvalidReferenceGrant on ${runtimeName}`, () => {
  const secret = (): string => secretYaml(WEB, "certificate", pem.web!.cert, pem.web!.key);
  const cases: [string, string][] = [
    ["no ReferenceGrant", ""],
    // The upstream test's grants, each wrong in one field.
    ["a grant in the wrong namespace", grant("x", `{ group: gateway.networking.k8s.io, kind: Gateway, namespace: ${INFRA} }`, `{ group: "", kind: Secret, name: certificate }`).replace(`namespace: ${WEB} }`, "namespace: gateway-conformance-app-backend }")],
    ["a grant from another group", grant("x", `{ group: not-the-group-youre-looking-for, kind: Gateway, namespace: ${INFRA} }`, `{ group: "", kind: Secret, name: certificate }`)],
    ["a grant from another kind", grant("x", `{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: ${INFRA} }`, `{ group: "", kind: Secret, name: certificate }`)],
    ["a grant from another namespace", grant("x", `{ group: gateway.networking.k8s.io, kind: Gateway, namespace: not-the-namespace }`, `{ group: "", kind: Secret, name: certificate }`)],
    ["a grant to another group", grant("x", `{ group: gateway.networking.k8s.io, kind: Gateway, namespace: ${INFRA} }`, `{ group: not-the-group, kind: Secret, name: certificate }`)],
    ["a grant to another kind", grant("x", `{ group: gateway.networking.k8s.io, kind: Gateway, namespace: ${INFRA} }`, `{ group: "", kind: Service, name: certificate }`)],
    ["a grant to another name", grant("x", `{ group: gateway.networking.k8s.io, kind: Gateway, namespace: ${INFRA} }`, `{ group: "", kind: Secret, name: not-the-certificate }`)],
  ];
  for (const [label, yaml] of cases) {
    test(`${label}: ResolvedRefs False RefNotPermitted, not programmed, its certificate not served`, async () => {
      const status = apply(crossNamespaceGateway("gateway-secret-missing-reference-grant") + yaml + secret());
      const l = listenerOf(status, `${INFRA}/gateway-secret-missing-reference-grant`, "https");
      expect([conditionOf(l.conditions, "ResolvedRefs"), conditionOf(l.conditions, "Programmed").status, l.supportedKinds.length]).toEqual([{ status: "False", reason: "RefNotPermitted" }, "False", 2]);
    });
  }

  test("the certificate of a listener without permission is never handed out", async () => {
    apply(HTTPS_GATEWAY + infraSecrets() + crossNamespaceGateway("gateway-secret-missing-reference-grant") + secret());
    expect((await sClient(tlsServer.port, { servername: "web.example.org" })).fingerprint).toBe(pem.infra!.fingerprint);
  });
});

describe(`GatewayInvalidTLSConfiguration on ${runtimeName}`, () => {
  const gateway = (name: string, ref: string): string => `
---
${gatewayYaml(INFRA, name, `[{ name: https, port: 443, protocol: HTTPS, allowedRoutes: { namespaces: { from: All } }, tls: { certificateRefs: [${ref}] } }]`)}`;
  test("a missing Secret, another group or kind, a malformed Secret, a key that is not the certificate's: ResolvedRefs False InvalidCertificateRef", () => {
    const malformed = Buffer.from("Hello world\n").toString("base64");
    const status = apply(
      gateway("gateway-certificate-nonexistent-secret", `{ group: "", kind: Secret, name: nonexistent-certificate }`) +
        gateway("gateway-certificate-unsupported-group", `{ group: wrong.group.company.io, kind: Secret, name: tls-validity-checks-certificate }`) +
        gateway("gateway-certificate-unsupported-kind", `{ group: "", kind: WrongKind, name: tls-validity-checks-certificate }`) +
        gateway("gateway-certificate-malformed-secret", `{ group: "", kind: Secret, name: malformed-certificate }`) +
        gateway("gateway-certificate-wrong-key", `{ name: wrong-key }`) +
        gateway("gateway-certificate-opaque", `{ name: opaque }`) +
        infraSecrets() +
        `\n---\napiVersion: v1\nkind: Secret\nmetadata: { name: malformed-certificate, namespace: ${INFRA} }\ntype: kubernetes.io/tls\ndata: { tls.crt: ${malformed}, tls.key: ${malformed} }\n` +
        secretYaml(INFRA, "wrong-key", pem.infra!.cert, pem.second!.key) +
        secretYaml(INFRA, "opaque", pem.infra!.cert, pem.infra!.key, "data", "Opaque"),
    );
    const seen = ["nonexistent-secret", "unsupported-group", "unsupported-kind", "malformed-secret", "wrong-key", "opaque"].map((name) => {
      const l = listenerOf(status, `${INFRA}/gateway-certificate-${name}`, "https");
      return [name, conditionOf(l.conditions, "ResolvedRefs"), conditionOf(l.conditions, "Programmed").status, l.supportedKinds];
    });
    expect(seen).toEqual(
      ["nonexistent-secret", "unsupported-group", "unsupported-kind", "malformed-secret", "wrong-key", "opaque"].map((name) => [name, { status: "False", reason: "InvalidCertificateRef" }, "False", [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute" }, { group: "gateway.networking.k8s.io", kind: "GRPCRoute" }]]),
    );
    const message = (name: string): string => listenerOf(status, `${INFRA}/gateway-certificate-${name}`, "https").conditions.find((c) => c.type === "ResolvedRefs")!.message;
    expect(message("wrong-key")).toBe(`certificateRef ${INFRA}/wrong-key: tls.key is not the key of tls.crt`);
    expect(message("opaque")).toBe(`certificateRef ${INFRA}/opaque: the Secret is of type Opaque, not kubernetes.io/tls`);
  });

  test("the CRD's rules: an HTTPS listener takes mode Terminate only, Terminate needs certificateRefs, HTTP takes no tls", () => {
    const listener = (extra: string): string => `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: g, namespace: ${INFRA} }
spec: { gatewayClassName: vipr, listeners: [{ name: https, port: 443, protocol: HTTPS${extra} }] }
`;
    expect(gatewayProblems(listener(", tls: { mode: Passthrough, certificateRefs: [{ name: c }] }"))).toEqual([`Gateway ${INFRA}/g: spec.listeners[0].tls.mode: tls mode must be Terminate for protocol HTTPS`]);
    expect(gatewayProblems(listener(", tls: { mode: Terminate }"))).toEqual([`Gateway ${INFRA}/g: spec.listeners[0].tls.certificateRefs: certificateRefs or options must be specified when mode is Terminate`]);
    expect(gatewayProblems(listener(", tls: { certificateRefs: [{ name: c }] }").replace("protocol: HTTPS", "protocol: HTTP"))).toEqual([`Gateway ${INFRA}/g: spec.listeners[0].tls: tls must not be specified for protocol HTTP`]);
  });

  test("a TLS listener in Passthrough mode (vipr terminates only): Accepted False UnsupportedProtocol", () => {
    const status = apply(`
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: passthrough, namespace: ${INFRA} }
spec: { gatewayClassName: vipr, listeners: [{ name: tls, port: 443, protocol: TLS, tls: { mode: Passthrough } }] }
`);
    const l = listenerOf(status, `${INFRA}/passthrough`, "tls");
    expect([conditionOf(l.conditions, "Accepted"), conditionOf(l.conditions, "Programmed").status]).toEqual([{ status: "False", reason: "UnsupportedProtocol" }, "False"]);
  });
});

describe(`HTTPRouteHostnameIntersection over HTTPS on ${runtimeName}`, () => {
  const listener = (name: string, hostname: string): string => `  - { name: ${name}, port: 443, protocol: HTTPS, hostname: "${hostname}", tls: { certificateRefs: [{ name: intersect }] } }\n`;
  const route = (name: string, hostnames: string[], prefix: string, backend: string): string => `
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: ${INFRA} }
spec:
  parentRefs: [{ name: httproute-hostname-intersection }]
  hostnames: ${JSON.stringify(hostnames)}
  rules: [{ matches: [{ path: { type: PathPrefix, value: ${prefix} } }], backendRefs: [{ name: ${backend}, port: 8080 }] }]
`;
  test.each<[string, string, string | number]>([
    ["very.specific.com", "/s1", "infra-backend-v1"],
    ["non.matching.com", "/s1", 404],
    ["foo.nonmatchingwildcard.io", "/s1", 404],
    ["foo.wildcard.io", "/s1", 404],
    ["foo.wildcard.io", "/s2", "infra-backend-v2"],
    ["foo.bar.wildcard.io", "/s2", "infra-backend-v2"],
    ["wildcard.io", "/s2", 404],
    ["very.specific.com", "/s2", 404],
    ["very.specific.com", "/s3", "infra-backend-v3"],
    ["foo.specific.com", "/s3", 404],
    ["foo.anotherwildcard.io", "/s4", "infra-backend-v1"],
  ])("%s%s over TLS: %s", async (host, path, expected) => {
    apply(
      `
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: httproute-hostname-intersection, namespace: ${INFRA} }
spec:
  gatewayClassName: vipr
  listeners:
${listener("listener-1", "very.specific.com")}${listener("listener-2", "*.wildcard.io")}${listener("listener-3", "*.anotherwildcard.io")}` +
        route("specific-host-matches-listener-specific-host", ["non.matching.com", "*.nonmatchingwildcard.io", "very.specific.com"], "/s1", "infra-backend-v1") +
        route("specific-host-matches-listener-wildcard-host", ["non.matching.com", "wildcard.io", "foo.wildcard.io", "bar.wildcard.io", "foo.bar.wildcard.io"], "/s2", "infra-backend-v2") +
        route("wildcard-host-matches-listener-specific-host", ["non.matching.com", "*.specific.com"], "/s3", "infra-backend-v3") +
        route("wildcard-host-matches-listener-wildcard-host", ["*.anotherwildcard.io"], "/s4", "infra-backend-v1") +
        secretYaml(INFRA, "intersect", pem.intersect!.cert, pem.intersect!.key),
    );
    // Names the certificate does not cover (non.matching.com) still get a TLS session: the chain
    // is checked, the name is not, and the answer is the route table's.
    const answer = await httpsGet(host, path, pem.intersect!.cert, true);
    expect(answer.echo?.service ?? answer.status).toBe(expected);
  });
});

describe(`listener conflicts on ${runtimeName}`, () => {
  test("HTTP and HTTPS on one port: ProtocolConflict; two HTTPS listeners with one hostname on one port: HostnameConflict; neither is served, the distinct listener is", async () => {
    const status = apply(
      `
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: conflicted, namespace: ${INFRA} }
spec:
  gatewayClassName: vipr
  listeners:
  - { name: http-8443, port: 8443, protocol: HTTP, hostname: conflict.example.org }
  - { name: https-8443, port: 8443, protocol: HTTPS, hostname: conflict.example.org, tls: { certificateRefs: [{ name: tls-validity-checks-certificate }] } }
  - { name: https-a, port: 443, protocol: HTTPS, hostname: same.example.org, tls: { certificateRefs: [{ name: tls-validity-checks-certificate }] } }
  - { name: https-b, port: 443, protocol: HTTPS, hostname: same.example.org, tls: { certificateRefs: [{ name: second-certificate }] } }
  - { name: https-distinct, port: 443, protocol: HTTPS, hostname: example.org, tls: { certificateRefs: [{ name: tls-validity-checks-certificate }] } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: conflicted-route, namespace: ${INFRA} }
spec:
  parentRefs: [{ name: conflicted }]
  rules: [{ backendRefs: [{ name: infra-backend-v3, port: 8080 }] }]
` + infraSecrets(),
    );
    const gateway = status.gateways.find((g) => g.name === "conflicted")!;
    const seen = gateway.listeners.map((l) => [l.name, ...(["Conflicted", "Accepted", "Programmed"] as const).map((type) => `${type}=${conditionOf(l.conditions, type).status}/${conditionOf(l.conditions, type).reason}`), l.attachedRoutes]);
    // As the upstream ListenerSet conflict tests expect of a conflicted listener: Accepted and
    // Programmed False with the conflict's reason, Conflicted True.
    expect(seen).toEqual([
      ["http-8443", "Conflicted=True/ProtocolConflict", "Accepted=False/ProtocolConflict", "Programmed=False/ProtocolConflict", 0],
      ["https-8443", "Conflicted=True/ProtocolConflict", "Accepted=False/ProtocolConflict", "Programmed=False/ProtocolConflict", 0],
      ["https-a", "Conflicted=True/HostnameConflict", "Accepted=False/HostnameConflict", "Programmed=False/HostnameConflict", 0],
      ["https-b", "Conflicted=True/HostnameConflict", "Accepted=False/HostnameConflict", "Programmed=False/HostnameConflict", 0],
      ["https-distinct", "Conflicted=False/NoConflicts", "Accepted=True/Accepted", "Programmed=True/Programmed", 1],
    ]);
    expect(conditionOf(gateway.conditions, "Accepted")).toEqual({ status: "True", reason: "ListenersNotValid" });
    expect((await httpsGet("example.org", "/", pem.infra!.cert)).echo?.service).toBe("infra-backend-v3");
    expect((await httpsGet("same.example.org", "/", pem.infra!.cert, true)).status).toBe(404);
    expect((await harness.request("conflict.example.org", "/")).status).toBe(404);
  });
});

describe(`HTTPS listeners without a TLS listener on ${runtimeName}`, () => {
  test("`vipr serve` without --listen-https reports HTTPS listeners Accepted False UnsupportedProtocol, saying what to do", () => {
    const status = gatewaySinkWithTls(harness.router, undefined, false).setGatewayObjects(gatewayApiObjectsOf(parseManifests(BASE_GATEWAY + HTTPS_GATEWAY + infraSecrets(), "t.yaml").objects));
    const l = listenerOf(status, `${INFRA}/same-namespace-with-https-listener`, "https");
    const accepted = l.conditions.find((c) => c.type === "Accepted")!;
    expect([accepted.status, accepted.reason, accepted.message]).toEqual(["False", "UnsupportedProtocol", "vipr serves HTTPS listeners on its HTTPS listener: start it with --listen-https"]);
  });
});
