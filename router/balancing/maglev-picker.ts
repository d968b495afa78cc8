// Maglev consistent hashing as a picker (picker.ts): Eisenbud et al., "Maglev: A Fast and Reliable
// Software Network Load Balancer", NSDI 2016, section 3.4. A key goes to the endpoint of its slot
// in a table where each endpoint holds about its weight's share of slots, so every replica sends a
// key to the same endpoint, and an endpoint leaving moves only the keys it held (about 1/n).
// Retries walk the key's preference list (attempt 1, 2, ...) so each goes to another endpoint.
// With a subset or ejected endpoints, the walk passes over endpoints that are not candidates, so a
// key still lands where its own preference list says among those that are. Deterministic: the
// choice depends only on the key, the attempt and the candidate set, never on load or randomness.
// A request with no key is picked as least-request does.
import { MaglevTablePicker } from "./maglev-table-picker.ts";
import type { PickerChoice, PickView } from "./picker.ts";
import { walkMembers } from "./walk-members.ts";

export class MaglevPicker extends MaglevTablePicker {
  readonly policy = "maglev";

  pick(view: PickView): PickerChoice | undefined {
    const key = view.key;
    if (key === undefined || view.candidates.length === 0) return this.noKey.pick(view);
    const table = this.maglev.table();
    const hash = this.maglev.hash(key);
    const slot = hash % table.table.size;
    const { attempt } = view;
    if (view.members === undefined && view.ejected === undefined) {
      // The common case: the table's own walk over every endpoint.
      const index = table.lookup(hash, attempt);
      const reason = attempt === 0 ? "maglev: the endpoint of the key's slot" : `maglev: attempt ${attempt} on the key's preference walk`;
      return { index, policy: "maglev", reason, hash, slot };
    }
    const walk = walkMembers(view);
    const index = table.walk(hash, attempt, walk.members, walk.count, Number.POSITIVE_INFINITY, this.inFlight);
    const skipped = view.ejected === undefined ? "" : " (ejected endpoints skipped)";
    const reason =
      view.members === undefined
        ? `maglev: the first endpoint on the key's preference walk${skipped}`
        : `maglev: the first endpoint of the subset on the key's preference walk${skipped}`;
    return { index, policy: "maglev", reason, hash, slot };
  }
}
