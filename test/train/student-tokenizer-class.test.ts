/**
 * A bert: or bilstm: student of a teacher whose tokenizer is a SentencePiece model alone (ALBERT's spiece.model, XLM-R's
 * sentencepiece.bpe.model, read by config.json's model_type): its config.json names the teacher's tokenizer class, so
 * the folder written (its model_type bert or bilstm) is read with the teacher's tokenizer by eval and transformers'
 * AutoTokenizer, where it was refused as a SentencePiece model of neither an ALBERT, XLM-R nor CamemBERT tokenizer.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { saveModel } from '../../src/onnx/index.ts';
import { runMain } from '../helpers/cli.ts';
import { writeGlueTask } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { ALBERT_SPECIAL_PIECES, sentencePieceModelBytes } from '../helpers/sentencepiece-model.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-student-tokenizer-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const glue = join(root, 'glue');
writeGlueTask(glue, 'SST-2', 8, ['train', 'dev']);
const words = ['▁the', '▁film', '▁is', '▁good', '▁a', '▁bad'].map((piece, i) => ({ piece, score: -1 - i / 10 }));

/** A teacher folder of `modelType` holding only `file` (a SentencePiece model of `pieces`) as its tokenizer. */
function teacher(modelType: string, file: string, pieces: Parameters<typeof sentencePieceModelBytes>[0], vocabSize: number, unkId: number): string {
  const dir = join(root, modelType);
  mkdirSync(dir, { recursive: true });
  saveModel(tinyBert({ vocabSize, numLayers: 1 }), join(dir, 'model.onnx'));
  writeFileSync(join(dir, file), sentencePieceModelBytes(pieces, { unkId }));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: modelType, id2label: { 0: 'negative', 1: 'positive' }, max_length: 16 }));
  return dir;
}

describe("a student of another family than its SentencePiece-only teacher's", () => {
  const teachers = [
    [
      'albert',
      'AlbertTokenizer',
      'bert:layers=1,hidden=8,heads=1,intermediate=8',
      teacher('albert', 'spiece.model', [...ALBERT_SPECIAL_PIECES, { piece: '▁', score: -2 }, ...words], 12, 1),
    ],
    [
      'xlm-roberta',
      'XLMRobertaTokenizer',
      'bilstm:hidden=4,embedding=4',
      teacher(
        'xlm-roberta',
        'sentencepiece.bpe.model',
        [{ piece: '<unk>', score: 0, type: 2 }, { piece: '<s>', score: 0, type: 3 }, { piece: '</s>', score: 0, type: 3 }, { piece: '▁', score: -2 }, ...words],
        12,
        0,
      ),
    ],
  ] as const;
  it.each(teachers)(
    '%s: config.json names %s and the folder of a %s student tokenizes as the teacher',
    async (modelType, className, student, dir) => {
      const out = join(root, 'out', modelType, student.split(':')[0]!, 'model.onnx');
      const args = ['distill', '--teacher', dir, '--student', student, '--task', 'SST-2', '--epochs', '1', '--batch-size', '4', '--glue-dir', glue, '-o', out];
      const r = await runMain(args, { BERT_COMPRESS_CACHE: join(root, 'cache') });
      expect(r.code, r.stderr).toBe(0);
      const config = JSON.parse(readFileSync(join(out, '..', 'config.json'), 'utf8')) as Record<string, unknown>;
      expect([config.model_type, config.tokenizer_class]).toEqual([student.startsWith('bert') ? 'bert' : 'bilstm', className]);
      expect(loadTokenizer(join(out, '..')).encode('the film is good', 'a bad film', 16)).toEqual(
        loadTokenizer(dir).encode('the film is good', 'a bad film', 16),
      );
    },
    30_000,
  );
});
