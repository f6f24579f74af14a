/**
 * A `compress`, `export`, `train` or `distill` killed (SIGKILL, out of memory) while it writes config.json or copies a tokenizer
 * file beside its model leaves that file's temporary (`tokenizer.json.<pid>.<random>.tmp`, a tokenizer's size) in
 * the output folder. The rerun that writes the folder again removes what the dead writer left, as it does for the
 * model and its external data (saveModel), instead of the folder keeping the temporaries of every killed run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeHuggingFaceFolder } from '../../src/bert/build-hf.ts';
import { randomBertWeights } from '../../src/bert/build-weights.ts';
import { compressFile } from '../../src/export/compress.ts';
import { exportHuggingFaceFolder } from '../../src/export/from-huggingface.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { writeOutputSideFiles } from '../../src/train/output-folder.ts';
import { tinyBertConfig, writeTinyBert } from '../helpers/models.ts';

registerAllPasses();
const tiny = writeTinyBert({ numLayers: 1 }, { std: 0.2 });
writeFileSync(join(tiny.dir, 'config.json'), JSON.stringify({ num_labels: 2 }));
writeFileSync(join(tiny.dir, 'vocab.txt'), '[PAD]\n[UNK]\n[CLS]\n[SEP]\nfilm\n');
writeFileSync(join(tiny.dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true }));
afterAll(() => tiny.cleanup());

/** The temporaries a writer killed while writing `names` in `dir` left (its pid gone, unwritten for an hour). */
function deadWritersTemporaries(dir: string, names: readonly string[]): string[] {
  const pid = spawnSync(process.execPath, ['-e', '']).pid!; // (exited: no process has that pid now)
  mkdirSync(dir, { recursive: true });
  const hourAgo = new Date(Date.now() - 3_600_000);
  return names.map((name) => {
    const left = join(dir, `${name}.${pid}.k1ll3d.tmp`);
    writeFileSync(left, `half of ${name}`);
    utimesSync(left, hourAgo, hourAgo);
    return left;
  });
}

const temporaries = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

describe('an output folder written again after a run killed while writing its side files', () => {
  it('compress removes the dead writer’s temporaries of config.json and the tokenizer files', async () => {
    const out = join(tiny.dir, 'compress-out');
    deadWritersTemporaries(out, ['config.json', 'vocab.txt', 'tokenizer_config.json']);
    await compressFile({ input: tiny.path, output: join(out, 'model.onnx'), steps: [{ pass: 'prune-ffn', settings: { ratio: 0.25 } }] });
    expect(readdirSync(out)).toEqual(expect.arrayContaining(['model.onnx', 'config.json', 'vocab.txt', 'tokenizer_config.json']));
    expect(temporaries(out)).toEqual([]);
  });

  it('export of a checkpoint folder removes the dead writer’s temporaries of config.json and the tokenizer files', async () => {
    const checkpoint = join(tiny.dir, 'checkpoint');
    const config = tinyBertConfig();
    writeHuggingFaceFolder(checkpoint, config, randomBertWeights(config, { seed: 1 }));
    writeFileSync(join(checkpoint, 'vocab.txt'), '[PAD]\n[UNK]\n[CLS]\n[SEP]\nfilm\n');
    const out = join(tiny.dir, 'export-out');
    deadWritersTemporaries(out, ['config.json', 'vocab.txt']);
    await exportHuggingFaceFolder(checkpoint, join(out, 'model.onnx'));
    expect(readdirSync(out)).toEqual(expect.arrayContaining(['model.onnx', 'config.json', 'vocab.txt']));
    expect(temporaries(out)).toEqual([]);
  });

  it('a trained model’s side files (train, distill): the dead writer’s temporaries are removed, a live one’s kept', () => {
    const out = join(tiny.dir, 'train-out');
    // (and the projections a distill learned, model.onnx.projections.safetensors, written after them)
    deadWritersTemporaries(out, ['config.json', 'vocab.txt', 'tokenizer.json', 'model.onnx.json', 'model.onnx.projections.safetensors']);
    // (this process's own: a writer still running, never taken for a dead one's)
    const live = join(out, `vocab.txt.${process.pid}.l1ve0000.tmp`);
    writeFileSync(live, 'being written');
    writeOutputSideFiles(join(out, 'model.onnx'), { num_labels: 2 }, tiny.dir);
    expect(existsSync(join(out, 'config.json')) && existsSync(join(out, 'vocab.txt'))).toBe(true);
    expect(temporaries(out)).toEqual([`vocab.txt.${process.pid}.l1ve0000.tmp`]);
  });
});
