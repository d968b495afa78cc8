// The fake API server's authentication and authorization filters, in the API server's order:
// who sent the request (fake-authentication.ts: 401 for an unknown token), then what the request
// asks for (fake-request-info.ts), then whether RBAC allows it (fake-rbac-authorizer.ts: 403 with
// the real Status). Both run before routing, so a forbidden request for a path the server does not
// serve is 403, and discovery is open to every authenticated user.

import { FakeAuthenticator, serviceAccountUser, mastersGroup, type FakeUser } from "./fake-authentication.ts";
import type { FakeObjectState } from "./fake-object-state.ts";
import { authorize, forbiddenResponse } from "./fake-rbac-authorizer.ts";
import { requestInfo } from "./fake-request-info.ts";
import { statusResponse } from "./fake-status.ts";

/** The user the admin token authenticates as: in system:masters, so always allowed. */
export const fakeAdminUser: FakeUser = Object.freeze({ name: "fake-admin", groups: Object.freeze([mastersGroup, "system:authenticated"]) });

export class FakeAuthorization {
  readonly #state: FakeObjectState;
  readonly #authenticator = new FakeAuthenticator();

  constructor(state: FakeObjectState, adminToken: string) {
    this.#state = state;
    this.#authenticator.add(adminToken, fakeAdminUser);
  }

  addToken(token: string, user: FakeUser): void {
    this.#authenticator.add(token, user);
  }

  /** Registers (once) and returns the token of a service account. */
  serviceAccountToken(namespace: string, name: string): string {
    // Real tokens are signed JWTs; the fake's only need to be distinct and stable.
    const token = `fake-sa.${namespace}.${name}`;
    this.#authenticator.add(token, serviceAccountUser(namespace, name));
    return token;
  }

  /** The 401 or 403 for a request that may not go on, or undefined when it may. */
  check(request: Request, url: URL): Response | undefined {
    const user = this.#authenticator.authenticate(request.headers.get("authorization"));
    if (user === "unauthorized") return statusResponse({ code: 401, reason: "Unauthorized", message: "Unauthorized" });
    const info = requestInfo(request.method, url);
    const decision = authorize(this.#state, user, info);
    return decision.allowed ? undefined : forbiddenResponse(user, info, decision.reason);
  }
}
