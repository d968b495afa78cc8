// Manifest text to objects: YAML (multi-document) and JSON, List wrappers, and a precise problem
// (file, 0-based document index, field, what was expected) for every document that cannot be used.
import { describe, expect, test } from "vitest";
import { formatProblem, parseManifests, tableInputOf } from "../../adapters/file/manifest-documents.ts";

const file = "manifests/app.yaml";

function problemsOf(text: string): string[] {
  return parseManifests(text, file).problems.map(formatProblem);
}

const service = (name: string): string => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  ports:\n    - port: 80\n`;

describe("parseManifests", () => {
  test("reads every document of a multi-document YAML file, with its index", () => {
    const text = [
      service("web"),
      "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: web-1\naddressType: IPv4\nendpoints: []\n",
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-0\n",
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
      "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: rc\n",
    ].join("---\n");
    const parsed = parseManifests(text, file);
    expect(parsed.problems).toEqual([]);
    expect(parsed.objects.map((o) => [o.kind, o.index, o.file])).toEqual([
      ["Service", 0, file],
      ["EndpointSlice", 1, file],
      ["Pod", 2, file],
      ["Deployment", 3, file],
      ["ReplicationController", 4, file],
    ]);
    const input = tableInputOf(parsed.objects);
    expect([input.services.length, input.endpointSlices.length, input.pods.length]).toEqual([1, 1, 1]);
  });

  test("reads JSON (one object) with the same parser", () => {
    const parsed = parseManifests(JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "api" }, spec: { ports: [{ port: 80 }] } }), "svc.json");
    expect(parsed.problems).toEqual([]);
    expect(parsed.objects).toHaveLength(1);
    expect(parsed.objects[0]!.object).toMatchObject({ metadata: { name: "api" } });
  });

  test("unwraps a List and *List kinds (kubectl get -o json output); items keep their List's index", () => {
    const list = {
      apiVersion: "v1",
      kind: "List",
      items: [
        { apiVersion: "v1", kind: "Service", metadata: { name: "a" } },
        { apiVersion: "v1", kind: "Pod", metadata: { name: "a-0" } },
      ],
    };
    const podList = { apiVersion: "v1", kind: "PodList", items: [{ apiVersion: "v1", kind: "Pod", metadata: { name: "b-0" } }] };
    const parsed = parseManifests(`${JSON.stringify(list)}\n---\n${JSON.stringify(podList)}\n`, file);
    expect(parsed.problems).toEqual([]);
    expect(parsed.objects.map((o) => `${o.kind}/${(o.object["metadata"] as { name: string }).name}@${o.index}`)).toEqual(["Service/a@0", "Pod/a-0@0", "Pod/b-0@1"]);
  });

  test("ignores empty documents (a leading or trailing ---, comments only)", () => {
    // Document 0 holds only a comment, document 2 the Service, document 3 (after the last ---) nothing.
    const parsed = parseManifests(`---\n# nothing here\n---\n${service("web")}---\n`, file);
    expect(parsed.problems).toEqual([]);
    expect(parsed.objects.map((o) => o.index)).toEqual([1]);
    expect(parseManifests("", file)).toEqual({ objects: [], problems: [] });
  });

  test("a YAML syntax error names the file, the document, and the line and column in the file", () => {
    const text = `${service("good")}---\napiVersion: v1\nkind: Service\nmetadata: {name: broken\n`;
    const parsed = parseManifests(text, file);
    expect(parsed.objects.map((o) => o.index)).toEqual([0]); // the other document still parses
    expect(parsed.problems.map(formatProblem)).toEqual([
      `${file}: document 2: YAML: Flow map in block collection must be sufficiently indented and end with a } (line 12, column 1)`,
    ]);
  });

  test("a YAML error inside a document points at its line", () => {
    expect(problemsOf("apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  name: b\n")).toEqual([`${file}: document 1: YAML: Map keys must be unique (line 5, column 3)`]);
  });

  test("an alias to no anchor is a problem of its document, not an exception", () => {
    const parsed = parseManifests(`${service("good")}---\napiVersion: v1\nkind: Service\nmetadata: *nowhere\n`, file);
    expect(parsed.objects).toHaveLength(1);
    expect(parsed.problems.map(formatProblem)).toEqual([`${file}: document 2: YAML: Unresolved alias (the anchor must be set before the alias): nowhere`]);
  });

  test.each([
    [
      "a mapping missing kind",
      "apiVersion: v1\nmetadata:\n  name: x\n",
      `${file}: document 1: kind: missing; expected Service, EndpointSlice, Pod, ReplicationController or Deployment`,
    ],
    [
      "an unknown kind",
      "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: x\n",
      `${file}: document 1: kind: "StatefulSet" is not routed by vipr; expected Service, EndpointSlice, Pod, ReplicationController or Deployment`,
    ],
    ["a wrong apiVersion", "apiVersion: v2\nkind: Service\nmetadata:\n  name: x\n", `${file}: document 1: apiVersion: "v2" is not an apiVersion of Service; expected v1`],
    ["a missing apiVersion", "kind: EndpointSlice\nmetadata:\n  name: x\n", `${file}: document 1: apiVersion: null is not an apiVersion of EndpointSlice; expected discovery.k8s.io/v1`],
    ["a Deployment in the core group", "apiVersion: v1\nkind: Deployment\nmetadata:\n  name: x\n", `${file}: document 1: apiVersion: "v1" is not an apiVersion of Deployment; expected apps/v1`],
    ["a missing metadata.name", "apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {app: x}\n", `${file}: document 1: metadata.name: a Pod needs a name`],
    ["no metadata at all", "apiVersion: v1\nkind: Service\n", `${file}: document 1: metadata.name: a Service needs a name`],
    ["a scalar document", "just text\n", `${file}: document 1: expected a Kubernetes object (a mapping), got string`],
    ["a list document", "- a\n- b\n", `${file}: document 1: expected a Kubernetes object (a mapping), got a list`],
    ["a List without items", "apiVersion: v1\nkind: List\n", `${file}: document 1: items: a List needs an items list`],
  ])("%s", (_name, text, expected) => {
    const parsed = parseManifests(text, file);
    expect(parsed.objects).toEqual([]);
    expect(parsed.problems.map(formatProblem)).toEqual([expected]);
  });

  test("a List with a bad item reports the item's field path and keeps the good items", () => {
    const list = {
      apiVersion: "v1",
      kind: "List",
      items: [
        { apiVersion: "v1", kind: "Service", metadata: { name: "ok" } },
        { apiVersion: "v1", kind: "Service", metadata: {} },
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm" } },
      ],
    };
    const parsed = parseManifests(`${service("first")}---\n${JSON.stringify(list)}\n`, "list.json");
    expect(parsed.objects.map((o) => `${o.kind}@${o.index}`)).toEqual(["Service@0", "Service@1"]);
    expect(parsed.problems).toEqual([
      { file: "list.json", index: 1, field: "items[1].metadata.name", message: "a Service needs a name" },
      {
        file: "list.json",
        index: 1,
        field: "items[2].kind",
        message: '"ConfigMap" is not routed by vipr; expected Service, EndpointSlice, Pod, ReplicationController or Deployment',
      },
    ]);
    expect(parsed.problems.map(formatProblem)[0]).toBe("list.json: document 2: items[1].metadata.name: a Service needs a name");
  });

  test("one bad document never drops the others", () => {
    const text = [service("a"), "kind: Nope\n", service("c"), "apiVersion: v1\nkind: Pod\n", service("e")].join("---\n");
    const parsed = parseManifests(text, file);
    expect(parsed.objects.map((o) => o.index)).toEqual([0, 2, 4]);
    expect(parsed.problems.map((p) => [p.index, p.field])).toEqual([
      [1, "kind"],
      [3, "metadata.name"],
    ]);
  });
});
