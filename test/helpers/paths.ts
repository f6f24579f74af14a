/**
 * Where the shared, read-only test material lives, and whether it is there (tests that need it skip otherwise).
 * `$SHARED_DIR`, else the `shared/` folder beside this checkout (`../shared` from the repository root, found from
 * this file, so it does not depend on the working directory); GLUE data `$GLUE_DIR`, else `glue/` in it (each variable
 * read as bert-compress reads its own: environmentValue, a blank value unset, blanks around it not part of it). A folder
 * that is there counts as present: an incomplete one fails the tests that need what it lacks rather than skipping them.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { environmentValue } from '../../src/environment.ts';

export const SHARED = resolve(environmentValue(process.env, 'SHARED_DIR') ?? fileURLToPath(new URL('../../../shared', import.meta.url)));
export const FIXTURES = resolve(SHARED, 'fixtures/onnx');
export const TEACHERS = resolve(SHARED, 'teachers');
export const GLUE_DIR = resolve(environmentValue(process.env, 'GLUE_DIR') ?? resolve(SHARED, 'glue'));

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

/** A tokenizer folder among the shared fixtures. */
export const fixtureTokenizer = (name: 'distilbert-base-uncased' | 'tiny-xlm-roberta-ce'): string => join(FIXTURES, 'tokenizers', name);

/** A small GLUE folder in `dir`/glue: the header and first `rows` examples of each of `files` (as 'SST-2/dev.tsv'). */
export function glueSubset(dir: string, files: string[], rows: number): string {
  const glue = join(dir, 'glue');
  for (const file of files) {
    mkdirSync(join(glue, dirname(file)), { recursive: true });
    writeFileSync(
      join(glue, file),
      `${readFileSync(join(GLUE_DIR, file), 'utf8')
        .split('\n')
        .slice(0, rows + 1)
        .join('\n')}\n`,
    );
  }
  return glue;
}
