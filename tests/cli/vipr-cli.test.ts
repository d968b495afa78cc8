// `vipr` as a user runs it, as a process of this runtime: help, flag validation and exit codes,
// `check`, `explain`, and `serve` routing by Host to loopback pods from a watched manifest file,
// with its admin listener, a live edit, and SIGTERM.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { seedService, slicesFor, startPod, type Pod, type SliceEndpoint } from "../support/seed-backends.ts";
import { get, killAll, rawRequest, runVipr, startVipr, type ViprProcess } from "./vipr-process.ts";

let temp: string;
beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), "vipr-cli-"));
});
afterAll(async () => {
  await killAll();
  await rm(temp, { recursive: true, force: true });
});

describe.concurrent("help and usage errors", () => {
  test("vipr --help lists the commands (exit 0)", async () => {
    const { code, stdout } = await runVipr(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("Usage: vipr <command> [options]");
    for (const command of ["serve", "demo", "explain", "check"]) expect(stdout).toMatch(new RegExp(`^  ${command} `, "m"));
  });

  test("vipr serve --help shows serve's options (exit 0)", async () => {
    const { code, stdout, stderr } = await runVipr(["serve", "--help"]);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    expect(stdout).toContain("Usage: vipr serve --source SOURCE [options]");
    for (const flag of ["--source file:PATH", "--listen HOST:PORT", "--admin HOST:PORT", "--policy NAME", "--hash-key SOURCE"]) expect(stdout).toContain(flag);
  });

  test.each([["demo", "Usage: vipr demo [options]"], ["explain", "Usage: vipr explain HOST --source file:PATH [options]"], ["check", "Usage: vipr check PATH"]])(
    "vipr %s --help (exit 0)",
    async (command, usage) => {
      const { code, stdout } = await runVipr([command, "--help"]);
      expect(code).toBe(0);
      expect(stdout).toContain(usage);
    },
  );

  test("vipr with no command prints the usage and exits 2", async () => {
    const { code, stdout } = await runVipr([]);
    expect(code).toBe(2);
    expect(stdout).toContain("Usage: vipr <command> [options]");
  });

  const serveFlags = ["serve", "--source", "file:examples/simpleservice.yaml", "--listen", "127.0.0.1:0", "--admin", "off"];
  test.each([
    ["an unknown command", ["bogus"], 'unknown command "bogus"; expected serve, demo, explain or check'],
    ["an unknown flag", ["serve", "--bogus"], "Unknown option '--bogus'; see vipr serve --help"],
    ["a flag without its value", ["serve", "--source"], "Option '--source <value>' argument missing; see vipr serve --help"],
    ["a bad --listen", [...serveFlags, "--listen", "nope"], '--listen "nope": expected HOST:PORT, :PORT or PORT (e.g. 127.0.0.1:8080)'],
    ["a --listen port out of range", [...serveFlags, "--listen", "127.0.0.1:70000"], '--listen "127.0.0.1:70000": expected HOST:PORT, :PORT or PORT (e.g. 127.0.0.1:8080)'],
    ["a bad --admin", [...serveFlags, "--admin", "127.0.0.1:x"], '--admin "127.0.0.1:x": expected HOST:PORT, :PORT or PORT (e.g. 127.0.0.1:8080)'],
    ["a bad --policy", [...serveFlags, "--policy", "random"], '--policy "random": expected one of least-request, round-robin, maglev, bounded-load'],
    ["--policy maglev without --hash-key", [...serveFlags, "--policy", "maglev"], "--policy maglev needs --hash-key"],
    ["a bad --access-log", [...serveFlags, "--access-log", "2"], '--access-log "2": expected a number from 0 to 1'],
    ["a bad --slow-start-window", [...serveFlags, "--slow-start-window", "soon"], '--slow-start-window "soon": expected a duration such as 30s or 2m, or whole milliseconds, at most 24h'],
    ["a bad --trusted-proxies range", [...serveFlags, "--trusted-proxies", "10.0.0.0/8", "--trusted-proxies", "192.0.2.0/24,10.0.0.0/33"], '--trusted-proxies: "10.0.0.0/33": the prefix length must be a whole number from 0 to 32; expected an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32'],
    ["a --trusted-proxies name", [...serveFlags, "--trusted-proxies", "lb.internal"], '--trusted-proxies: "lb.internal" is not an IP address or CIDR range: expected an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32'],
    ["an empty --trusted-proxies range", [...serveFlags, "--trusted-proxies", "10.0.0.0/8,"], '--trusted-proxies "10.0.0.0/8,": an empty range; expected CIDR ranges such as 10.0.0.0/8,2001:db8::/32'],
    ["a missing --source", ["serve", "--listen", "127.0.0.1:0"], "--source is required: file:PATH or kube (see vipr serve --help)"],
    ["an unknown --source", ["serve", "--source", "etcd"], '--source "etcd": expected file:PATH or kube'],
    ["vipr check without a path", ["check"], "vipr check takes one PATH (a manifest file or folder)"],
    ["vipr explain without --source", ["explain", "simpleservice"], "--source file:PATH is required"],
    ["a bad demo --duration", ["demo", "--duration", "soon"], '--duration "soon": expected a number of seconds'],
  ])("%s exits 2 with a precise message", async (_name, args, message) => {
    const { code, stdout, stderr } = await runVipr(args);
    expect(stderr).toBe(`vipr: ${message}\n`);
    expect(stdout).toBe("");
    expect(code).toBe(2);
  });

  test("a --source file that does not exist exits 2 and names it", async () => {
    const { code, stderr } = await runVipr(["serve", "--source", "file:no/such/manifests.yaml", "--listen", "127.0.0.1:0", "--admin", "off"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^vipr: --source file:no\/such\/manifests\.yaml: ENOENT/m);
  });
});

describe.concurrent("vipr check and vipr explain", () => {
  test("vipr check on the seed file: no problems (exit 0)", async () => {
    const { code, stdout } = await runVipr(["check", "examples/simpleservice.yaml"]);
    expect(stdout).toBe("examples/simpleservice.yaml: 1 services, 1 endpoints, 0 problems\n");
    expect(code).toBe(0);
  });

  test("vipr check on a broken file prints one line per problem (exit 3)", async () => {
    const file = join(temp, "broken.yaml");
    await writeFile(
      file,
      [
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 80}]\n",
        "apiVersion: v1\nkind: Service\nmetadata: {name: [\n",
        "apiVersion: v2\nkind: Pod\nmetadata:\n  name: p\n",
        "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: rc\nspec:\n  template:\n    metadata:\n      labels: {app: web}\n",
      ].join("---\n"),
    );
    const { code, stdout } = await runVipr(["check", file]);
    expect(stdout.split("\n")).toEqual([
      `${file}: document 2: YAML: Flow sequence in block collection must be sufficiently indented and end with a ] (line 11, column 1)`,
      `${file}: document 2: YAML: Flow map in block collection must be sufficiently indented and end with a } (line 11, column 1)`,
      `${file}: document 3: apiVersion: "v2" is not an apiVersion of Pod; expected v1`,
      `${file}: document 4: metadata.annotations["vipr.io/local-addresses"]: a ReplicationController in a file needs its pods' local addresses here, e.g. "127.0.0.2, 127.0.0.3"; no pods made`,
      `${file}: 1 services, 0 endpoints, 4 problems`,
      "",
    ]);
    expect(code).toBe(3);
  });

  test("vipr explain simpleservice: found, with the endpoint it would reach (exit 0)", async () => {
    const { code, stdout } = await runVipr(["explain", "simpleservice", "--source", "file:examples/simpleservice.yaml"]);
    expect(code).toBe(0);
    const answer = JSON.parse(stdout) as { found: boolean; service: string; result: { ok: boolean; address: string; port: number } };
    expect(answer.found).toBe(true);
    expect(answer.service).toBe("default/simpleservice");
    expect(answer.result).toMatchObject({ ok: true, address: "127.0.0.2", port: 9876 });
  });

  test("vipr explain of an unknown host: not found (exit 3)", async () => {
    const { code, stdout } = await runVipr(["explain", "nosuch.default", "--source", "file:examples/simpleservice.yaml"]);
    expect(code).toBe(3);
    expect(JSON.parse(stdout)).toMatchObject({ found: false, host: "nosuch.default", error: "unknown_service", message: 'host "nosuch.default": no service "nosuch" in namespace "default"' });
  });
});

describe("vipr serve --source file:...", () => {
  let pods: Pod[];
  let manifest: string;
  let vipr: ViprProcess;
  let port: number;
  let adminPort: number;

  /** The seed's Service and one EndpointSlice per pod (each pod on its own loopback port). */
  const writeManifest = (endpoints: readonly SliceEndpoint[]): Promise<void> =>
    writeFile(manifest, [seedService(), ...slicesFor("simpleservice", endpoints)].map((object) => JSON.stringify(object, null, 2)).join("\n---\n"));

  const podOf = async (host: string, target = "/info"): Promise<string> => {
    const response = await rawRequest(port, `GET ${target} HTTP/1.1`, host);
    expect(response.status, response.body).toBe(200);
    return (JSON.parse(response.body) as { pod: string }).pod;
  };

  beforeAll(async () => {
    pods = await Promise.all(["rcsise-first", "rcsise-second"].map((name) => startPod(name)));
    manifest = join(temp, "simpleservice.json");
    await writeManifest([{ pod: pods[0]!.name, port: pods[0]!.port }]);
    vipr = startVipr(["serve", "--source", `file:${manifest}`, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"]);
    port = Number((await vipr.waitFor(/^vipr: listening on http:\/\/127\.0\.0\.1:(\d+)$/m))[1]);
    adminPort = Number((await vipr.waitFor(/^vipr: admin on http:\/\/127\.0\.0\.1:(\d+) /m))[1]);
    await vipr.waitFor(/^vipr: table 1 from .*: 1 services, 1 endpoints \(0 pods, 1 slices\)$/m);
  });
  afterAll(async () => {
    await killAll();
    await Promise.all(pods.map((pod) => pod.close()));
  });

  test("says where it listens and what it loaded", () => {
    expect(port).toBeGreaterThan(0);
    expect(adminPort).toBeGreaterThan(0);
    expect(vipr.stderr()).toMatch(/^vipr: (node|deno) \S+, namespace default, default policy least-request$/m);
  });

  test.each([["simpleservice"], ["simpleservice.default"], ["simpleservice.default.svc.cluster.local"], ["SimpleService:80"]])("Host %s reaches the pod", async (host) => {
    expect(await podOf(host)).toBe("rcsise-first");
  });

  test("an absolute-form request (http_proxy=vipr curl simpleservice/info) reaches the pod", async () => {
    expect(await podOf("simpleservice", "http://simpleservice/info")).toBe("rcsise-first");
    expect(pods[0]!.hits.at(-1)).toBe("/info");
  });

  test("an unknown host gets the 404 JSON and is never dialled", async () => {
    const response = await rawRequest(port, "GET /info HTTP/1.1", "nosuch");
    expect(response.status).toBe(404);
    expect(response.head).toMatch(/\r\ncontent-type: application\/json/i);
    expect(JSON.parse(response.body)).toMatchObject({ error: { status: 404, code: "unknown_service", message: 'host "nosuch": no service "nosuch" in namespace "default"' } });
  });

  test("the admin listener answers /healthz, /readyz, /metrics, /debug/table and /debug/explain", async () => {
    const healthz = await get(adminPort, "/healthz");
    expect([healthz.status, healthz.body]).toEqual([200, "ok\n"]);
    const readyz = await get(adminPort, "/readyz");
    expect([readyz.status, readyz.body]).toEqual([200, "ok\n"]);
    const metrics = await get(adminPort, "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^vipr_requests_total\{.*service="default\/simpleservice".*\} \d+/m);
    const table = await get(adminPort, "/debug/table");
    expect(table.status).toBe(200);
    expect(JSON.parse(table.body)).toMatchObject({ serviceCount: 1, endpointCount: 1, services: [{ key: "default/simpleservice" }] });
    const explain = await get(adminPort, "/debug/explain?host=simpleservice");
    expect(explain.status).toBe(200);
    expect(JSON.parse(explain.body)).toMatchObject({ found: true, service: "default/simpleservice", result: { ok: true, address: "127.0.0.1", port: pods[0]!.port } });
    // Traffic requests go to the traffic listener only.
    expect((await get(adminPort, "/info")).status).toBe(404);
  });

  test("an edit of the manifest (a second pod) is applied from the file watch: one new table, routing changes", async () => {
    // How soon is the file source's debounce (100 ms); a time limit here would measure how busy
    // the machine is. What the CLI must do is apply the edit when the watch reports it: the next
    // table (2) is the edit's, whole, and routing follows.
    await writeManifest(pods.map((pod) => ({ pod: pod.name, port: pod.port })));
    await vipr.waitFor(/^vipr: table 2 from .*: 1 services, 2 endpoints \(0 pods, 2 slices\), 1 changed, 0 removed$/m);
    expect(JSON.parse((await get(adminPort, "/debug/table")).body)).toMatchObject({ endpointCount: 2 });
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) seen.add(await podOf("simpleservice"));
    expect([...seen].sort()).toEqual(["rcsise-first", "rcsise-second"]);
  });

  test("a broken edit is reported and the last good table keeps serving", async () => {
    // The Service document (document 1) breaks; the EndpointSlice documents stay as they were.
    const [, ...slices] = (await readFile(manifest, "utf8")).split("\n---\n");
    await writeFile(manifest, ["apiVersion: v1\nkind: Service\nmetadata: {name: [\n", ...slices].join("\n---\n"));
    await vipr.waitFor(/^vipr: .*simpleservice\.json: document 1: YAML: .*\(line \d+, column \d+\)$/m);
    await vipr.waitFor(/^vipr: .*simpleservice\.json: document 1: keeping this document's last good version until it is fixed$/m);
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) seen.add(await podOf("simpleservice"));
    expect([...seen].sort()).toEqual(["rcsise-first", "rcsise-second"]);
  });

  test("SIGTERM makes it stop and exit 0", async () => {
    vipr.signal("SIGTERM");
    const { code, signal } = await vipr.exited;
    expect(vipr.stderr()).toMatch(/^vipr: SIGTERM: draining and stopping \(/m);
    expect(vipr.stderr()).toMatch(/^vipr: drained, exiting$/m);
    expect({ code, signal }, vipr.stderr()).toEqual({ code: 0, signal: null });
  });
});
