// `vipr demo --kubectl` driven as its user would: start it, take the KUBECONFIG it prints, type the
// tutorial's commands it prints (the real kubectl, the real curl through vipr), and see the
// traffic split over both pods after `kubectl scale --replicas=2 rc/rcsise`, in curl's answers and
// in the demo's own chart.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { killAll, repoRoot, startVipr } from "../cli/vipr-process.ts";
import { kubectlBinary, kubectlClientVersion } from "./kubectl-process.ts";

const clientVersion = await kubectlClientVersion();
const title = clientVersion === undefined
  ? `vipr demo --kubectl (skipped: no ${JSON.stringify(kubectlBinary)} on PATH; .ci/run installs Debian's kubernetes-client, or set KUBECTL)`
  : `vipr demo --kubectl with ${clientVersion}`;
if (clientVersion === undefined) console.warn(title);

const home = mkdtempSync(join(tmpdir(), "vipr-demo-home-"));

/** Runs one printed command line in a shell, as the user's other terminal would. */
function type(line: string, kubeconfig: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfig, HOME: home, KUBECACHEDIR: join(home, "cache") };
  for (const name of Object.keys(env)) if (/^(https?|all|no)_proxy$/i.test(name)) delete env[name];
  const command = line.replace(/^kubectl /, `${kubectlBinary} `);
  return new Promise((resolve) => {
    execFile("sh", ["-c", command], { cwd: repoRoot, env }, (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }));
  });
}

afterAll(async () => {
  await killAll();
});

describe.skipIf(clientVersion === undefined)(title, () => {
  test("the printed tutorial commands with kubectl and curl; after the scale, traffic reaches both pods", { timeout: 120_000 }, async () => {
    const demo = startVipr(["demo", "--kubectl", "--listen", "127.0.0.1:0", "--admin", "off", "--pod-port", "0", "--duration", "600", "--rate", "10"]);
    await demo.waitFor(/kubectl delete rc rcsise\n/, "stdout", 30_000);
    const printed = demo.stdout().split("\n").map((l) => l.trim());
    const kubeconfig = printed.find((l) => l.startsWith("export KUBECONFIG="))!.slice("export KUBECONFIG=".length);
    const commands = printed.slice(printed.indexOf(`export KUBECONFIG=${kubeconfig}`) + 1, printed.indexOf("kubectl delete rc rcsise") + 1);
    expect(commands.filter((c) => c.startsWith("kubectl ")).map((c) => c.split(" ").slice(0, 3).join(" "))).toEqual([
      "kubectl apply -f",
      "kubectl get pods",
      "kubectl get service",
      "kubectl scale --replicas=2",
      "kubectl get pods",
      "kubectl delete svc",
      "kubectl delete rc",
    ]);
    const curl = commands.find((c) => c.includes("curl -s simpleservice/info"))!;
    const run = async (line: string): Promise<string> => {
      const result = await type(line, kubeconfig);
      if (result.code !== 0) throw new Error(`${line} exited ${result.code}: ${result.stderr}`);
      return result.stdout;
    };
    const podsAnswering = async (times: number): Promise<Map<string, number>> => {
      const seen = new Map<string, number>();
      for (let i = 0; i < times; i++) {
        const pod = JSON.parse(await run(curl)).pod as string;
        seen.set(pod, (seen.get(pod) ?? 0) + 1);
      }
      return seen;
    };

    expect(await run(commands[0]!)).toBe("replicationcontroller/rcsise created\nservice/simpleservice created\n");
    expect(await run("kubectl get pods -l app=sise")).toMatch(/^NAME +READY +STATUS +RESTARTS +AGE\nrcsise-\w{5} +1\/1 +Running/);
    await demo.waitFor(/simpleservice has 1 endpoint\(s\)/, "stdout", 30_000);
    const [first] = [...(await podsAnswering(3)).keys()];
    expect(first).toMatch(/^rcsise-\w{5}$/);

    expect(await run("kubectl scale --replicas=2 rc/rcsise")).toBe("replicationcontroller/rcsise scaled\n");
    await demo.waitFor(/simpleservice has 2 endpoint\(s\)/, "stdout", 30_000);
    const pods = (await run("kubectl get pods -l app=sise")).split("\n").slice(1).filter((l) => l !== "").map((l) => l.split(/ +/)[0]!).sort();
    expect(pods).toHaveLength(2);
    expect(pods).toContain(first);
    // Requests through vipr reach both pods: the tutorial's point.
    let seen = new Map<string, number>();
    for (let round = 0; round < 5 && seen.size < 2; round++) seen = await podsAnswering(20);
    expect([...seen.keys()].sort()).toEqual(pods);
    // And the chart the demo redraws shows the split of its own traffic over both.
    // (A chart drawn just after the second pod started may still show it at 0%: wait for one with both above.)
    const row = (pod: string): string => `  ${pod} .*\\(\\s*[1-9]\\d*%\\)\\n`;
    await demo.waitFor(new RegExp(`requests per pod, last 5 s[^\\n]*\\n(${row(pods[0]!)}${row(pods[1]!)}|${row(pods[1]!)}${row(pods[0]!)})`), "stdout", 30_000);

    expect(await run("kubectl delete svc simpleservice")).toBe('service "simpleservice" deleted\n');
    await demo.waitFor(/no service simpleservice in its table\n(.|\n)*no service simpleservice in its table/, "stdout", 30_000);
    expect(await run("kubectl delete rc rcsise")).toBe('replicationcontroller "rcsise" deleted\n');
    await demo.waitFor(/pod rcsise-\w{5} stopped(.|\n)*pod rcsise-\w{5} stopped/, "stdout", 30_000);
    demo.signal("SIGINT");
    expect((await demo.exited).code).toBe(0);
  });
});
