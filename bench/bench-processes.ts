// The processes of the load benchmarks (bench:proxy, bench:h2, bench:ws): the project's own node
// and deno, pinned to a core, started and waited for until they print the port they listen on.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";

/** The project's own tools (Node 24 and Deno 2 from npm), not the machine's. */
export const bin = (name: string): string => join("node_modules", ".bin", name);

// On a 2-core machine the proxy under test gets core 1 to itself, and the load generator and the
// backend share core 0: without pinning, the three compete for both cores and the scheduler's
// choices, not the proxies, decide the figures (runs varied by 2x).
export const pinning = spawnSync("taskset", ["-c", "0", "true"]).status === 0;

/** The command line that runs `command` on `core` (unchanged where taskset is missing). */
export const pin = (core: number, command: string, args: string[]): [string, string[]] => (pinning ? ["taskset", ["-c", String(core), command, ...args]] : [command, args]);

/** The line a bench process or vipr prints once it listens: "ready PORT" or "listening on http(s)://H:PORT". */
const listening = /ready (\d+)|listening on https?:\/\/[^:]+:(\d+)/;

export interface StartedProcess {
  readonly child: ChildProcess;
  /** The port of the line that matched (NaN when `ready` has no group). */
  readonly port: number;
  /** All it printed so far, stdout and stderr. */
  readonly output: () => string;
}

/** Starts a process (pinned to `core` when given) and resolves once its output matches `ready`, with the port the first group that matched captured. */
export function startProcess(command: string, args: string[], options: { core?: number; ready?: RegExp } = {}): Promise<StartedProcess> {
  const { core, ready = listening } = options;
  return new Promise((resolve, reject) => {
    const [launched, launchedArgs] = core === undefined ? [command, args] : pin(core, command, args);
    const child = spawn(launched, launchedArgs, { stdio: ["ignore", "pipe", "pipe"] });
    let seen = "";
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      const match = ready.exec(seen);
      if (match !== null) resolve({ child, port: Number(match.slice(1).find((group) => group !== undefined)), output: () => seen });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${command} ${args.join(" ")} exited with ${code}: ${seen}`)));
    setTimeout(() => reject(new Error(`${command} ${args.join(" ")} did not start: ${seen}`)), 60_000).unref();
  });
}

/** Whether `tool` runs; where it does not and this is root, installs `debianPackage` first. */
export function ensureDebianTool(tool: string, debianPackage: string, log: (line: string) => void): boolean {
  const have = (): boolean => spawnSync(tool, ["--version"], { stdio: "ignore" }).error === undefined;
  if (have()) return true;
  if (process.getuid?.() === 0) {
    log(`${tool} is missing: installing ${debianPackage} from Debian's packages`);
    spawnSync("apt-get", ["update", "-qq"], { stdio: "ignore" });
    spawnSync("apt-get", ["install", "-y", "-qq", debianPackage], { stdio: "ignore" });
  }
  return have();
}
