// vipr/testing: a fake Kubernetes API server and helpers, for testing routing with mocked
// endpoints (vitest + msw, or a loopback port). See README.md in this folder for a worked example.

export { FakeKubeApi, type FakeKubeApiOptions, type FakeObjectInput, type FakeRequestRecord, type KindOrResource } from "./fake-kube-api.ts";
export { anonymousUser, serviceAccountUser, type FakeUser } from "./fake-authentication.ts";
export { FakeFaults, type FakeVerb, type RequestFault, type StatusFault } from "./fake-faults.ts";
export {
  fakeEndpointSlice,
  fakePod,
  fakeService,
  type FakeEndpoint,
  type FakeEndpointSliceOptions,
  type FakePodOptions,
  type FakeServiceOptions,
  type FakeServicePort,
} from "./fake-objects.ts";
export { fakeKubeConfig, fakeKubeConfigYaml, fakeKubeUrl, type FakeKubeConfigOptions } from "./fake-kube-config.ts";
export { serveFakeKubeApi, type ServeFakeKubeApiOptions, type ServedFakeKubeApi } from "./serve-fake-kube-api.ts";
export type { FakeTlsOptions } from "./fake-tls-front.ts";
