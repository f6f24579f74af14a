/** Where the shared GLUE data, teachers and fixtures are, and whether they are present (tests skip otherwise). */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export const GLUE_DIR = resolve(process.env.GLUE_DIR ?? '../shared/glue');
export const TEACHERS_DIR = resolve('../shared/teachers');
export const FIXTURES_DIR = resolve('../shared/fixtures/onnx');

export const hasGlue = existsSync(join(GLUE_DIR, 'SST-2', 'dev.tsv'));
export const hasTeachers = existsSync(join(TEACHERS_DIR, 'sst2-L4H256', 'model.onnx'));
export const hasFixtures = existsSync(join(FIXTURES_DIR, 'tokenizers', 'distilbert-base-uncased', 'tokenizer.json'));

/** A tokenizer folder among the shared fixtures. */
export const fixtureTokenizer = (name: 'distilbert-base-uncased' | 'tiny-xlm-roberta-ce'): string => join(FIXTURES_DIR, 'tokenizers', name);

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
