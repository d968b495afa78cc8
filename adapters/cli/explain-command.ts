// `vipr explain HOST`: which endpoint a request to HOST (with a hash key, subset or client
// address) would reach and why, from manifests, without sending anything.
import { parseArgs } from "node:util";
import { ServiceRouter } from "../../router/service-router.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { startFileSource } from "../file/file-source.ts";
import { loadRuntimeAdapter } from "../runtime-adapter.ts";
import { EXIT_INVALID, EXIT_OK, UsageError } from "./cli-errors.ts";
import { policyFromFlags } from "./serve-command.ts";

export const explainHelp = `vipr explain: which endpoint a host would reach, and why

Usage: vipr explain HOST --source file:PATH [options]

  --source file:PATH   the manifests to route by (required)
  --key K              the request's hash key (header, cookie, query value, address or path)
  --subset SELECTOR    a label selector naming a subset (app=web,version!=v1)
  --client IP          the client's address (for sessionAffinity: ClientIP, and the key of a
                       client-ip hash policy when --key is not given)
  --path PATH          the request path (for route rules; default /)
  --namespace NS       the router's namespace (default "default")
  --policy, --hash-key, --load-factor   the default policy, as for vipr serve

Prints the answer as JSON. Exit codes: 0 found, 3 the host does not resolve, 2 bad command line.
`;

export async function runExplain(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      source: { type: "string" },
      key: { type: "string" },
      subset: { type: "string" },
      client: { type: "string" },
      path: { type: "string" },
      namespace: { type: "string", default: "default" },
      policy: { type: "string" },
      "hash-key": { type: "string" },
      "load-factor": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(explainHelp);
    return EXIT_OK;
  }
  if (positionals.length !== 1) throw new UsageError("vipr explain takes one HOST (a service name, e.g. simpleservice or web.shop:8080)");
  const source = values.source;
  if (source === undefined || !source.startsWith("file:")) throw new UsageError("--source file:PATH is required");
  const files = await startFileSource({ path: source.slice(5), watch: false, onTable: () => {} }).catch((error: unknown) => {
    throw new UsageError(`--source ${source}: ${(error as Error).message}`);
  });
  const runtime = await loadRuntimeAdapter();
  const router = new ServiceRouter({
    core: createWasmCore(),
    transport: runtime.createTransport(),
    clientAddress: runtime.clientAddress,
    namespace: values.namespace,
    defaultPolicy: policyFromFlags(values.policy, values["hash-key"], values["load-factor"]),
  });
  router.setTable(files.table);
  const answer = router.explain({
    host: positionals[0]!,
    ...(values.key === undefined ? {} : { key: values.key }),
    ...(values.subset === undefined ? {} : { subset: values.subset }),
    ...(values.client === undefined ? {} : { clientIp: values.client }),
    ...(values.path === undefined ? {} : { path: values.path }),
  });
  console.log(JSON.stringify(answer, null, 2));
  await router.close();
  return answer.found ? EXIT_OK : EXIT_INVALID;
}
