/** Where the shared, read-only test material lives, and whether it is there. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const SHARED = resolve(process.env.SHARED_DIR ?? resolve(__dirname, '../../../shared'));
export const FIXTURES = resolve(SHARED, 'fixtures/onnx');
export const TEACHERS = resolve(SHARED, 'teachers');
export const GLUE_DIR = resolve(process.env.GLUE_DIR ?? resolve(SHARED, 'glue'));

export const hasFixtures = existsSync(FIXTURES);
export const hasTeachers = existsSync(TEACHERS);
export const hasGlue = existsSync(GLUE_DIR);

/** The shared exporter fixtures: file name, the id limit to feed, and a fixed sequence length if the graph needs one. */
export const FIXTURE_MODELS: ReadonlyArray<{ file: string; vocab: number; seq?: number }> = [
  { file: 'distilbert-seqcls-tiny-torch110-op11.onnx', vocab: 30522 },
  { file: 'bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx', vocab: 20, seq: 7 },
  { file: 'bert-large-qa-squad-tiny-keras2onnx-op11.onnx', vocab: 20, seq: 7 },
  { file: 'bert-toy-pretraining-torch11-op12.onnx', vocab: 99 },
  { file: 'bert-toy-pretraining-ort-fused.onnx', vocab: 99 },
  { file: 'xlmroberta-crossencoder-tiny-torch27-op14.onnx', vocab: 100 },
];

export const fixture = (file: string) => resolve(FIXTURES, file);
