// `vipr serve --source file:DIR` over a temporary folder of manifests, for the tests that edit
// those files while vipr runs: the folder, the process and its plain port, and a save that writes
// a file whole (write, then rename, so the folder watcher never reads half a file).
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startVipr, type ViprProcess } from "../cli/vipr-process.ts";

export interface FileServe {
  readonly dir: string;
  readonly vipr: ViprProcess;
  /** vipr's plain (--listen) port. */
  readonly port: number;
  /** Replaces or adds a file of the folder in one step. */
  save(name: string, text: string): Promise<void>;
  /** Deletes the folder; the process is ended by killAll (vipr-process.ts). */
  remove(): Promise<void>;
}

/** Writes `files` (name -> text) to a new folder named from `prefix` and starts `vipr serve` on it
 * on loopback with the admin listener off, plus `args`; resolves once vipr listens. */
export async function serveFromFiles(prefix: string, files: Readonly<Record<string, string>>, args: readonly string[] = []): Promise<FileServe> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const vipr = startVipr(["serve", "--source", `file:${dir}`, "--listen", "127.0.0.1:0", ...args, "--admin", "off"]);
  const port = Number((await vipr.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/, "stderr", 60_000))[1]);
  return {
    dir,
    vipr,
    port,
    async save(name, text) {
      await writeFile(join(dir, `${name}.tmp`), text);
      await rename(join(dir, `${name}.tmp`), join(dir, name));
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
