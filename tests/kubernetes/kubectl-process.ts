// The real kubectl as a process, pointed at a served fake API server through a kubeconfig file:
// `KUBECTL` names the binary (default `kubectl` on PATH), so the same tests run a current kubectl
// and Debian's kubernetes-client (1.20). Each run gets its own discovery cache folder, so nothing
// is written under $HOME and no run reads another server's discovery.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const kubectlBinary = process.env["KUBECTL"] ?? "kubectl";

/** The repository root, so `-f examples/simpleservice.yaml` works as in the README. */
export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

export interface KubectlResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The client version line, or undefined when no kubectl can be started. */
export async function kubectlClientVersion(): Promise<string | undefined> {
  const result = await new Promise<KubectlResult | undefined>((resolve) => {
    const child = spawn(kubectlBinary, ["version", "--client"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.on("error", () => resolve(undefined));
    child.on("close", (code) => resolve({ code, stdout, stderr: "" }));
  });
  return result?.code === 0 ? result.stdout.split("\n")[0] : undefined;
}

/** A `kubectl get -w` (or any long-running kubectl): its output so far, and a way to wait for a line. */
export interface KubectlStream {
  output(): string;
  /** Resolves once stdout matches, rejects if kubectl exits first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

export class Kubectl {
  readonly #folder: string;
  readonly #kubeconfig: string;
  readonly #running = new Set<ChildProcess>();

  constructor(kubeconfigYaml: string) {
    this.#folder = mkdtempSync(join(tmpdir(), "vipr-kubectl-"));
    this.#kubeconfig = join(this.#folder, "config");
    writeFileSync(this.#kubeconfig, kubeconfigYaml);
  }

  /** The kubeconfig file kubectl reads (for an in-process client of the same server). */
  get kubeconfigPath(): string {
    return this.#kubeconfig;
  }

  /** Writes a manifest next to the kubeconfig; its path, for `-f`. */
  file(name: string, text: string): string {
    const path = join(this.#folder, name);
    writeFileSync(path, text);
    return path;
  }

  #spawn(args: readonly string[]): ChildProcess {
    const child = spawn(kubectlBinary, [`--kubeconfig=${this.#kubeconfig}`, `--cache-dir=${join(this.#folder, "cache")}`, ...args], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, KUBECONFIG: this.#kubeconfig },
    });
    this.#running.add(child);
    child.on("close", () => this.#running.delete(child));
    return child;
  }

  /** Runs `kubectl ARGS` to its end. */
  run(...args: string[]): Promise<KubectlResult> {
    return new Promise((resolve, reject) => {
      const child = this.#spawn(args);
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** Runs `kubectl ARGS` and fails with its stderr unless it exits 0; its stdout. */
  async ok(...args: string[]): Promise<string> {
    const result = await this.run(...args);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  }

  /** Starts a kubectl that keeps running (`get -w`). */
  stream(...args: string[]): KubectlStream {
    const child = this.#spawn(args);
    let stdout = "";
    let stderr = "";
    const waiters = new Set<() => void>();
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      for (const waiter of [...waiters]) waiter();
    });
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
    return {
      output: () => stdout,
      waitFor: (pattern) =>
        new Promise((resolve, reject) => {
          const check = (): void => {
            const match = pattern.exec(stdout);
            if (match === null) return;
            waiters.delete(check);
            resolve(match);
          };
          waiters.add(check);
          check();
          void exited.then(() => {
            if (waiters.delete(check)) reject(new Error(`kubectl ${args.join(" ")} ended before printing ${pattern}; stdout: ${stdout}; stderr: ${stderr}`));
          });
        }),
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await exited;
      },
    };
  }

  /** Stops what still runs and removes the kubeconfig and cache. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.#running].map((child) => new Promise<void>((resolve) => {
        child.once("close", () => resolve());
        child.kill("SIGKILL");
      })),
    );
    rmSync(this.#folder, { recursive: true, force: true });
  }
}
