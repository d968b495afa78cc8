// The watched file source on real files in a temporary folder: edits apply within a second, a
// broken edit is reported while the last good table keeps its endpoints, files come and go, and
// close() stops watching. node:fs is the same module on Node and Deno.
import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { startFileSource, type FileSource } from "../../adapters/file/file-source.ts";
import type { RoutingTable } from "../../router/table/routing-table.ts";

/** A Service `name` (port 80 to 8080, selector app=name) and one ready Pod per address. */
function manifest(name: string, addresses: readonly string[]): string {
  const service = `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  selector:\n    app: ${name}\n  ports:\n    - port: 80\n      targetPort: 8080\n`;
  const pods = addresses.map(
    (address, i) =>
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}-${i}\n  labels:\n    app: ${name}\nspec:\n  containers: [{name: app}]\nstatus:\n  phase: Running\n  podIP: ${address}\n  conditions: [{type: Ready, status: "True"}]\n`,
  );
  return [service, ...pods].join("---\n");
}

const endpoints = (table: RoutingTable | undefined, name: string): string[] => (table?.services.get(`default/${name}`)?.endpoints ?? []).map((e) => e.address).sort();

let root: string;
let folder = 0;
const sources: FileSource[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "vipr-file-source-"));
});
afterEach(() => {
  for (const source of sources.splice(0)) source.close();
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh folder with `files`, and a file source on `path` (the folder, or a file in it). */
async function start(files: Record<string, string>, path = ""): Promise<{
  dir: string;
  source: FileSource;
  tables: RoutingTable[];
  problems: (readonly string[])[];
  /** The next table (after now) for which `accept` holds, and how long it took. */
  until(accept: (table: RoutingTable) => boolean, timeoutMs?: number): Promise<{ table: RoutingTable; ms: number }>;
}> {
  const dir = join(root, `case-${folder++}`);
  await mkdir(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const tables: RoutingTable[] = [];
  const problems: (readonly string[])[] = [];
  const waiters = new Set<(table: RoutingTable) => void>();
  const source = await startFileSource({
    path: join(dir, path),
    debounceMs: 50,
    onTable: (table) => {
      tables.push(table);
      for (const waiter of [...waiters]) waiter(table);
    },
    onProblems: (lines) => problems.push(lines),
  });
  sources.push(source);
  const until = (accept: (table: RoutingTable) => boolean, timeoutMs = 3000): Promise<{ table: RoutingTable; ms: number }> => {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`no matching table within ${timeoutMs} ms (last: generation ${source.table.generation})`));
      }, timeoutMs);
      const waiter = (table: RoutingTable): void => {
        if (!accept(table)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve({ table, ms: performance.now() - started });
      };
      waiters.add(waiter);
    });
  };
  return { dir, source, tables, problems, until };
}

describe("startFileSource", () => {
  test("loads a folder's manifest files (not other files) into the first table", async () => {
    const { source, tables, problems } = await start({ "web.yaml": manifest("web", ["10.0.0.1"]), "api.json": JSON.stringify({ apiVersion: "v1", kind: "List", items: [] }), "notes.txt": "kind: nonsense" });
    expect(tables).toHaveLength(1);
    expect(endpoints(source.table, "web")).toEqual(["10.0.0.1"]);
    expect(source.set.files().map((f) => f.split(/[\\/]/).pop())).toEqual(["api.json", "web.yaml"]);
    expect(problems).toEqual([]); // no problems, no call
  });

  test("an edit applies within a second", async () => {
    const { dir, until } = await start({ "web.yaml": manifest("web", ["10.0.0.1"]) });
    const next = until((table) => endpoints(table, "web").length === 2);
    const started = performance.now();
    await writeFile(join(dir, "web.yaml"), manifest("web", ["10.0.0.1", "10.0.0.2"]));
    const { table } = await next;
    const ms = performance.now() - started;
    expect(endpoints(table, "web")).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(ms).toBeLessThan(1000);
  });

  test("a broken edit is reported through onProblems and the last good table keeps its endpoints", async () => {
    const { dir, source, problems, until } = await start({ "web.yaml": manifest("web", ["10.0.0.1", "10.0.0.2"]) });
    const file = join(dir, "web.yaml");
    const reported = new Promise<readonly string[]>((resolve) => {
      const poll = setInterval(() => {
        if (problems.length > 0) {
          clearInterval(poll);
          resolve(problems.at(-1)!);
        }
      }, 10);
    });
    // The Service document gets a YAML syntax error (an unclosed "[" after selector:, found where
    // the next key starts, line 8), and pod 1's document loses its name.
    const broken = manifest("web", ["10.0.0.1", "10.0.0.2"]).replace("  selector:\n", "  selector: [\n").replace("  name: web-1\n", "");
    await writeFile(file, broken);
    const lines = await reported;
    expect(lines).toEqual([
      `${file}: document 1: YAML: Flow sequence in block collection must be sufficiently indented and end with a ] (line 8, column 3)`,
      `${file}: document 3: metadata.name: a Pod needs a name`,
      `${file}: document 1: keeping this document's last good version until it is fixed`,
      `${file}: document 3: keeping this document's last good version until it is fixed`,
    ]);
    expect(endpoints(source.table, "web")).toEqual(["10.0.0.1", "10.0.0.2"]);

    // Fixed again: the problems clear (an empty report) and the edit applies.
    const fixed = until((table) => endpoints(table, "web").length === 1);
    await writeFile(file, manifest("web", ["10.0.0.3"]));
    expect(endpoints((await fixed).table, "web")).toEqual(["10.0.0.3"]);
    expect(problems.at(-1)).toEqual([]);
  });

  test("a new file in the folder is picked up, a deleted file's services go away", async () => {
    const { dir, source, until } = await start({ "web.yaml": manifest("web", ["10.0.0.1"]) });
    const added = until((table) => table.services.get("default/api") !== undefined);
    await writeFile(join(dir, "api.yaml"), manifest("api", ["10.0.1.1"]));
    expect(endpoints((await added).table, "api")).toEqual(["10.0.1.1"]);
    expect(endpoints(source.table, "web")).toEqual(["10.0.0.1"]);

    const removed = until((table) => table.services.get("default/web") === undefined);
    await unlink(join(dir, "web.yaml"));
    const { table } = await removed;
    expect([...table.services.keys()]).toEqual(["default/api"]);
  });

  test("a single file keeps being watched after an editor saves by renaming a new file over it", async () => {
    const { dir, until } = await start({ "web.yaml": manifest("web", ["10.0.0.1"]), "other.yaml": manifest("other", ["10.0.9.9"]) }, "web.yaml");
    const file = join(dir, "web.yaml");
    for (const addresses of [["10.0.0.2"], ["10.0.0.3"], ["10.0.0.4"]]) {
      const next = until((table) => endpoints(table, "web").join() === addresses.join());
      await writeFile(`${file}.swp`, manifest("web", addresses));
      await rename(`${file}.swp`, file);
      const { table } = await next;
      // Only the named file is read, not its neighbours.
      expect(table.services.get("default/other")).toBeUndefined();
    }
  });

  test("close() stops watching", async () => {
    const { dir, source, tables } = await start({ "web.yaml": manifest("web", ["10.0.0.1"]) });
    // A witness: a second source on the same folder, left open, with a longer debounce (250 ms
    // against 50). Both would see the same file events, so once the witness has published the
    // edit, the closed source would have published it before, had it still been watching. No
    // fixed wait: the witness's table is the event that ends the test.
    let seen!: () => void;
    const witnessed = new Promise<void>((resolve) => (seen = resolve));
    const witness = await startFileSource({ path: dir, debounceMs: 250, onTable: (table) => endpoints(table, "web").length === 2 && seen() });
    sources.push(witness);
    source.close();
    await writeFile(join(dir, "web.yaml"), manifest("web", ["10.0.0.1", "10.0.0.2"]));
    await witnessed;
    expect(tables).toHaveLength(1);
    expect(endpoints(source.table, "web")).toEqual(["10.0.0.1"]);
  });

  test("a path that does not exist fails the start", async () => {
    await expect(startFileSource({ path: join(root, "missing.yaml"), onTable: () => {} })).rejects.toThrow(/ENOENT/);
  });
});
