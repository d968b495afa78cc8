// Round robin (round-robin.ts has the algorithm: a counter, or nginx's smooth weighted round robin)
// as a picker (picker.ts). One rotation over every endpoint, and one per subset (keyed on the
// subset's member marks, which the subset matcher keeps while the subset is cached), each made on
// its first pick with a random start, as Envoy randomises its round-robin start. A retry or an
// ejected endpoint takes further turns until a candidate that is neither comes up, at most one
// full round; then the last turn's endpoint is used. No candidate: no answer.
import type { Picker, PickerChoice, PickerInput, PickView } from "./picker.ts";
import { RoundRobin } from "./round-robin.ts";

const REASON = "round robin: the next endpoint in turn";

export class RoundRobinPicker implements Picker {
  readonly policy = "round-robin";
  readonly #input: PickerInput;
  #all: RoundRobin | undefined;
  readonly #bySubset = new WeakMap<Uint8Array, RoundRobin>();

  constructor(input: PickerInput) {
    this.#input = input;
  }

  pick(view: PickView): PickerChoice | undefined {
    const { candidates, tried, ejected, weights } = view;
    if (candidates.length === 0) return undefined;
    const rr = this.#rotationFor(view);
    if (rr.generation !== view.weightsGeneration) {
      rr.reweight(weights === undefined ? undefined : candidates.map((i) => weights[i]!));
      rr.generation = view.weightsGeneration;
    }
    let index = candidates[view.commit ? rr.next() : rr.peek()]!;
    if (!view.commit) return { index, policy: "round-robin", reason: REASON };
    for (let turns = 1; turns < candidates.length && (tried.includes(index) || (ejected !== undefined && ejected[index] === 1)); turns++) {
      index = candidates[rr.next()]!;
    }
    return { index, policy: "round-robin", reason: REASON };
  }

  #rotationFor(view: PickView): RoundRobin {
    const members = view.members;
    if (members === undefined) return (this.#all ??= this.#rotation(view));
    let rr = this.#bySubset.get(members);
    if (rr === undefined) {
      rr = this.#rotation(view);
      this.#bySubset.set(members, rr);
    }
    return rr;
  }

  #rotation({ candidates, weights, weightsGeneration }: PickView): RoundRobin {
    const own = weights === undefined ? undefined : candidates.map((i) => weights[i]!);
    const rr = new RoundRobin(candidates.length, own, Math.floor(this.#input.random() * candidates.length));
    rr.generation = weightsGeneration;
    return rr;
  }

  acquire(): void {}
  release(): void {}
  free(): void {}
  slotOwners(): undefined {
    return undefined;
  }
  tableSize(): undefined {
    return undefined;
  }
}
