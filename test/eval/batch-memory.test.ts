/**
 * A --batch-size larger than the machine can hold is refused in one line before the batch is built, as bench refuses
 * a shape (one activation larger than the machine's memory): an eval batch holds at most the task's examples, so a
 * huge --batch-size makes the whole dev set one batch (QQP's 40,430 examples), padded to its longest example.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

/** The machine's memory as the eval's check reads it (node:os totalmem), set per test. */
const memory = vi.hoisted(() => ({ bytes: undefined as number | undefined }));
vi.mock('node:os', async (original) => {
  const os = await original<typeof import('node:os')>();
  const totalmem = () => memory.bytes ?? os.totalmem();
  return { ...os, totalmem, default: { ...os, totalmem } };
});

const { checkBatchFits } = await import('../../src/eval/batching.ts');
const { evaluate } = await import('../../src/eval/evaluate.ts');
const { saveModel } = await import('../../src/onnx/index.ts');
const { tinyBert } = await import('../helpers/models.ts');

const BASE = { intermediateSize: 3072, numHeads: 12, hiddenSize: 768 };

describe('checkBatchFits', () => {
  it("refuses a batch whose one activation is beyond the machine's memory, naming the flag, the batch and the sizes", () => {
    const qqp = new Array<number>(40_430).fill(128);
    expect(() => checkBatchFits(BASE, 1_000_000, qqp, undefined, { what: 'QQP dev', model: 'bert-base.onnx' }, 24e9)).toThrow(
      /^--batch-size 1000000: a batch of 40,430 QQP dev examples of up to 128 tokens would take 64 GB in one activation of bert-base\.onnx, more than this machine's 24 GB of memory; give a smaller --batch-size$/,
    );
    expect(() => checkBatchFits(BASE, 32, qqp, undefined, { what: 'QQP dev', model: 'm' }, 24e9)).not.toThrow();
  });

  it('counts a batch as the examples there are, padded to the longest (or to the length the graph fixes)', () => {
    const lengths = [5, 9, 7];
    expect(() => checkBatchFits(BASE, 1e12, lengths, undefined, { what: 'x', model: 'm' }, 4 * 3 * 9 * 3072)).not.toThrow();
    expect(() => checkBatchFits(BASE, 1e12, lengths, undefined, { what: 'x', model: 'm' }, 4 * 3 * 9 * 3072 - 1)).toThrow(
      /a batch of 3 x examples of up to 9 tokens/,
    );
    expect(() => checkBatchFits(BASE, 2, lengths, 512, { what: 'x', model: 'm' }, 4 * 2 * 512 * 3072)).toThrow(/a batch of 2 x examples of up to 512 tokens/);
  });
});

describe('compress eval --batch-size', () => {
  const root = mkdtempSync(join(tmpdir(), 'batch-memory-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const WORDS = ['a', 'good', 'bad', 'film'];
  const glueDir = join(root, 'glue');
  mkdirSync(join(glueDir, 'SST-2'), { recursive: true });
  const rows = Array.from({ length: 40 }, (_, i) => `a ${i % 2 ? 'good' : 'bad'} film\t${i % 2}`);
  writeFileSync(join(glueDir, 'SST-2', 'dev.tsv'), ['sentence\tlabel', ...rows].join('\n') + '\n');
  const dir = join(root, 'model');
  mkdirSync(dir);
  saveModel(tinyBert({ numLabels: 2 }), join(dir, 'model.onnx'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ max_length: 16 }));
  writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS].join('\n') + '\n');

  it('refuses a batch the machine cannot hold before running it, and runs smaller batches of the same examples', async () => {
    // 40 examples of 5 tokens in one batch: 40 × 5 × 64 FFN units × 4 bytes = 51,200 bytes; 4 of them: 5,120
    memory.bytes = 20_000;
    try {
      await expect(evaluate({ model: dir, tasks: ['SST-2'], glueDir, threads: 1, batchSize: 100_000 })).rejects.toThrow(
        new RegExp(
          `^--batch-size 100000: a batch of 40 SST-2 dev examples of up to 5 tokens would take 0\\.000051 GB in one activation of ${join(dir, 'model.onnx')}, more than this machine's 0\\.000020 GB of memory; give a smaller --batch-size$`,
        ),
      );
      const r = await evaluate({ model: dir, tasks: ['SST-2'], glueDir, threads: 1, batchSize: 4 });
      expect(r.tasks[0]!.examples).toBe(40);
    } finally {
      memory.bytes = undefined;
    }
  });
});
