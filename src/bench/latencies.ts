/**
 * The latencies a benchmark keeps, a float64 per timed run, in Float64Array chunks: off the V8 heap, whose limit
 * (v8's heap_size_limit, about 4 GB by default whatever the machine's memory) a JavaScript array of them counted
 * against, so that a `--repeats` the machine's memory allowed could die of heap exhaustion after hours of timing.
 * The chunks grow without copying what they hold; only the machine's memory bounds them (keptRepeats).
 */

/** Latencies per chunk: 512 KB each. */
export const LATENCY_CHUNK = 2 ** 16;

export class Latencies {
  readonly #chunks: Float64Array[] = [];
  #length = 0;

  /** The latencies kept. */
  get length(): number {
    return this.#length;
  }

  /** Keeps one more latency (ms). */
  push(ms: number): void {
    const offset = this.#length % LATENCY_CHUNK;
    if (offset === 0) this.#chunks.push(new Float64Array(LATENCY_CHUNK));
    this.#chunks[this.#chunks.length - 1]![offset] = ms;
    this.#length++;
  }

  /** The latency of run `index` (from 0, in the order kept), or undefined past the last, as Array.prototype.at. */
  at(index: number): number | undefined {
    const i = index < 0 ? this.#length + index : index;
    if (!(i >= 0 && i < this.#length)) return undefined;
    return this.#chunks[Math.floor(i / LATENCY_CHUNK)]![i % LATENCY_CHUNK];
  }
}
