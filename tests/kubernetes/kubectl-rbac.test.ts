// The real kubectl against the fake API server with authorization on: the admin applies deploy/'s
// RBAC files as they are (ServiceAccount, Role, RoleBinding, ClusterRole, ClusterRoleBinding), lists
// them (over https, as kubectl sends tokens only over TLS), and a kubectl with the sidecar's service account token may read services in its namespace
// and nothing else, with the API server's own Forbidden message; an unknown token is 401.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { FakeKubeApi, serveFakeKubeApi, type ServedFakeKubeApi } from "../../adapters/kubernetes/fake-api/index.ts";
import { Kubectl, kubectlBinary, kubectlClientVersion } from "./kubectl-process.ts";
import { loopbackCertificate } from "./support/self-signed-cert.ts";

const clientVersion = await kubectlClientVersion();
const title = clientVersion === undefined
  ? `kubectl against the fake API server with RBAC (skipped: no ${JSON.stringify(kubectlBinary)} on PATH; .ci/run installs Debian's kubernetes-client, or set KUBECTL)`
  : `kubectl against the fake API server with RBAC (${clientVersion})`;
if (clientVersion === undefined) console.warn(title);

describe.skipIf(clientVersion === undefined)(title, () => {
  let fake: FakeKubeApi;
  let served: ServedFakeKubeApi;
  const kubectls: Kubectl[] = [];
  const kubectlAs = (token: string): Kubectl => {
    const kubectl = new Kubectl(served.kubeconfig({ token }));
    kubectls.push(kubectl);
    return kubectl;
  };

  beforeEach(async () => {
    fake = new FakeKubeApi({ authorization: true, controllers: true });
    // https: kubectl sends a kubeconfig's token only over TLS.
    served = await serveFakeKubeApi(fake, { tls: loopbackCertificate(), closeGraceMs: 100 });
  });

  afterEach(async () => {
    await Promise.all(kubectls.splice(0).map((k) => k.close()));
    await served.close();
  });

  test("deploy/'s RBAC applied with kubectl; the sidecar's service account reads its namespace only", async () => {
    const admin = kubectlAs("fake-token");
    // (deploy/gateway/rbac.yaml says `kubectl create namespace vipr-system`, whose protobuf body the fake does not read.)
    const namespace = admin.file("namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: vipr-system\n");
    expect(await admin.ok("apply", "-f", namespace)).toBe("namespace/vipr-system created\n");
    expect(await admin.ok("apply", "-f", "deploy/sidecar/rbac.yaml", "-f", "deploy/gateway/rbac.yaml")).toBe(
      [
        "serviceaccount/example-app created",
        "role.rbac.authorization.k8s.io/vipr-sidecar created",
        "rolebinding.rbac.authorization.k8s.io/vipr-sidecar created",
        "serviceaccount/vipr created",
        "clusterrole.rbac.authorization.k8s.io/vipr-gateway created",
        "clusterrolebinding.rbac.authorization.k8s.io/vipr-gateway created",
        "",
      ].join("\n"),
    );
    expect(await admin.ok("get", "roles,rolebindings", "-o", "name")).toBe("role.rbac.authorization.k8s.io/vipr-sidecar\nrolebinding.rbac.authorization.k8s.io/vipr-sidecar\n");
    expect(await admin.ok("apply", "-f", "examples/simpleservice.yaml")).toContain("service/simpleservice created");

    const sidecar = kubectlAs(fake.serviceAccountToken("default", "example-app"));
    expect(await sidecar.ok("get", "svc", "-o", "name")).toBe("service/simpleservice\n");
    expect(await sidecar.ok("get", "endpointslices", "-o", "name")).toMatch(/^endpointslice\.discovery\.k8s\.io\/simpleservice-\w{5}\n$/);
    const clusterWide = await sidecar.run("get", "svc", "-A");
    expect(clusterWide.code).toBe(1);
    expect(clusterWide.stderr).toContain('Error from server (Forbidden): services is forbidden: User "system:serviceaccount:default:example-app" cannot list resource "services" in API group "" at the cluster scope');
    const write = await sidecar.run("scale", "--replicas=2", "rc/rcsise");
    expect(write.stderr).toContain('User "system:serviceaccount:default:example-app" cannot get resource "replicationcontrollers" in API group "" in the namespace "default"');

    const gateway = kubectlAs(fake.serviceAccountToken("vipr-system", "vipr"));
    expect(await gateway.ok("get", "svc", "-A", "-o", "name")).toBe("service/simpleservice\n");
    const deployments = await gateway.run("get", "deployments", "-n", "vipr-system");
    expect(deployments.stderr).toContain('Error from server (Forbidden): deployments.apps is forbidden: User "system:serviceaccount:vipr-system:vipr" cannot list resource "deployments" in API group "apps" in the namespace "vipr-system"');

    const stranger = await kubectlAs("not-a-token").run("get", "svc");
    expect(stranger.code).toBe(1);
    // kubectl 1.32 says this at discovery; older ones "You must be logged in to the server (Unauthorized)".
    expect(stranger.stderr).toMatch(/the server has asked for the client to provide credentials|You must be logged in to the server \(Unauthorized\)/);
  });
});
