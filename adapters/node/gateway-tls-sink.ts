// Where a table source hands Gateway API objects when vipr serves HTTPS listeners: the router
// compiles them with this runtime's certificate check (so a Secret whose PEM does not parse, or
// whose key is not the certificate's, is the listener's ResolvedRefs False InvalidCertificateRef),
// then the HTTPS listener's certificate store takes the listeners of that compile.
import type { CompileOptions, ListenerTlsEntry } from "../../router/gateway-api/compile-gateway-routes.ts";
import type { GatewayApiObjects } from "../../router/gateway-api/gateway-api-objects.ts";
import type { GatewayApiStatus } from "../../router/gateway-api/gateway-conditions.ts";
import type { GatewayObjectsSink } from "../../router/gateway-api/gateway-route-state.ts";
import { checkCertificatePem, type GatewayCertificateStore } from "./gateway-certificates.ts";

export interface GatewayTlsTarget extends GatewayObjectsSink {
  /** The HTTPS listeners of the last compile (ServiceRouter.gatewayListenerTls). */
  readonly gatewayListenerTls?: readonly ListenerTlsEntry[];
}

export function gatewaySinkWithTls(sink: GatewayTlsTarget, certificates: GatewayCertificateStore | undefined, httpsListener: boolean): GatewayObjectsSink {
  return {
    setGatewayObjects(objects: GatewayApiObjects, options: CompileOptions = {}): GatewayApiStatus {
      const status = sink.setGatewayObjects(objects, { ...options, checkCertificate: checkCertificatePem, httpsListener });
      certificates?.update(sink.gatewayListenerTls ?? []);
      return status;
    },
    get table() {
      return sink.table;
    },
  };
}
