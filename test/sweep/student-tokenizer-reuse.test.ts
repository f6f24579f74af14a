/**
 * A sweep point's distill stage whose output an earlier bert-compress wrote without the tokenizer class in config.json
 * (a bert: student of a teacher whose tokenizer is a SentencePiece model alone, before the class was named there): its
 * output is reused with config.json naming the class as the training running now writes it (its stage record then
 * holding that file), so the point's evaluation reads the teacher's tokenizer, where it failed again at each rerun.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saveModel } from '../../src/onnx/index.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { runPoint } from '../../src/sweep/point.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { writeGlueTask } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { ALBERT_SPECIAL_PIECES, sentencePieceModelBytes } from '../helpers/sentencepiece-model.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-student-tokenizer-reuse-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("a reused distill stage of an ALBERT teacher's bert: student", () => {
  it('names the tokenizer class in config.json, which an earlier version left out, and the point evaluates', async () => {
    const glue = join(root, 'glue');
    writeGlueTask(glue, 'SST-2', 8, ['train', 'dev']);
    const teacher = join(root, 'models', 'albert');
    mkdirSync(teacher, { recursive: true });
    saveModel(tinyBert({ vocabSize: 12, numLayers: 1 }), join(teacher, 'model.onnx'));
    const words = ['▁the', '▁film', '▁is', '▁good', '▁a', '▁bad'].map((piece, i) => ({ piece, score: -1 - i / 10 }));
    writeFileSync(join(teacher, 'spiece.model'), sentencePieceModelBytes([...ALBERT_SPECIAL_PIECES, { piece: '▁', score: -2 }, ...words], { unkId: 1 }));
    writeFileSync(join(teacher, 'config.json'), JSON.stringify({ model_type: 'albert', id2label: { 0: 'negative', 1: 'positive' }, max_length: 16 }));
    const doc = {
      models: [{ path: teacher, tasks: ['SST-2'] }],
      pipelines: [
        { name: 'kd', steps: [{ pass: 'distill', settings: { student: 'bert:layers=1,hidden=8,heads=1,intermediate=8', epochs: 1, batchSize: 4 } }] },
      ],
      bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
      keepModels: true,
    };
    const points = await planSweep(parseSweep(doc, join(root, 's.yaml'), 's.yaml'), {
      glueDir: glue,
      workDir: join(root, 'work'),
      cacheDir: join(root, 'cache'),
    });
    const point = points.find((p) => p.label === 'kd')!;
    const first = await runPoint(point, { threads: 1 });
    expect(first.reused).toBeUndefined();
    const dir = point.outputDir!;
    const written = readFileSync(join(dir, 'config.json'), 'utf8');
    expect(JSON.parse(written).tokenizer_class).toBe('AlbertTokenizer');

    // as an earlier version left it: config.json without the class, the stage record holding that file
    const { tokenizer_class: _, ...older } = JSON.parse(written) as Record<string, unknown>;
    const olderText = `${JSON.stringify(older, null, 2)}\n`;
    writeFileSync(join(dir, 'config.json'), olderText);
    const recordFile = join(dir, '.sweep-stage.json');
    const record = JSON.parse(readFileSync(recordFile, 'utf8'));
    record.files['config.json'] = { bytes: statSync(join(dir, 'config.json')).size, sha256: createHash('sha256').update(olderText).digest('hex') };
    writeFileSync(recordFile, JSON.stringify(record, null, 2));

    const logs: string[] = [];
    const again = await runPoint(point, { threads: 1, log: (l) => logs.push(l) });
    expect(again.reused).toBe(1);
    expect(logs.some((l) => l.startsWith('reusing the output of stage 1 of 1 (distill)'))).toBe(true);
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe(written);
    expect(again.glue).toEqual(first.glue);
    // (its record holds the file as rewritten: a third run reuses it as it stands)
    const third: string[] = [];
    expect((await runPoint(point, { threads: 1, log: (l) => third.push(l) })).reused).toBe(1);
    expect(third.some((l) => l.startsWith('not reusing'))).toBe(false);
  }, 60_000);
});
