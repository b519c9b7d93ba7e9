/**
 * A node of the define-by-run tape: made by an op when an input requires grad, it holds the inputs and
 * a backward function mapping the output gradient to one gradient per input (null where none flows).
 * Tensors saved for backward are kept with their version so an in-place change is detected.
 */
import type { DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * A gradient that is zero but for a part of the input (slice's backward: the rows it read), kept
 * unmaterialised: backward adds it into the input's running gradient in place when it owns that
 * buffer, instead of allocating a zero tensor of the input's size for each slice and summing them
 * (which makes a loop over the T steps of a sequence cost O(T²)). `materialize` gives it as a tensor
 * (recorded, so a createGraph backward differentiates through it); `addInto` adds it into a contiguous
 * tensor of the input's shape. matmul's backward gives its operands' gradients this way too, so that a
 * weight used at every step of a sequence has its gradient summed by accumulating products, not by a
 * new (k, n) tensor per step added afterwards.
 */
export interface PartialGrad {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** The tensors addInto reads: backward never adds into a buffer one of them shares. */
  readonly sources: readonly Tensor[];
  materialize(): Tensor;
  addInto(target: Tensor): void;
}

/** One gradient per input: a tensor, a PartialGrad, or null where none flows. */
export type GradOut = Tensor | PartialGrad | null;

export type BackwardFn = (grad: Tensor, saved: Tensor[]) => GradOut[];

export class Node {
  private saved: Tensor[] | null;
  private versions: number[];
  constructor(
    readonly name: string,
    readonly inputs: readonly Tensor[],
    saved: Tensor[],
    readonly backwardFn: BackwardFn,
  ) {
    this.saved = saved;
    this.versions = saved.map((t) => t.version);
  }

  /** Gradients for the inputs; frees the saved tensors unless retainGraph. */
  apply(grad: Tensor, retainGraph: boolean): GradOut[] {
    if (this.saved === null) {
      throw new Error(
        `backward through ${this.name} a second time: its saved tensors were freed by the first backward. ` +
          'Pass { retainGraph: true } to the first backward() if you need to backward twice.',
      );
    }
    this.saved.forEach((t, i) => {
      if (t.version !== this.versions[i]) {
        throw new Error(
          `a tensor of shape [${t.shape.join(', ')}] saved by ${this.name} for backward was modified in place ` +
            `(version ${t.version}, expected ${this.versions[i]}); clone it before changing it`,
        );
      }
    });
    const out = this.backwardFn(grad, this.saved);
    if (!retainGraph) this.saved = null;
    return out;
  }
}
