/**
 * AdamW over named float32 parameters, as `torch.optim.AdamW` computes it (Loshchilov & Hutter's decoupled weight
 * decay, bias-corrected moments):
 *
 *   p ← p·(1 − lr·wd);  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
 *   p ← p − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)
 *
 * with t the parameter's own step count (torch's `state['step']`). Each element is computed in float64 and stored
 * in float32 (torch rounds after every operation, so results agree to float32 rounding, not bit for bit). The
 * element-wise update runs in adamw-kernel.ts: a WebAssembly SIMD kernel by default, bit-identical to its
 * TypeScript loop.
 *
 * Embedding tables take row-sparse steps (`stepSparse`): only the rows a batch used move, and their moments decay
 * only when touched, as TensorFlow's LazyAdam does; the decoupled decay is applied to those rows too, as
 * TensorFlow Addons' decoupled-weight-decay optimizers do for sparse gradients. A row touched at every step moves
 * exactly as a dense step moves it.
 */
import { type Coefficients, hostedValues, type KernelName, type Moments, type UpdateKernel, updateKernel } from './adamw-kernel.ts';
import { quotedText } from '../errors.ts';

/** A reusable buffer for `accumulateRows`' summed rows. */
export interface RowWorkspace {
  buffer?: Float32Array;
}

/** Gradients of some rows of a [rows, width] table: `grads` holds `rows.length × width` values, row-major. */
export interface RowGradients {
  /** Row ids, unique (sorted when built by `accumulateRows`). */
  readonly rows: Int32Array;
  readonly grads: Float32Array;
}

export interface AdamWOptions {
  /** Learning rate used when `step`/`stepSparse` are called without one. */
  lr: number;
  /** (β₁, β₂); default (0.9, 0.999). */
  betas?: readonly [number, number];
  /** Added to the denominator; default 1e-8. */
  eps?: number;
  /** Decoupled weight decay; default 0.01 (torch's AdamW default). */
  weightDecay?: number;
  /** Parameters exempt from weight decay; default `defaultNoDecay` (biases and norms, as Hugging Face's Trainer). */
  noDecay?: (name: string) => boolean;
  /** A parameter's lr factor (a param group's lr over the schedule's; default 1), applied to its decay too, as torch does. */
  lrScale?: ReadonlyMap<string, number>;
  /** The update kernel (adamw-kernel.ts): 'wasm' (default; SIMD) or 'js'; both compute the same bits. */
  kernel?: KernelName;
  /**
   * Keep the parameters, and a gradient buffer for each parameter named here, in the kernel's memory, so that the
   * update reads and writes them where they are (no copies). The parameters are copied there once: the arrays to
   * train from then on are `parameters`' (the given ones are left as they were), and a step's gradients are written
   * into `gradientBuffer(name)`. With the 'js' kernel, or when the memory does not fit, nothing is hosted:
   * `parameters` holds the given arrays and `gradientBuffer` gives fresh arrays.
   */
  host?: { gradients: readonly string[] };
}

/**
 * The optimizer's state, for checkpoints: per parameter with state, its step count and both moments. The moment
 * arrays are views of the live state (no copy): serialize them before the next step.
 */
export interface AdamWState {
  readonly format: 'adamw/1';
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  /** Steps taken per parameter (parameters never stepped have no entry). */
  readonly steps: Readonly<Record<string, number>>;
  /** First moments (torch's `exp_avg`). */
  readonly expAvg: ReadonlyMap<string, Float32Array>;
  /** Second moments (torch's `exp_avg_sq`). */
  readonly expAvgSq: ReadonlyMap<string, Float32Array>;
}

/**
 * Hugging Face's convention: no weight decay on biases and normalization weights (any name with 'bias' or 'norm', and
 * a name whose last part is `b`, as the Distilled BiLSTM's `lstm.fw.b`, named after ONNX's LSTM input B).
 */
export function defaultNoDecay(name: string): boolean {
  return /bias|norm|(^|\.)b$/i.test(name);
}

/** `value`, checked to be a finite number ≥ 0 (a learning rate, a gradient scale). */
function finiteNonNegative(value: number, what: string): number {
  if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`${what} must be a finite number ≥ 0, got ${value}`);
  return value;
}

export class AdamW {
  private readonly params: ReadonlyMap<string, Float32Array>;
  private readonly gradients = new Map<string, Float32Array>();
  private readonly lr: number;
  private readonly betas: readonly [number, number];
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly noDecay: (name: string) => boolean;
  /** Each parameter's lr factor (`AdamWOptions.lrScale`); parameters absent take the schedule's lr. */
  readonly lrScale: ReadonlyMap<string, number>;
  private readonly kernel: UpdateKernel;
  /** Moments by parameter, made by the kernel on a parameter's first step and kept (a load copies into them). */
  private readonly moments = new Map<string, Moments>();
  /** Steps taken by each parameter with state (torch's `state['step']`); the others start fresh. */
  private steps = new Map<string, number>();

  /** An optimizer over `params`, which it updates in place (the map's arrays are the model's weights). */
  constructor(params: ReadonlyMap<string, Float32Array>, opts: AdamWOptions) {
    const betas = opts.betas ?? [0.9, 0.999];
    if (!betas.every((b) => b >= 0 && b < 1)) throw new RangeError(`'betas' must be in [0, 1), got [${betas.join(', ')}]`);
    const eps = opts.eps ?? 1e-8;
    if (!(eps >= 0)) throw new RangeError(`'eps' must be ≥ 0, got ${eps}`);
    const weightDecay = opts.weightDecay ?? 0.01;
    if (!(weightDecay >= 0)) throw new RangeError(`'weightDecay' must be ≥ 0, got ${weightDecay}`);
    this.lr = finiteNonNegative(opts.lr, 'learning rate');
    this.betas = [betas[0], betas[1]];
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.noDecay = opts.noDecay ?? defaultNoDecay;
    this.lrScale = new Map(opts.lrScale ?? []);
    for (const [name, f] of this.lrScale) {
      if (!(Number.isFinite(f) && f > 0)) throw new RangeError(`lr factor of ${quotedText(name)} must be a finite number > 0, got ${f}`);
    }
    const lengths = [...params.values()].map((p) => p.length);
    const hostGradients = opts.host?.gradients ?? [];
    for (const name of hostGradients) if (!params.has(name)) throw new RangeError(`${quotedText(name)} is not a parameter of this optimizer`);
    const hostValues = opts.host ? hostedValues([...lengths, ...hostGradients.map((n) => params.get(n)!.length)]) : 0;
    this.kernel = updateKernel(opts.kernel ?? 'wasm', lengths, hostValues);
    this.params = opts.host ? this.hostAll(params, hostGradients) : params;
  }

  /** The parameters copied into the kernel's memory (when it hosts arrays), and the gradient buffers made there. */
  private hostAll(params: ReadonlyMap<string, Float32Array>, gradients: readonly string[]): ReadonlyMap<string, Float32Array> {
    const hosted = new Map<string, Float32Array>();
    for (const [name, p] of params) {
      const view = this.kernel.host(p.length);
      if (!view) return params;
      view.set(p);
      hosted.set(name, view);
    }
    for (const name of gradients) {
      const view = this.kernel.host(params.get(name)!.length);
      if (!view) {
        this.gradients.clear();
        return params;
      }
      this.gradients.set(name, view);
    }
    return hosted;
  }

  /** The arrays this optimizer updates: the given parameters, or their copies in the kernel's memory (`host`). */
  get parameters(): ReadonlyMap<string, Float32Array> {
    return this.params;
  }

  /** Where to put `name`'s gradient for `step`: a buffer in the kernel's memory when hosted (`host`), else a new array kept for reuse. */
  gradientBuffer(name: string): Float32Array {
    let g = this.gradients.get(name);
    if (!g) {
      g = new Float32Array(this.param(name).length);
      this.gradients.set(name, g);
    }
    return g;
  }

  /**
   * `squares(a)` (the sum of the squares of `a`'s values) with the same bits: in the kernel where `a` is in its memory
   * (a hosted gradient buffer), 4–5 times faster than the TypeScript loop; `clipFactor`'s `squaresOf` in training.
   */
  squares(a: Float32Array): number {
    return this.kernel.squares(a) ?? squares(a);
  }

  /**
   * `scatterAddRows(target, indices, rowGrads, width)` with the same bits: by the kernel where `target` is in its
   * memory (a hosted gradient buffer: the trainer's small tables, token types and positions), the TypeScript loop
   * otherwise.
   */
  scatterAddRows(target: Float32Array, indices: BigInt64Array | Int32Array, rowGrads: Float32Array, width: number): void {
    if (!this.kernel.scatterAdd(target, indices, rowGrads, width)) scatterAddRows(target, indices, rowGrads, width);
  }

  /** The kernel in use ('js' when 'wasm' was asked for but its memory did not fit). */
  get kernelName(): KernelName {
    return this.kernel.name;
  }

  /**
   * One step for every parameter in `grads` (each the parameter's length); parameters without a gradient stay.
   * `gradScale` multiplies every gradient value as it is read (the factor of `clipFactor`), so clipping needs no pass
   * of its own.
   */
  step(grads: ReadonlyMap<string, Float32Array>, lr: number = this.lr, gradScale = 1): void {
    finiteNonNegative(lr, 'learning rate');
    finiteNonNegative(gradScale, "'gradScale'");
    for (const [name, g] of grads) {
      const p = this.param(name);
      if (g.length !== p.length) throw new RangeError(`gradient of ${quotedText(name)} has ${g.length} values; the parameter has ${p.length}`);
      const moments = this.momentsOf(name, p.length);
      this.kernel.dense(p, moments, g, this.coefficients(name, this.countStep(name), lr, gradScale));
    }
  }

  /**
   * One lazy step of a [rows, width] table: only `rows` (unique ids) move, each by its row of `rowGrads`
   * (rows.length × width). Duplicated ids must be summed first (`accumulateRows`). `gradScale` as in `step`.
   */
  stepSparse(name: string, rows: Int32Array | readonly number[], rowGrads: Float32Array, width: number, lr: number = this.lr, gradScale = 1): void {
    finiteNonNegative(lr, 'learning rate');
    finiteNonNegative(gradScale, "'gradScale'");
    const p = this.param(name);
    if (!(Number.isInteger(width) && width > 0 && p.length % width === 0)) {
      throw new RangeError(`'width' ${width} does not divide ${quotedText(name)} (${p.length} values) into rows`);
    }
    if (rowGrads.length !== rows.length * width) {
      throw new RangeError(`'rowGrads' has ${rowGrads.length} values; ${rows.length} rows × ${width} need ${rows.length * width}`);
    }
    const numRows = p.length / width;
    const seen = new Uint8Array(numRows);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      if (!(Number.isInteger(row) && row >= 0 && row < numRows)) throw new RangeError(`row ${row} of ${quotedText(name)} is outside [0, ${numRows})`);
      if (seen[row]) throw new RangeError(`row ${row} of ${quotedText(name)} is given twice: sum duplicates with accumulateRows first`);
      seen[row] = 1;
    }
    const moments = this.momentsOf(name, p.length);
    this.kernel.rows(p, moments, rows, rowGrads, width, this.coefficients(name, this.countStep(name), lr, gradScale));
  }

  /** The state to checkpoint (views of the live moments; see AdamWState). */
  state(): AdamWState {
    const steps: Record<string, number> = {};
    const expAvg = new Map<string, Float32Array>();
    const expAvgSq = new Map<string, Float32Array>();
    for (const [name, step] of this.steps) {
      const { m, v } = this.moments.get(name)!;
      steps[name] = step;
      expAvg.set(name, m);
      expAvgSq.set(name, v);
    }
    return { format: 'adamw/1', betas: this.betas, eps: this.eps, weightDecay: this.weightDecay, steps, expAvg, expAvgSq };
  }

  /**
   * Restores moments and step counts (copied). Hyperparameters stay those given to the constructor. Every
   * parameter named in `state` must exist with the same length; parameters absent from it start fresh.
   */
  load(state: AdamWState): void {
    if (state.format !== 'adamw/1') throw new RangeError(`optimizer state format ${quotedText(String(state.format))} is not 'adamw/1'`);
    const loaded: Array<{ name: string; step: number; m: Float32Array; v: Float32Array }> = [];
    for (const [name, step] of Object.entries(state.steps)) {
      const p = this.param(name);
      const m = state.expAvg.get(name);
      const v = state.expAvgSq.get(name);
      if (!m || !v) throw new RangeError(`optimizer state of ${quotedText(name)} lacks its moments`);
      if (m.length !== p.length || v.length !== p.length) {
        throw new RangeError(`optimizer state of ${quotedText(name)} has ${m.length}/${v.length} values; the parameter has ${p.length}`);
      }
      if (!(Number.isSafeInteger(step) && step >= 0)) throw new RangeError(`optimizer step of ${quotedText(name)} is ${step}`);
      // Copied before any moments are reset: `state` may hold views of this optimizer's own moments.
      loaded.push({ name, step, m: m.slice(), v: v.slice() });
    }
    this.steps = new Map();
    for (const { name, step, m, v } of loaded) {
      const moments = this.momentsOf(name, m.length);
      moments.m.set(m);
      moments.v.set(v);
      this.steps.set(name, step);
    }
  }

  private param(name: string): Float32Array {
    const p = this.params.get(name);
    if (!p) throw new RangeError(`${quotedText(name)} is not a parameter of this optimizer`);
    return p;
  }

  /** The moments of `name`: zero when it has no state (never stepped, or left out of a loaded state). */
  private momentsOf(name: string, length: number): Moments {
    let moments = this.moments.get(name);
    if (!moments) {
      moments = this.kernel.moments(length);
      this.moments.set(name, moments);
    } else if (!this.steps.has(name)) {
      moments.m.fill(0);
      moments.v.fill(0);
    }
    return moments;
  }

  /** Counts one more step of `name`; returns its step number t. */
  private countStep(name: string): number {
    const t = (this.steps.get(name) ?? 0) + 1;
    this.steps.set(name, t);
    return t;
  }

  private coefficients(name: string, step: number, scheduled: number, gradScale: number): Coefficients {
    const lr = scheduled * (this.lrScale.get(name) ?? 1);
    const [beta1, beta2] = this.betas;
    const wd = this.noDecay(name) ? 0 : this.weightDecay;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
    return {
      beta1,
      beta2,
      decay: 1 - lr * wd,
      stepSize: (lr * bc2Sqrt) / (1 - beta1 ** step),
      epsHat: this.eps * bc2Sqrt,
      gradScale,
    };
  }
}

/**
 * Adds row i of `rowGrads` (indices.length × width) into row `indices[i]` of the [rows, width] table `target`, for
 * i in order, in float32 arithmetic: what onnxruntime's ScatterND (reduction 'add') into zeros computes on one
 * thread, bit for bit. With more threads onnxruntime's ScatterND adds repeated ids concurrently and loses updates
 * (a token-type table, all ids 0, got a gradient off by up to 1.8 where its values reach 4.3), so a table's
 * gradient is summed here from the gathered rows the training graph outputs.
 */
export function scatterAddRows(target: Float32Array, indices: BigInt64Array | Int32Array, rowGrads: Float32Array, width: number): void {
  const n = indices.length;
  if (!(Number.isInteger(width) && width > 0 && target.length % width === 0)) throw new RangeError(`'width' ${width} does not divide the table into rows`);
  if (rowGrads.length !== n * width) throw new RangeError(`'rowGrads' has ${rowGrads.length} values; ${n} indices × ${width} need ${n * width}`);
  const rows = target.length / width;
  for (let i = 0; i < n; i++) {
    const id = Number(indices[i]);
    if (!(Number.isInteger(id) && id >= 0 && id < rows)) throw new RangeError(`index ${id} at position ${i} is outside [0, ${rows})`);
    const to = id * width;
    const from = i * width;
    // The float64 sum of two float32 values, rounded to float32 by the store, is their float32 sum (double rounding
    // is harmless for one addition).
    for (let c = 0; c < width; c++) target[to + c] += rowGrads[from + c];
  }
}

/**
 * Sums the gradient rows of a lookup (one row per looked-up index, as a Gather's backward gives them) into one
 * row per distinct index: an embedding row used twice in a batch gets the sum, as torch's dense embedding
 * gradient has. Rows come back sorted; a repeated row's values are summed in float64, in the order the indices
 * come, and rounded once. With a `workspace`, the summed rows are written into its buffer (grown when too small)
 * and returned as a view of it, valid until the next call with that workspace: a training step then allocates no
 * new megabyte-sized buffer, whose first touch costs page faults on some machines.
 */
export function accumulateRows(indices: BigInt64Array | Int32Array, rowGrads: Float32Array, width: number, workspace?: RowWorkspace): RowGradients {
  const n = indices.length;
  if (!(Number.isInteger(width) && width > 0)) throw new RangeError(`'width' must be a positive integer, got ${width}`);
  if (rowGrads.length !== n * width) throw new RangeError(`'rowGrads' has ${rowGrads.length} values; ${n} indices × ${width} need ${n * width}`);
  if (n >= 2 ** 21) throw new RangeError(`${n} indices: at most 2^21 - 1 per call`);
  // Sort (id, position) pairs as one exact float64 key each (ids < 2^31, positions < 2^21), then split them again.
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const id = Number(indices[i]);
    if (!(id >= 0 && id < 2 ** 31)) throw new RangeError(`index ${id} at position ${i} is not a row id`);
    keys[i] = id * 2 ** 21 + i;
  }
  keys.sort();
  const ids = new Int32Array(n);
  const positions = new Int32Array(n);
  let u = 0;
  for (let i = 0; i < n; i++) {
    ids[i] = Math.floor(keys[i] / 2 ** 21);
    positions[i] = keys[i] - ids[i] * 2 ** 21;
    if (i === 0 || ids[i] !== ids[i - 1]) u++;
  }
  const rows = new Int32Array(u);
  let grads: Float32Array;
  if (workspace) {
    if (!workspace.buffer || workspace.buffer.length < u * width) workspace.buffer = new Float32Array(u * width);
    grads = workspace.buffer.subarray(0, u * width);
  } else {
    grads = new Float32Array(u * width);
  }
  for (let i = 0, r = 0; i < n; r++) {
    let end = i + 1;
    while (end < n && ids[end] === ids[i]) end++;
    rows[r] = ids[i];
    const to = r * width;
    const first = positions[i] * width;
    if (end === i + 1) {
      grads.set(rowGrads.subarray(first, first + width), to);
    } else {
      for (let c = 0; c < width; c++) {
        let sum = rowGrads[first + c];
        for (let j = i + 1; j < end; j++) sum += rowGrads[positions[j] * width + c];
        grads[to + c] = sum;
      }
    }
    i = end;
  }
  return { rows, grads };
}

/** Dense gradients: a map (its values are used) or a list of arrays. */
export type GradientArrays = ReadonlyMap<string, Float32Array> | Iterable<Float32Array>;
/** Row-sparse gradients: a map by parameter name or a list. */
export type SparseGradients = ReadonlyMap<string, RowGradients> | Iterable<RowGradients>;

/** Every gradient array of both kinds, in one list. */
function allArrays(dense: GradientArrays, sparse: SparseGradients): Float32Array[] {
  const d = dense instanceof Map ? dense.values() : (dense as Iterable<Float32Array>);
  const s = sparse instanceof Map ? sparse.values() : (sparse as Iterable<RowGradients>);
  return [...d, ...Array.from(s, (r) => r.grads)];
}

/**
 * The sum of the squares of all values of `arrays`, in float64, array by array (`squares`). Each array is summed in
 * four interleaved partial sums (positions i mod 4), which breaks the chain of dependent additions (twice as fast) at
 * a fixed, deterministic order. `squaresOf` computes one array's sum (AdamW's `squares`: the same bits, in its
 * kernel where the array is in its memory).
 */
export function sumOfSquares(arrays: readonly Float32Array[], squaresOf: (a: Float32Array) => number = squares): number {
  let s = 0;
  for (const a of arrays) s += squaresOf(a);
  return s;
}

/** The sum of the squares of `a`'s values in float64: four partial sums (positions i mod 4), the values after the last group of four into the first, then (s0 + s1) + (s2 + s3). */
export function squares(a: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = a.length;
  const n4 = n - (n % 4);
  let i = 0;
  for (; i < n4; i += 4) {
    s0 += a[i] * a[i];
    s1 += a[i + 1] * a[i + 1];
    s2 += a[i + 2] * a[i + 2];
    s3 += a[i + 3] * a[i + 3];
  }
  for (; i < n; i++) s0 += a[i] * a[i];
  return s0 + s1 + (s2 + s3);
}

/** The L2 norm of the concatenation of `arrays`. */
function l2(arrays: readonly Float32Array[], squaresOf?: (a: Float32Array) => number): number {
  return Math.sqrt(sumOfSquares(arrays, squaresOf));
}

/**
 * The L2 norm of all gradients together, dense and row-sparse (give sparse rows after `accumulateRows`, so that the
 * norm equals that of the dense table gradient).
 */
export function globalNorm(dense: GradientArrays, sparse: SparseGradients = []): number {
  return l2(allArrays(dense, sparse));
}

/** What `clipFactor` measured and decided. */
export interface ClipResult {
  /** The global norm before clipping (Infinity or NaN if a gradient is not finite). */
  readonly norm: number;
  /** The factor to multiply the gradients by (1 when not clipped or not finite). */
  readonly scale: number;
}

/**
 * Global-norm clipping as `torch.nn.utils.clip_grad_norm_` decides it: scale = maxNorm / (norm + 1e-6) when that is
 * below 1, else 1. The gradients are not touched: pass `scale` to `AdamW.step`/`stepSparse` as `gradScale`, which
 * applies it as it reads them (one pass fewer than scaling in place). A non-finite norm gives scale 1 (torch would
 * turn the gradients into NaN); check `norm` and skip the step.
 */
export function clipFactor(dense: GradientArrays, sparse: SparseGradients, maxNorm: number, squaresOf?: (a: Float32Array) => number): ClipResult {
  if (!(maxNorm > 0)) throw new RangeError(`'maxNorm' must be > 0, got ${maxNorm}`);
  const norm = l2(allArrays(dense, sparse), squaresOf);
  const scale = Math.min(1, maxNorm / (norm + 1e-6));
  return { norm, scale: Number.isFinite(norm) && scale < 1 ? scale : 1 };
}
