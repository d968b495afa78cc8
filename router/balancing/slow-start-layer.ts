// Slow start as a layer (picker-layer.ts) around least-request or round robin: while some
// endpoint ramps up after turning ready (slow-start.ts has the formula, Envoy's; ready-since.ts
// when each turned ready), the view carries the ramped weights instead of the plain ones. Once
// every ramp has ended the layer passes views through untouched, so its cost per pick drops to
// one compare. The hashing policies are not wrapped (slowStartApplies, slow-start-config.ts).
//
// The ramped weights carry slow start's generation (1, 2, ... per recomputation); the caller's
// plain weights carry generation 0. So when the ramps end and the plain weights come back, a
// round robin that copied ramped weights sees a new generation and takes the plain ones up.
import type { MutablePickView, PickerChoice, Picker, PickView } from "./picker.ts";
import { PickerLayer } from "./picker-layer.ts";
import { SlowStartWeights, type SlowStartState } from "./slow-start.ts";
import type { SlowStartConfig } from "./slow-start-config.ts";

export class SlowStartLayer extends PickerLayer {
  readonly #now: () => number;
  /** Dropped (for good) once every ramp has ended. */
  #ramp: SlowStartWeights | undefined;

  /**
   * `inner` wrapped in slow start over endpoints that turned ready at `since` (by the caller's
   * endpoint index; -Infinity: warm) with `weights` (undefined: all equal); undefined when none of
   * them ramps at `now()` (then there is nothing to wrap).
   */
  static around(inner: Picker, config: SlowStartConfig, since: ArrayLike<number>, weights: ArrayLike<number> | undefined, now: () => number): SlowStartLayer | undefined {
    const ramp = SlowStartWeights.start(config, since, weights, since.length, now());
    return ramp === undefined ? undefined : new SlowStartLayer(inner, ramp, now);
  }

  private constructor(inner: Picker, ramp: SlowStartWeights, now: () => number) {
    super(inner);
    this.#ramp = ramp;
    this.#now = now;
  }

  pick(view: PickView): PickerChoice | undefined {
    const ramp = this.#ramp;
    if (ramp === undefined) return this.inner.pick(view);
    if (!ramp.refresh(this.#now())) {
      this.#ramp = undefined;
      return this.inner.pick(view);
    }
    const own = view as MutablePickView;
    own.weights = ramp.weights;
    own.weightsGeneration = ramp.generation;
    return this.inner.pick(own);
  }

  /** Endpoint `index`'s ramp now, for /debug/explain; undefined when it is not ramping. */
  stateOf(index: number): SlowStartState | undefined {
    return this.#ramp?.stateOf(index, this.#now());
  }
}
