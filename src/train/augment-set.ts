/** Training sets extended with augmented examples (TinyBERT's data augmentation, augment.ts). */
import { getHeapStatistics } from 'node:v8';
import type { Model } from '../onnx/graph.ts';
import type { TextTokenizer } from '../eval/tokenizer.ts';
import type { TrainingSet } from './data.ts';
import { augmentedSet, augmentedTrainingSet, trainingTexts } from './augment.ts';
import { teacherWordEmbeddings } from './students/bilstm.ts';
import { gigabytes } from '../units.ts';
import { groupedDigits, SettingsError } from '../errors.ts';

/**
 * A lower bound of the memory one variant takes while the set is built (its texts, its tokenized example, its cache
 * line): about 300 bytes plus 8 per token of its source. Held by this process's heap.
 */
const VARIANT_BYTES = 300;
const VARIANT_BYTES_PER_TOKEN = 8;

/**
 * Refuses, before any variant is made, an `n` whose variants could not all be kept: at least their lower-bound size
 * past the heap this process may use (an --augment of 10⁹ ran for minutes, then died out of memory).
 */
export function checkAugmentFits(set: TrainingSet, n: number, heapBytes = getHeapStatistics().heap_size_limit): void {
  let tokens = 0;
  for (const e of set.examples) tokens += e.ids.length;
  const count = set.examples.length * n;
  const bytes = n * (set.examples.length * VARIANT_BYTES + tokens * VARIANT_BYTES_PER_TOKEN);
  if (bytes <= heapBytes) return;
  throw new SettingsError(
    `--augment ${n}: ${groupedDigits(count)} variants of ${groupedDigits(set.examples.length)} examples would take at least ${gigabytes(bytes)} of memory, more than the ${gigabytes(heapBytes)} this process may use; give a smaller --augment or --max-examples`,
  );
}

/** The examples of `set` augmented with `n` variants of each (withAugmented: the examples, then their variants). */
export function augmentedSize(set: Pick<TrainingSet, 'examples'>, n: number): number {
  return set.examples.length * (1 + n);
}

export interface AugmentSetOptions {
  /** The teacher whose word-embedding space gives the neighbours. */
  teacher: Model;
  /** The student's tokenizer (the teacher's vocabulary: distillation needs the same one). */
  tokenizer: TextTokenizer;
  /** Variants per example. */
  n: number;
  seed: number;
  cacheDir: string;
  /** onnxruntime intra-op threads of the neighbour search: the run's --threads (default: one per physical core). */
  threads?: number;
  log?: (line: string) => void;
  /** Called after each block of the neighbour search (augment.ts); a throw stops it there, nothing cached. */
  onBlock?: (done: number, total: number) => void;
}

/**
 * `set` followed by `n` augmented variants of each example, generated once and cached (labels NaN: the teacher is
 * their only target).
 */
export async function withAugmented(set: TrainingSet, o: AugmentSetOptions): Promise<TrainingSet> {
  checkAugmentFits(set, o.n);
  const aug = await augmentedSet({
    examples: trainingTexts(set),
    tokenizer: o.tokenizer.source,
    embeddings: teacherWordEmbeddings(o.teacher),
    n: o.n,
    seed: o.seed,
    cacheDir: o.cacheDir,
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    ...(o.log ? { log: o.log } : {}),
    ...(o.onBlock ? { onBlock: o.onBlock } : {}),
  });
  o.log?.(`augmented ${set.examples.length} examples × ${o.n}${aug.cached ? ' (cached)' : ''}`);
  return augmentedTrainingSet(set, aug.examples, o.tokenizer);
}
