// The file source: Kubernetes manifests in a file or a folder (*.yaml, *.yml, *.json, not
// recursive), loaded into a routing table and watched: an edit applies within a second (changes
// are debounced by `debounceMs`, default 100 ms), a broken edit is reported by file, document and
// field while the last good version keeps serving (manifest-set.ts). Each load is a source of
// object changes like a list/watch loop: the files' objects replace the content of a table input
// store, which records what changed, and the one routing table builder rebuilds only the services
// those changes touch (router/table/routing-table-builder.ts), as for the Kubernetes source.
// Objects with values the builder skips or adjusts are logged once per version and counted.
// node:fs works on both Node and Deno, so this one module serves both runtimes.
import { watch, type FSWatcher } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Registry } from "prom-client";
import type { RoutingTable } from "../../router/table/routing-table.ts";
import { RoutingTableBuilder } from "../../router/table/routing-table-builder.ts";
import { replaceTableInput } from "../../router/table/table-input-check.ts";
import { TableInputStore, type ObjectChange } from "../../router/table/table-input-store.ts";
import type { GatewayApiObjects } from "../../router/gateway-api/gateway-api-objects.ts";
import { formatProblem, type ManifestProblem } from "./manifest-documents.ts";
import { ManifestSet, type ManifestSummary } from "./manifest-set.ts";
import { SkippedReport } from "./skipped-report.ts";

export interface FileSourceOptions {
  /** A manifest file, or a folder of them. */
  readonly path: string;
  /** Each new table, after the first load and after every change. */
  readonly onTable: (table: RoutingTable, summary: ManifestSummary) => void;
  /** The Gateway API objects (HTTPRoute, Gateway, ...) of each load, called after onTable. */
  readonly onGatewayApi?: (objects: GatewayApiObjects) => void;
  /** Problems of the latest load, one line each ("file: document 1: spec.ports: ..."). */
  readonly onProblems?: (lines: readonly string[]) => void;
  /** Watch for changes; default true. */
  readonly watch?: boolean;
  readonly debounceMs?: number;
  /** Objects skipped or adjusted, one line each, once (skipped-report.ts): values the table
   * builder skipped (`skipped EndpointSlice default/web-1: endpoints[0].addresses[0]: ...`) and
   * documents refused for a field. */
  readonly log?: (line: string) => void;
  /** Where vipr_objects_skipped_total is counted (pass RouterMetrics.registry). */
  readonly registry?: Registry;
  /** Every change a load made to the store, after it was made (see TableInputStore). */
  readonly onObjectChange?: (change: ObjectChange) => void;
}

export interface FileSource {
  readonly set: ManifestSet;
  /** The objects the table is built from, as of the last publish. */
  readonly store: TableInputStore;
  readonly table: RoutingTable;
  /** Rebuilds and publishes from the files as they are now (also after scale()). */
  reload(): Promise<RoutingTable>;
  /** Rebuilds from the set without reading files (after set.scale()). */
  republish(): RoutingTable;
  close(): void;
}

const manifestFile = /\.(ya?ml|json)$/i;

/** The manifest files at `path`: the file itself, or the folder's manifest files, sorted. */
export async function manifestFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const names = await readdir(path);
  return names.filter((name) => manifestFile.test(name)).sort().map((name) => join(path, name));
}

/** Loads `path` once and, unless told not to, keeps watching it. Throws if `path` does not exist. */
export async function startFileSource(options: FileSourceOptions): Promise<FileSource> {
  const set = new ManifestSet();
  const store = new TableInputStore(options.onObjectChange === undefined ? {} : { observe: options.onObjectChange });
  const builder = new RoutingTableBuilder(store);
  const skipped = new SkippedReport(options.log, options.registry);
  let table: RoutingTable | undefined;
  let lastProblems = "";

  const publish = (): RoutingTable => {
    const { input, problems, summary, gatewayApi } = set.snapshot();
    const checked = replaceTableInput(store, input);
    table = builder.update(store.takeChanges(), { endpointsFrom: checked.endpointsFrom, inputDiagnostics: checked.diagnostics });
    skipped.report(table, store, problems);
    const lines = [...problems.map((p: ManifestProblem) => formatProblem(p)), ...table.diagnostics.map((d) => d.message)];
    const joined = lines.join("\n");
    if (joined !== lastProblems) {
      lastProblems = joined;
      options.onProblems?.(lines);
    }
    options.onTable(table, summary);
    options.onGatewayApi?.(gatewayApi);
    return table;
  };

  const load = async (): Promise<RoutingTable> => {
    const files = await manifestFiles(options.path);
    const present = new Set(files);
    for (const file of set.files()) if (!present.has(file)) set.remove(file);
    for (const file of files) {
      try {
        set.update(file, await readFile(file, "utf8"));
      } catch (error) {
        // Deleted between readdir and readFile (an editor's save-by-rename): the next event reloads it.
        if ((error as { code?: string }).code !== "ENOENT") throw error;
      }
    }
    return publish();
  };

  await load();
  let watcher: FSWatcher | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let loading: Promise<unknown> = Promise.resolve();
  let closed = false;
  if (options.watch ?? true) {
    // A single file is watched through its folder: editors save by writing a new file and renaming
    // it over the old one, and a watch on the file itself follows the old inode and goes silent.
    const single = !(await stat(options.path)).isDirectory();
    const name = basename(options.path);
    watcher = watch(single ? dirname(options.path) : options.path, (_event, filename) => {
      if (single && filename !== null && filename !== name) return;
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        loading = loading
          .then(() => (closed ? undefined : load()))
          .catch((error: unknown) => options.onProblems?.([`${options.path}: ${(error as Error).message}`]));
      }, options.debounceMs ?? 100);
    });
  }
  return {
    set,
    store,
    get table(): RoutingTable {
      return table!;
    },
    reload: load,
    republish: publish,
    close(): void {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      watcher?.close();
    },
  };
}
