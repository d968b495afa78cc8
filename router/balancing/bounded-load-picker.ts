// Consistent hashing with bounded loads as a picker (picker.ts): Mirrokni, Thorup, Zadimoghaddam,
// "Consistent Hashing with Bounded Loads" (SODA 2018; arXiv 1608.01350, 2016), over the Maglev
// table (maglev-picker.ts). A key walks its Maglev preference list and stops at the first endpoint
// whose in-flight count is below ceil(c x (total + 1) / n), so no endpoint carries more than c
// times the average load while keys still mostly stay where Maglev puts them. When every member
// is at the bound, the first member not skipped takes it. Deterministic for a given key, attempt,
// candidate set and set of loads; a request with no key is picked as least-request does.
import { loadBound } from "./maglev-endpoints.ts";
import { MaglevTablePicker } from "./maglev-table-picker.ts";
import type { PickerChoice, PickerInput, PickView } from "./picker.ts";
import { walkMembers } from "./walk-members.ts";

export class BoundedLoadPicker extends MaglevTablePicker {
  readonly policy = "bounded-load";
  readonly #factor: number;

  constructor(input: PickerInput) {
    super(input);
    this.#factor = input.loadFactor;
  }

  pick(view: PickView): PickerChoice | undefined {
    const key = view.key;
    if (key === undefined || view.candidates.length === 0) return this.noKey.pick(view);
    const table = this.maglev.table();
    const hash = this.maglev.hash(key);
    const slot = hash % table.table.size;
    const { attempt } = view;
    let index: number;
    if (view.members === undefined && view.ejected === undefined && attempt === 0) {
      // The common case: the table's own walk, over the loads it keeps.
      index = table.pickBounded(hash, this.#factor);
    } else {
      const walk = walkMembers(view);
      const inFlight = this.inFlight;
      let total = table.table.total;
      if (walk.members !== undefined) {
        total = 0;
        for (let i = 0; i < walk.healthy.length; i++) total += inFlight[walk.healthy[i]!]!;
      }
      const bound = loadBound(this.#factor, total, walk.count);
      index = table.walk(hash, attempt, walk.members, walk.count, bound, inFlight);
    }
    const skipped = view.ejected === undefined ? "" : " (ejected endpoints skipped)";
    return { index, policy: "bounded-load", reason: `bounded load: the first endpoint under the load bound on the key's preference walk${skipped}`, hash, slot };
  }
}
