/** Training sets extended with augmented examples (TinyBERT's data augmentation, augment.ts). */
import type { Model } from '../onnx/graph.ts';
import type { TextTokenizer } from '../eval/tokenizer.ts';
import type { TrainingSet } from './data.ts';
import { augmentedSet, augmentedTrainingSet, trainingTexts } from './augment.ts';
import { teacherWordEmbeddings } from './students/bilstm.ts';

export interface AugmentSetOptions {
  /** The teacher whose word-embedding space gives the neighbours. */
  teacher: Model;
  /** The student's tokenizer (the teacher's vocabulary: distillation needs the same one). */
  tokenizer: TextTokenizer;
  /** Variants per example. */
  n: number;
  seed: number;
  cacheDir: string;
  log?: (line: string) => void;
}

/**
 * `set` followed by `n` augmented variants of each example, generated once and cached (labels NaN: the teacher is
 * their only target).
 */
export async function withAugmented(set: TrainingSet, o: AugmentSetOptions): Promise<TrainingSet> {
  const aug = await augmentedSet({
    examples: trainingTexts(set),
    tokenizer: o.tokenizer.source,
    embeddings: teacherWordEmbeddings(o.teacher),
    n: o.n,
    seed: o.seed,
    cacheDir: o.cacheDir,
    ...(o.log ? { log: o.log } : {}),
  });
  o.log?.(`augmented ${set.examples.length} examples × ${o.n}${aug.cached ? ' (cached)' : ''}`);
  return augmentedTrainingSet(set, aug.examples, o.tokenizer);
}
