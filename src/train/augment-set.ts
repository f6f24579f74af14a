/** Training sets extended with augmented examples (TinyBERT's data augmentation, augment.ts). */
import type { Model } from '../onnx/graph.ts';
import type { TextTokenizer } from '../eval/tokenizer.ts';
import { SettingsError } from '../errors.ts';
import type { TrainingSet } from './data.ts';

export interface AugmentSetOptions {
  teacher: Model;
  tokenizer: TextTokenizer;
  /** Variants per example. */
  n: number;
  seed: number;
  cacheDir: string;
  log?: (line: string) => void;
}

/** `set` followed by `n` augmented variants of each example (labels NaN: the teacher is their only target). */
export async function withAugmented(set: TrainingSet, o: AugmentSetOptions): Promise<TrainingSet> {
  void set;
  void o;
  throw new SettingsError('--augment is not wired yet');
}
