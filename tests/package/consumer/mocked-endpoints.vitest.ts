// A user's own routing test, run by tests/package/package-test.ts in a fresh project that
// installed the packed vipr: the README's vipr/testing example, through the package's entry
// points only. Copied there as mocked-endpoints.test.ts (the repository's own vitest run skips
// this file: "vipr/testing" resolves only where the package is installed).
import { http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ServiceRouter, createWasmCore } from "vipr";
import { KubernetesSource } from "vipr/kubernetes";
import { createUndiciTransport, nodeClientAddress, nodeRequestHeaders } from "vipr/node";
import { FakeKubeApi, fakeKubeConfig, fakeKubeUrl, fakeService } from "vipr/testing";

const router = new ServiceRouter({
  core: createWasmCore(),
  transport: createUndiciTransport(),
  clientAddress: nodeClientAddress,
  requestHeaders: nodeRequestHeaders,
});
const fake = new FakeKubeApi();
const msw = setupServer(http.all(`${fakeKubeUrl}/*`, ({ request }) => fake.fetch(request)));
// The source publishes its first table once every collection is listed: that call is the sync.
const firstTable = Promise.withResolvers<void>();
const source = new KubernetesSource({
  kubeConfig: fakeKubeConfig(),
  onTable: (table) => {
    router.setTable(table);
    firstTable.resolve();
  },
});

beforeAll(async () => {
  msw.listen();
  fake.apply(
    fakeService("checkout", {
      namespace: "shop",
      ports: [{ name: "http", port: 80, targetPort: 8080 }],
      annotations: { "vipr.io/hash-key": "cookie:session" },
    }),
  );
  fake.setEndpoints({ name: "checkout", namespace: "shop" }, [
    { address: "10.1.0.1", pod: "checkout-1" },
    { address: "10.1.0.3", pod: "checkout-3", ready: false },
  ]);
  source.start();
  await firstTable.promise;
});

afterAll(async () => {
  await source.stop();
  fake.close();
  msw.close();
  await router.close();
});

test("a request for checkout.shop reaches the only ready pod", () => {
  expect(router.explain({ host: "checkout.shop", key: "user-7" })).toMatchObject({ result: { identity: "checkout-1" } });
});
