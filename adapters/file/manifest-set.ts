// The file source's state: the documents of every manifest file, and from them the table
// builder's input. Pure (the caller reads files). A document that no longer parses keeps its last
// good version and is reported, so one broken edit never drops what was routing; the other
// documents of the file apply as edited.
import type { RoutingTableInput } from "../../router/table/build-routing-table.ts";
import type { KubePod } from "../../router/table/kubernetes-objects.ts";
import { objectKey, type NamedObject } from "../../router/table/object-identity.ts";
import type { GatewayApiObjects } from "../../router/gateway-api/gateway-api-objects.ts";
import { gatewayApiObjectsOf } from "./gateway-api-manifests.ts";
import { localPodsOf } from "./local-workloads.ts";
import { parseManifests, tableInputOf, type ManifestObject, type ManifestProblem } from "./manifest-documents.ts";
import { fieldProblems } from "./manifest-fields.ts";

interface FileState {
  /** Objects by document index, the last good version of each. */
  readonly documents: Map<number, readonly ManifestObject[]>;
  problems: readonly ManifestProblem[];
}

export interface ManifestSummary {
  readonly services: number;
  readonly endpointSlices: number;
  readonly pods: number;
  readonly workloads: number;
}

type LocalPods = ReturnType<typeof localPodsOf>;

/** What identifies an object's content: kind and the object as JSON (YAML maps keep their key
 * order, so the same text gives the same string). */
function contentKey(object: ManifestObject): string {
  return `${object.kind}\n${JSON.stringify(object.object)}`;
}

/** The objects of a file's documents by content, to give an unchanged object its old identity
 * wherever it moved in the file. */
function contentIndex(documents: ReadonlyMap<number, readonly ManifestObject[]>): Map<string, Record<string, unknown>> {
  const index = new Map<string, Record<string, unknown>>();
  for (const list of documents.values()) for (const object of list) index.set(contentKey(object), object.object);
  return index;
}

export class ManifestSet {
  readonly #files = new Map<string, FileState>();
  /** Replica counts set by scale(), over the files' own: "Kind/namespace/name" -> replicas. */
  readonly #scaled = new Map<string, number>();
  /** Local pods by workload object (see #localPods). */
  readonly #made = new WeakMap<object, { key: string; pods: LocalPods }>();

  /** Reads a file's new text; returns its problems (also kept for problems()). A document that
   * does not parse, or whose fields the table builder would refuse (manifest-fields.ts), keeps its
   * last good version. An object whose content did not change keeps its identity, so the table
   * builder reuses what it built from it and only services whose objects changed are rebuilt. */
  update(file: string, text: string): readonly ManifestProblem[] {
    const parsed = parseManifests(text, file);
    const previous = this.#files.get(file);
    const documents = new Map<number, readonly ManifestObject[]>();
    const failed = new Set(parsed.problems.map((p) => p.index));
    const problems: ManifestProblem[] = [...parsed.problems];
    const refused = new Set<number>();
    for (const object of parsed.objects) {
      const found = fieldProblems(object);
      if (found.length === 0) continue;
      refused.add(object.index);
      failed.add(object.index);
      problems.push(...found);
    }
    const before = previous === undefined ? undefined : contentIndex(previous.documents);
    for (const parsedObject of parsed.objects) {
      if (refused.has(parsedObject.index)) continue;
      const same = before?.get(contentKey(parsedObject));
      const object = same === undefined ? parsedObject : { ...parsedObject, object: same };
      const list = (documents.get(object.index) as ManifestObject[] | undefined) ?? [];
      list.push(object);
      documents.set(object.index, list);
    }
    for (const index of failed) {
      const kept = previous?.documents.get(index);
      if (kept === undefined || documents.has(index)) continue;
      documents.set(index, kept);
      problems.push({ file, index, field: "", message: "keeping this document's last good version until it is fixed" });
    }
    this.#files.set(file, { documents, problems });
    return problems;
  }

  /** Forgets a file that was deleted. */
  remove(file: string): void {
    this.#files.delete(file);
  }

  files(): string[] {
    return [...this.#files.keys()].sort();
  }

  /** Sets a workload's replicas, as `kubectl scale --replicas=N rc/NAME` does. False if none has that name. */
  scale(kind: "ReplicationController" | "Deployment", name: string, replicas: number, namespace = "default"): boolean {
    const found = this.#objects().some((o) => o.kind === kind && this.#nameOf(o) === `${namespace}/${name}`);
    if (found) this.#scaled.set(`${kind}/${namespace}/${name}`, replicas);
    return found;
  }

  /** Local pods of a workload object, made once per object and replica count: the same Pod
   * objects each snapshot, so an unchanged workload does not rebuild its services. */
  #localPods(workload: ManifestObject, replicas: number | undefined, make: () => LocalPods): LocalPods {
    // Problems name the document, so a workload that moved in its file makes its pods again.
    const key = `${workload.file}\n${workload.index}\n${replicas ?? "-"}`;
    const made = this.#made.get(workload.object);
    if (made !== undefined && made.key === key) return made.pods;
    const pods = make();
    this.#made.set(workload.object, { key, pods });
    return pods;
  }

  #nameOf(object: ManifestObject): string {
    return objectKey(object.object as NamedObject) ?? "";
  }

  #objects(): ManifestObject[] {
    const out: ManifestObject[] = [];
    for (const file of this.files()) {
      const state = this.#files.get(file)!;
      for (const index of [...state.documents.keys()].sort((a, b) => a - b)) out.push(...state.documents.get(index)!);
    }
    return out;
  }

  /** The table builder's input, the problems of every file and of workload expansion, and counts. */
  snapshot(): { input: RoutingTableInput; problems: ManifestProblem[]; summary: ManifestSummary; gatewayApi: GatewayApiObjects } {
    const objects = this.#objects();
    const problems: ManifestProblem[] = [];
    for (const file of this.files()) problems.push(...this.#files.get(file)!.problems);
    const { services, endpointSlices, pods } = tableInputOf(objects);
    const localPods: KubePod[] = [];
    let workloads = 0;
    for (const object of objects) {
      if (object.kind !== "ReplicationController" && object.kind !== "Deployment") continue;
      workloads++;
      const replicas = this.#scaled.get(`${object.kind}/${this.#nameOf(object)}`);
      const spec = (object.object["spec"] ?? {}) as Record<string, unknown>;
      // A scaled copy: objects handed to us are never mutated.
      const effective = replicas === undefined ? object : { ...object, object: { ...object.object, spec: { ...spec, replicas } } };
      const made = this.#localPods(object, replicas, () => localPodsOf(effective));
      localPods.push(...made.pods);
      problems.push(...made.problems);
    }
    const allPods = [...pods, ...localPods];
    // Files describe endpoints either as EndpointSlices (copied from a cluster) or as Pods (written
    // by hand, or made from workloads); with no slice at all the Service selectors pick pods, as
    // the EndpointSlice controller would.
    const input: RoutingTableInput = {
      services,
      endpointSlices,
      pods: allPods,
      endpointsFrom: endpointSlices.length > 0 ? "EndpointSlices" : "Pods",
    };
    const gatewayApi = gatewayApiObjectsOf(objects);
    return { input, problems, summary: { services: services.length, endpointSlices: endpointSlices.length, pods: allPods.length, workloads }, gatewayApi };
  }
}
