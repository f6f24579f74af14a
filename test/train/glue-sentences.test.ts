/** The GLUE sentences of general distillation read each GLUE file once (MNLI-m and MNLI-mm share MNLI/train.tsv). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const reads = vi.hoisted(() => [] as string[]);
vi.mock('../../src/glue/tsv.ts', async (original) => {
  const m = await original<typeof import('../../src/glue/tsv.ts')>();
  const readTsv: typeof m.readTsv = (file, opts) => {
    reads.push(file);
    return m.readTsv(file, opts);
  };
  return { ...m, readTsv };
});
const { glueSentences } = await import('../../src/train/corpus.ts');

const glueDir = mkdtempSync(join(tmpdir(), 'bert-compress-glue-sentences-'));
afterAll(() => rmSync(glueDir, { recursive: true, force: true }));

describe('glueSentences', () => {
  it("reads MNLI's train file once, though MNLI-m and MNLI-mm both train on it, and every sentence once", () => {
    mkdirSync(join(glueDir, 'MNLI'));
    const mnli = (rows: string[][]) => ['sentence1\tsentence2\tgold_label', ...rows.map((r) => r.join('\t'))].join('\n') + '\n';
    writeFileSync(join(glueDir, 'MNLI', 'train.tsv'), mnli([['a man runs', 'a man moves', 'entailment']]));
    writeFileSync(join(glueDir, 'MNLI', 'dev_matched.tsv'), mnli([['a dog sits', 'a man moves', 'neutral']]));
    writeFileSync(join(glueDir, 'MNLI', 'dev_mismatched.tsv'), mnli([['a cat eats', 'a dog sits', 'contradiction']]));
    expect(glueSentences(glueDir).map((s) => s.textA)).toEqual(['a man runs', 'a man moves', 'a dog sits', 'a cat eats']);
    expect(reads.map((f) => f.slice(glueDir.length + 1))).toEqual(['MNLI/train.tsv', 'MNLI/dev_matched.tsv', 'MNLI/dev_mismatched.tsv']);
  });
});
