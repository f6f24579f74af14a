/**
 * Dropout masks as data. The gradient graph takes each dropout site's mask as an input, so the forward and backward
 * passes of a step use the same mask and a step can be replayed: the mask of step s at site k is a pure function of
 * (seed, s, k) (`counterState`), whatever ran before. Values are 0 (dropped) or 1/(1−p) (kept, rescaled as
 * torch.nn.Dropout does in training), each kept with probability 1−p (exactly 1 − ⌈p·2³²⌉/2³²).
 */
import { DROPOUT_WASM_BASE64 } from './dropout-wasm.ts';
import { counterState, type Sfc32State } from './random.ts';

/** Checks a dropout probability: a number in [0, 1]. */
function checkProbability(p: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout probability 'p' must be in [0, 1], got ${p}`);
}

/** How one mask is drawn: its generator's starting state, the threshold of a kept value and that value's bits. */
interface MaskDraw {
  /** sfc32's starting state for (seed, step, site). */
  readonly state: Sfc32State;
  /** Keep when the unsigned 32-bit draw is at or above ⌈p·2³²⌉: compared as signed (draw ^ 2³¹ against this, the
   * threshold − 2³¹) so the loops stay in int32 arithmetic. */
  readonly threshold: number;
  /** The float32 bits of 1/(1−p), written through an int32 view: storing one int per value is about 3× faster in V8
   * than converting a double to float32 per store. */
  readonly keepBits: number;
}

/** The draw of `site`'s mask at `step`, for 0 < p < 1. */
function maskDraw(seed: number, step: number, site: string, p: number): MaskDraw {
  const keepBits = new Int32Array(Float32Array.of(1 / (1 - p)).buffer)[0]!;
  const threshold = (Math.min(Math.ceil(p * 2 ** 32), 2 ** 32 - 1) - 2 ** 31) | 0;
  return { state: counterState(seed, `train/dropout/${site}`, step), threshold, keepBits };
}

/**
 * Fills `out` with the mask of `site` at `step` and returns it: the reference loop, in TypeScript (about 2 ns a
 * value into a reused buffer). Training fills its masks with `MaskBuffers`, whose WebAssembly loop gives the same
 * bits in half the time.
 */
export function dropoutMaskInto(out: Float32Array, seed: number, step: number, site: string, p: number): Float32Array {
  checkProbability(p);
  const n = out.length;
  if (p === 0) return out.fill(1);
  if (p === 1) return out.fill(0);
  const { state, threshold, keepBits } = maskDraw(seed, step, site, p);
  const bits = new Int32Array(out.buffer, out.byteOffset, n);
  // `| 0` keeps the state in int32 registers (a double-typed start would make V8 compile the loop in float64).
  let a = state[0] | 0,
    b = state[1] | 0,
    c = state[2] | 0,
    d = state[3] | 0;
  for (let i = 0; i < n; i++) {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    bits[i] = (t ^ 0x80000000) >= threshold ? keepBits : 0;
  }
  return out;
}

type FillExport = (at: number, n: number, a: number, b: number, c: number, d: number, threshold: number, keepBits: number) => void;

let compiled: WebAssembly.Module | undefined;
const PAGE = 65536;
const MAX_PAGES = 65536;

/** Where one site's mask is asked for: its name (the random stream's) and its number of values. */
export interface MaskRequest {
  readonly site: string;
  readonly size: number;
}

/**
 * The masks of each training step, in buffers reused across steps: one WebAssembly memory holds them all (grown when
 * a step needs more, never shrunk) and dropout.wat's loop fills them, the same bits as `dropoutMaskInto` in about
 * half the time. The views `fill` returns stay valid until its next call. Where the memory cannot hold them (past
 * WebAssembly's 4 GiB) the masks go to ordinary arrays filled by `dropoutMaskInto`.
 */
export class MaskBuffers {
  private memory: WebAssembly.Memory | undefined;
  private fillWasm: FillExport | undefined;
  /** The fallback's arrays, by request position. */
  private arrays: Float32Array[] = [];

  /** The masks of `step` for each of `requests` (in its order), filled. */
  fill(requests: readonly MaskRequest[], seed: number, step: number, p: number): Float32Array[] {
    checkProbability(p);
    const views = this.layout(requests);
    requests.forEach((r, i) => {
      const view = views[i]!;
      if (!(p > 0 && p < 1) || !this.fillWasm || view.buffer !== this.memory?.buffer) {
        dropoutMaskInto(view, seed, step, r.site, p);
        return;
      }
      const { state, threshold, keepBits } = maskDraw(seed, step, r.site, p);
      this.fillWasm(view.byteOffset, view.length, state[0] | 0, state[1] | 0, state[2] | 0, state[3] | 0, threshold, keepBits);
    });
    return views;
  }

  /** Views for `requests` in the memory (grown to fit), else ordinary arrays kept by position. */
  private layout(requests: readonly MaskRequest[]): Float32Array[] {
    const values = requests.reduce((s, r) => s + r.size, 0);
    const pages = Math.max(1, Math.ceil((values * 4) / PAGE));
    if (pages <= MAX_PAGES && this.ensurePages(pages)) {
      const buffer = this.memory!.buffer;
      let at = 0;
      return requests.map((r) => {
        const view = new Float32Array(buffer, at * 4, r.size);
        at += r.size;
        return view;
      });
    }
    this.arrays = requests.map((r, i) => {
      const a = this.arrays[i];
      return a && a.length === r.size ? a : new Float32Array(r.size);
    });
    return this.arrays.slice();
  }

  /** Whether the memory now has at least `pages` pages (made or grown as needed). */
  private ensurePages(pages: number): boolean {
    try {
      if (!this.memory) {
        compiled ??= new WebAssembly.Module(Buffer.from(DROPOUT_WASM_BASE64, 'base64'));
        this.memory = new WebAssembly.Memory({ initial: pages, maximum: MAX_PAGES });
        this.fillWasm = new WebAssembly.Instance(compiled, { env: { memory: this.memory } }).exports.fill as FillExport;
        return true;
      }
      const have = this.memory.buffer.byteLength / PAGE;
      if (have < pages) this.memory.grow(pages - have);
      return true;
    } catch {
      return false;
    }
  }
}

/** The dropout mask of `site` at `step`: `size` values, each 0 or 1/(1−p). */
export function dropoutMask(seed: number, step: number, site: string, size: number, p: number): Float32Array {
  if (!(Number.isSafeInteger(size) && size >= 0)) throw new RangeError(`'size' must be a non-negative integer, got ${size}`);
  return dropoutMaskInto(new Float32Array(size), seed, step, site, p);
}
