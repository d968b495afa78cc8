// Who sent a request: the API server's bearer-token authentication, as a table of tokens. A token
// the server does not know is 401 (authentication failed); a request without any token is the
// anonymous user (kube-apiserver's --anonymous-auth, on by default), whom RBAC then judges.
// Every authenticated user is in the group system:authenticated, which the authenticator adds
// (apiserver pkg/authentication/group AuthenticatedGroupAdder).

export interface FakeUser {
  /** "alice", or "system:serviceaccount:<namespace>:<name>". */
  readonly name: string;
  readonly groups: readonly string[];
}

export const anonymousUser: FakeUser = Object.freeze({ name: "system:anonymous", groups: Object.freeze(["system:unauthenticated"]) });

/** The group that bypasses authorization (the bootstrap cluster-admin identity). */
export const mastersGroup = "system:masters";

/**
 * A service account's identity, as its token authenticates
 * (k8s.io/apiserver/pkg/authentication/serviceaccount: MakeUsername, MakeGroupNames).
 */
export function serviceAccountUser(namespace: string, name: string): FakeUser {
  return { name: `system:serviceaccount:${namespace}:${name}`, groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"] };
}

export class FakeAuthenticator {
  readonly #users = new Map<string, FakeUser>();

  /** From now on `token` authenticates as `user`. */
  add(token: string, user: FakeUser): void {
    const groups = user.groups.includes("system:authenticated") ? user.groups : [...user.groups, "system:authenticated"];
    this.#users.set(token, Object.freeze({ name: user.name, groups: Object.freeze([...groups]) }));
  }

  /** The user an Authorization header names; "unauthorized" for a token nobody holds. */
  authenticate(authorization: string | null): FakeUser | "unauthorized" {
    if (authorization === null || authorization === "") return anonymousUser;
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    return (token === undefined ? undefined : this.#users.get(token)) ?? "unauthorized";
  }
}
