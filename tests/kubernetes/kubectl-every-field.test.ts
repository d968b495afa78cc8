// The every-field fixtures (tests/fixtures/kubernetes-api-testdata: each field of Service, Pod,
// Endpoints and EndpointSlice filled with placeholder values such as "protocolValue") sent to the
// fake API server as a real API server would get them: `kubectl apply -f` each, and the 422
// Invalid Status with one cause per field a real server rejects, named by its path.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FakeKubeApi, serveFakeKubeApi, type ServedFakeKubeApi } from "../../adapters/kubernetes/fake-api/index.ts";
import { Kubectl, kubectlBinary, kubectlClientVersion } from "./kubectl-process.ts";

const folder = "tests/fixtures/kubernetes-api-testdata";

/** Each fixture, its collection, and the fields a real API server's validation rejects in it. */
const fixtures = [
  {
    file: "core.v1.Service.json",
    kind: "Service",
    path: "/api/v1/namespaces/namespaceValue/services",
    fields: ["metadata.name", "spec.type", "spec.sessionAffinity", "spec.ports[0].name", "spec.ports[0].protocol", "spec.ports[0].targetPort", "spec.externalIPs[0]", "spec.ipFamilies[0]", "spec.ipFamilyPolicy", "spec.internalTrafficPolicy", "spec.clusterIP"],
  },
  {
    file: "core.v1.Pod.json",
    kind: "Pod",
    path: "/api/v1/namespaces/namespaceValue/pods",
    fields: ["metadata.name", "spec.containers[0].name", "spec.containers[0].ports[0].name", "spec.containers[0].ports[0].protocol", "spec.restartPolicy", "spec.dnsPolicy"],
  },
  {
    file: "core.v1.Endpoints.json",
    kind: "Endpoints",
    path: "/api/v1/namespaces/namespaceValue/endpoints",
    fields: ["metadata.name", "subsets[0].addresses[0].ip", "subsets[0].addresses[0].hostname", "subsets[0].notReadyAddresses[0].ip", "subsets[0].notReadyAddresses[0].hostname", "subsets[0].ports[0].name", "subsets[0].ports[0].protocol"],
  },
  {
    file: "discovery.k8s.io.v1.EndpointSlice.json",
    kind: "EndpointSlice",
    path: "/apis/discovery.k8s.io/v1/namespaces/namespaceValue/endpointslices",
    fields: ["metadata.name", "addressType", "ports[0].name", "ports[0].protocol"],
  },
] as const;

describe("the every-field fixtures through the fake API server's validation", () => {
  test.each(fixtures)("$file: 422 Invalid, one cause per rejected field", async ({ file, kind, path, fields }) => {
    const fake = new FakeKubeApi();
    const body = readFileSync(`${folder}/${file}`, "utf8");
    const response = await fake.fetch(new Request(`https://kube.fake.test${path}`, { method: "POST", body, headers: { "content-type": "application/json" } }));
    expect(response.status).toBe(422);
    const status = (await response.json()) as { reason: string; message: string; details: { name: string; kind: string; causes: { reason: string; field: string; message: string }[] } };
    expect(status.reason).toBe("Invalid");
    expect(status.details).toMatchObject({ name: "nameValue", kind });
    expect(status.details.causes.map((c) => c.field)).toEqual(fields);
    for (const cause of status.details.causes) expect(cause.message).toMatch(/^(Invalid value|Unsupported value): "\w+Value": /);
    expect(status.message).toMatch(new RegExp(`^${kind} "nameValue" is invalid: \\[metadata\\.name: Invalid value: "nameValue": `));
    // Nothing was stored.
    expect(fake.objects(kind)).toEqual([]);
  });
});

const clientVersion = await kubectlClientVersion();
const title = clientVersion === undefined
  ? `kubectl apply of the every-field fixtures (skipped: no ${JSON.stringify(kubectlBinary)} on PATH; .ci/run installs Debian's kubernetes-client, or set KUBECTL)`
  : `kubectl apply of the every-field fixtures (${clientVersion})`;
if (clientVersion === undefined) console.warn(title);

describe.skipIf(clientVersion === undefined)(title, () => {
  let served: ServedFakeKubeApi;
  let kubectl: Kubectl;
  beforeAll(async () => {
    served = await serveFakeKubeApi(new FakeKubeApi(), { closeGraceMs: 100 });
    kubectl = new Kubectl(served.kubeconfig());
  });
  afterAll(async () => {
    await kubectl.close();
    await served.close();
  });

  test("each is refused with the server's causes, one line per field", async () => {
    for (const { file, kind, fields } of fixtures) {
      const result = await kubectl.run("apply", "-f", `${folder}/${file}`);
      expect(result.code, file).toBe(1);
      expect(result.stderr, file).toContain(`The ${kind} "nameValue" is invalid: \n`);
      // kubectl prints the causes as "* field: message" lines, in the server's order.
      const printed = [...result.stderr.matchAll(/^\* ([^:]+): /gm)].map((m) => m[1]);
      expect(printed, file).toEqual(fields);
    }
  });
});
