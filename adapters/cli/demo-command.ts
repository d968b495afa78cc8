// `vipr demo`: the seed's walk-through on this machine, no cluster needed. vipr loads the
// tutorial's ReplicationController and Service (examples/simpleservice.yaml) with its file source,
// starts the controller's pods as local servers, sends traffic to `simpleservice` through vipr,
// scales the controller from one replica to two the way `kubectl scale --replicas=2 rc/rcsise`
// does, and draws how the traffic splits per pod, live.
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startFileSource } from "../file/file-source.ts";
import { EXIT_OK, UsageError } from "./cli-errors.ts";
import { DemoPods } from "./demo-pods.ts";
import { startDemoTraffic, untilDemoEnds } from "./demo-traffic.ts";
import { parseListen, startVipr } from "./start-vipr.ts";

export const demoHelp = `vipr demo: the services tutorial (two pods labelled app=sise behind simpleservice:80 -> 9876)
on this machine: local pods, vipr routing by service name, scaling from one replica to two.

Usage: vipr demo [options]

  --listen HOST:PORT      vipr's traffic listener (default 127.0.0.1:8080)
  --admin HOST:PORT       admin listener (default 127.0.0.1:9090; "off" for none)
  --manifests PATH        the tutorial's objects (default examples/simpleservice.yaml)
  --duration SECONDS      stop after this long (default: at Ctrl-C on a terminal, else 15)
  --scale-after SECONDS   when to scale rc/rcsise to 2 replicas (default 4)
  --rate N                demo requests per second (default 20)
  --pod-port PORT         the port every pod listens on (default: the manifests' containerPort,
                          9876); 0: each pod takes a free port, and vipr routes to it
  --kubectl               you drive it: a local control plane (a fake API server with its
                          controllers) and a kubeconfig for it; vipr routes from its Kubernetes
                          source, and the tutorial's kubectl commands are printed to type in
                          another terminal (apply, get pods -l app=sise, scale, curl through vipr)
  --kubeconfig PATH       with --kubectl: where to write the kubeconfig (default: a new
                          temporary folder)
`;

const options = {
  listen: { type: "string", default: "127.0.0.1:8080" },
  admin: { type: "string", default: "127.0.0.1:9090" },
  manifests: { type: "string" },
  duration: { type: "string" },
  "scale-after": { type: "string", default: "4" },
  rate: { type: "string", default: "20" },
  "pod-port": { type: "string" },
  kubectl: { type: "boolean", default: false },
  kubeconfig: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

function seconds(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag} ${JSON.stringify(value)}: expected a number of seconds`);
  return n;
}

export async function runDemo(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
  if (values.help) {
    console.log(demoHelp);
    return EXIT_OK;
  }
  const tty = process.stdout.isTTY === true;
  const duration = values.duration === undefined ? (tty ? Infinity : 15) : seconds(values.duration, "--duration");
  const scaleAfter = seconds(values["scale-after"], "--scale-after");
  const rate = seconds(values.rate, "--rate");
  const manifests = values.manifests ?? fileURLToPath(new URL("../../examples/simpleservice.yaml", import.meta.url));
  const listen = parseListen(values.listen, "--listen");
  const admin = values.admin === "off" ? null : parseListen(values.admin, "--admin");
  const podPortFlag = values["pod-port"];
  const podPort = podPortFlag === undefined ? undefined : Number(podPortFlag);
  if (podPort !== undefined && !(/^[0-9]{1,5}$/.test(podPortFlag!) && podPort <= 65535)) {
    throw new UsageError(`--pod-port ${JSON.stringify(podPortFlag)}: expected a port number from 0 to 65535`);
  }

  // Loaded only for --kubectl: the Kubernetes client and the fake API server would slow every
  // plain `vipr demo`'s start (seconds on Deno).
  if (values.kubectl) return (await import("./demo-kubectl.ts")).runKubectlDemo({ listen, admin, manifests, podPort, rate, duration, tty, ...(values.kubeconfig === undefined ? {} : { kubeconfig: values.kubeconfig }) });
  if (values.kubeconfig !== undefined) throw new UsageError("--kubeconfig goes with --kubectl");

  const vipr = await startVipr({ listen, admin, namespace: "default" });
  const port = vipr.server!.port; // started with a traffic listener
  const log = (line: string): void => console.log(line);
  const pods = new DemoPods((table) => vipr.setTable(table), podPort, log);

  const files = await startFileSource({ path: manifests, onTable: (table) => pods.publish(table), onProblems: (lines) => lines.forEach((line) => log(`problem: ${line}`)) });
  await pods.published;
  if (pods.startError !== undefined) throw pods.startError;
  pods.loaded = true;
  const service = files.table.services.get("default/simpleservice");
  log(`vipr ${vipr.runtime.name} ${vipr.runtime.version}: loaded ${relative(process.cwd(), manifests) || manifests}`);
  log(`  service simpleservice: port 80 -> ${String(service?.ports[0]?.targetPort ?? "?")}, selector app=sise, ${service?.endpoints.length ?? 0} endpoint(s)`);
  log(`  listening on http://${listen.hostname}:${port}${vipr.adminServer === undefined ? "" : `, admin on http://${admin!.hostname}:${vipr.adminServer.port}`}`);
  log("");
  log("Try, while the demo runs:");
  log(`  curl -H 'Host: simpleservice' http://${listen.hostname}:${port}/info`);
  log(`  http_proxy=http://${listen.hostname}:${port} curl simpleservice/info`);
  log(`  http_proxy=http://${listen.hostname}:${port} curl simpleservice.default.svc.cluster.local/info`);
  if (vipr.adminServer !== undefined) log(`  curl 'http://${admin!.hostname}:${vipr.adminServer.port}/debug/explain?host=simpleservice'`);
  log("");

  const traffic = startDemoTraffic(port, rate, pods.running, tty);
  const scaling = setTimeout(() => {
    traffic.keepOutput();
    log(`\n$ kubectl scale --replicas=2 rc/rcsise`);
    files.set.scale("ReplicationController", "rcsise", 2);
    files.republish();
    void pods.published.then(() => pods.running.size > 1 && traffic.markScaled()); // not when the second pod could not start
  }, scaleAfter * 1000);

  await untilDemoEnds(duration);
  clearTimeout(scaling);
  traffic.stop();
  files.close();
  await vipr.close();
  await pods.close();
  return EXIT_OK;
}
