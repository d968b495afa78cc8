// vipr as a Gateway API implementation against a cluster: the Gateway API source feeds the
// router's route table, and the status each set of objects gets is written back (problems and
// routes that do not attach are also logged, once per change).
import type { KubeConfig } from "@kubernetes/client-node";
import { VIPR_CONTROLLER_NAME } from "../../router/gateway-api/gateway-api-objects.ts";
import { statusProblems } from "../../router/gateway-api/gateway-conditions.ts";
import type { GatewayObjectsSink } from "../../router/gateway-api/gateway-route-state.ts";
import { GatewayApiSource, type GatewayApiSourceOptions } from "./gateway-api-source.ts";
import { GatewayApiStatusWriter } from "./gateway-api-status.ts";

/** Starts the source; resolves nothing, returns its stop function. */
export function startGatewayApiFromKube(
  kubeConfig: KubeConfig,
  router: GatewayObjectsSink,
  log: (line: string) => void,
  extra: Partial<Pick<GatewayApiSourceOptions, "fetch" | "timing" | "clock">> & { readonly controllerName?: string } = {},
): () => Promise<void> {
  const { controllerName = VIPR_CONTROLLER_NAME, ...sourceOptions } = extra;
  const writer = new GatewayApiStatusWriter({ kubeConfig, controllerName, log });
  let logged = "";
  const source: GatewayApiSource = new GatewayApiSource({
    kubeConfig,
    log,
    ...sourceOptions,
    onObjects: (objects, problems) => {
      // Before the first routing table, a backend cannot be told missing: say so later, not wrongly now.
      const status = router.setGatewayObjects(objects, { serviceExists: (key) => router.table?.services.has(key) ?? true, service: (key) => router.table?.services.get(key), controllerName });
      const lines = [...problems, ...statusProblems(status)];
      const joined = lines.join("\n");
      if (joined !== logged) for (const line of lines) log(`gateway api: ${line}`);
      logged = joined;
      void writer.write(status, source);
    },
  });
  source.start();
  return () => source.stop();
}
