/** `compress export`: a Hugging Face safetensors folder becomes an ONNX model folder that eval and compress use. */
import { describe, expect, it, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHuggingFaceFolder } from '../../src/bert/build-hf.ts';
import { randomBertWeights } from '../../src/bert/build-weights.ts';
import { loadModel } from '../../src/onnx/index.ts';
import { findBert } from '../../src/bert/discover.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert, tinyBertConfig } from '../helpers/models.ts';
import { runMain } from '../helpers/cli.ts';

registerAllPasses();

const dir = mkdtempSync(join(tmpdir(), 'bc-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('compress export', () => {
  it('writes a discoverable ONNX model with config and tokenizer beside it', async () => {
    const config = tinyBertConfig();
    const hf = join(dir, 'hf');
    writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 3 }));
    writeFileSync(join(hf, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'hello'].join('\n'));
    const out = join(dir, 'onnx', 'model.onnx');
    const r = await runMain(['export', hf, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 layers, hidden 32/);
    const s = findBert(loadModel(out));
    expect([s.numLayers, s.numHeads, s.hiddenSize]).toEqual([2, 4, 32]);
    expect(existsSync(join(dir, 'onnx', 'config.json'))).toBe(true);
    expect(existsSync(join(dir, 'onnx', 'vocab.txt'))).toBe(true);
  });

  it("says '1 layer' of a one-layer model", async () => {
    const config = tinyBertConfig({ numLayers: 1 });
    const hf = join(dir, 'hf-one');
    writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 3 }));
    const r = await runMain(['export', hf, '-o', join(dir, 'one', 'model.onnx')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/: 1 layer, hidden 32/);
  });

  it('--seed-missing on a checkpoint missing nothing says nothing was seeded, in both formats, where it printed nothing of it', async () => {
    const config = tinyBertConfig({ numLayers: 1 });
    const hf = join(dir, 'hf-whole');
    writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 3 }));
    writeFileSync(join(hf, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'hello'].join('\n'));
    for (const [format, out] of [
      ['onnx', join(dir, 'whole', 'model.onnx')],
      ['transformers.js', join(dir, 'whole-web')],
    ]) {
      const r = await runMain(['export', hf, '--format', format!, '--seed-missing', '3', '-o', out!]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr.trim().split('\n'), format).toEqual([`note: ${hf}: no parameter missing; nothing seeded`]);
    }
  });

  it("refuses, before any work, a folder holding another model's config.json (kept beside the export, it would describe it); a rerun writes over its own", async () => {
    const config = tinyBertConfig();
    const hf = join(dir, 'hf-2');
    writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 4 }));
    const other = join(dir, 'other');
    mkdirSync(other);
    const foreign = JSON.stringify({ model_type: 'bert', num_hidden_layers: 12, id2label: { 0: 'a', 1: 'b', 2: 'c' } });
    writeFileSync(join(other, 'config.json'), foreign);
    const refused = await runMain(['export', hf, '-o', join(other, 'model.onnx')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/other already holds another model's config\.json; write into an empty folder or pass --force$/m);
    expect(readFileSync(join(other, 'config.json'), 'utf8')).toBe(foreign);
    expect(existsSync(join(other, 'model.onnx'))).toBe(false);
    // --force writes over it: the config.json beside the export is then the checkpoint's
    const forced = await runMain(['export', hf, '-o', join(other, 'model.onnx'), '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/; copied config\.json$/m);
    expect(readFileSync(join(other, 'config.json'), 'utf8')).toBe(readFileSync(join(hf, 'config.json'), 'utf8'));
    expect(existsSync(join(other, 'model.onnx'))).toBe(true);
    // (with --format transformers.js, -o is a new or empty folder: --force is refused there)
    const folder = await runMain(['export', hf, '--format', 'transformers.js', '-o', join(dir, 'tjs'), '--force']);
    expect(folder.code).toBe(2);
    expect(folder.stderr.trim()).toMatch(/^[^\n]*--force: with --format transformers\.js, -o is a new or empty folder.*drop --force$/);
    const out = join(dir, 'own', 'model.onnx');
    for (let run = 1; run <= 2; run++) {
      const r = await runMain(['export', hf, '-o', out]);
      expect(r.code, `run ${run}: ${r.stderr}`).toBe(0);
    }
  });

  it('a folder without safetensors is a one-line error', async () => {
    const r = await runMain(['export', dir, '-o', join(dir, 'x.onnx')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--format transformers.js refuses an -o named like an .onnx file (it is the folder written), in compress export and compress, before any work', async () => {
    const config = tinyBertConfig();
    const hf = join(dir, 'hf-tjs');
    writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 5 }));
    const out = join(dir, 'web', 'model.onnx');
    for (const args of [
      ['export', hf],
      [hf, '--quantize', 'int8'],
    ]) {
      const r = await runMain([...args, '--format', 'transformers.js', '-o', out]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([
        `compress: -o ${out}: with --format transformers.js, -o is the folder to write (config.json, tokenizer, onnx/model.onnx), not an .onnx file; give a folder, e.g. ${join(dir, 'web', 'model')}`,
      ]);
      expect(existsSync(join(dir, 'web'))).toBe(false);
    }
  });

  it('--seed-missing that is not an integer ≥ 0 is refused in one line before any work, as train refuses --seed', async () => {
    for (const seed of ['1.5', '-1', '1e20']) {
      const r = await runMain(['export', join(dir, 'absent'), '--seed-missing', seed, '-o', join(dir, 'seeded', 'model.onnx')]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([`compress: --seed-missing ${seed}: expected an integer from 0 to 2^53 − 1`]);
    }
    expect(existsSync(join(dir, 'seeded'))).toBe(false);
  });

  it("--format transformers.js of an ONNX model (a transformers.js folder, an .onnx file) writes it as it is, reading a folder's float onnx/model.onnx, where it was refused for want of a checkpoint", async () => {
    const src = writeModelFolder(join(dir, 'onnx-src'), tinyBert({}, { std: 0.3 }));
    const q8 = join(dir, 'web-q8');
    await compressToTransformersJs({ input: join(src, 'model.onnx'), output: q8, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
    const out = join(dir, 'web-again');
    // twice: the second run replaces the folder the first wrote
    for (let run = 1; run <= 2; run++) {
      const r = await runMain(['export', q8, '--format', 'transformers.js', '-o', out]);
      expect(r.code, `run ${run}: ${r.stderr}`).toBe(0);
      expect(r.stdout.split('\n')[0]).toBe(
        `read ${join(q8, 'onnx', 'model.onnx')} (dtype fp32, the folder's float model; config.json's transformers.js_config dtype q8 is onnx/model_quantized.onnx, which eval, bench and transformers.js run)`,
      );
    }
    expect(readdirSync(join(out, 'onnx')).sort()).toEqual(['model.onnx', 'model.onnx.json']);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))['transformers.js_config']).toEqual({ dtype: 'fp32' });
    // the model as it was: the same weights
    const weights = (f: string) => [...loadModel(f).graph.initializers.values()].map((t) => `${t.name} ${Buffer.from(t.data).toString('base64')}`).sort();
    expect(weights(join(out, 'onnx', 'model.onnx'))).toEqual(weights(join(q8, 'onnx', 'model.onnx')));
    const file = await runMain(['export', join(src, 'model.onnx'), '--format', 'transformers.js', '-o', join(dir, 'web-file')]);
    expect(file.code, file.stderr).toBe(0);
    expect(existsSync(join(dir, 'web-file', 'onnx', 'model.onnx'))).toBe(true);
    // (a checkpoint's option)
    const seeded = await runMain(['export', q8, '--format', 'transformers.js', '--seed-missing', '1', '-o', join(dir, 'web-seeded')]);
    expect(seeded.code).toBe(1);
    expect(seeded.stderr.trim().split('\n')).toEqual([`compress: --seed-missing: ${q8} is an ONNX model, not a checkpoint whose parameters it seeds`]);
  }, 120_000);

  it('--format transformers.js of a checkpoint without tokenizer files takes --tokenizer, which its refusal names (a plain export refuses the flag in one line), where export knew no such flag', async () => {
    const config = tinyBertConfig();
    const hf = join(dir, 'hf-no-tokenizer');
    writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 6 }));
    const tokenizer = join(dir, 'tokenizer-only');
    mkdirSync(tokenizer);
    writeFileSync(join(tokenizer, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello'].join('\n'));
    const refused = await runMain(['export', hf, '--format', 'transformers.js', '-o', join(dir, 'web-no-tokenizer')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toEqual([
      `compress: ${hf}: no tokenizer.json, vocab.txt, vocab.json with merges.txt or SentencePiece model; transformers.js needs the tokenizer (give its folder with --tokenizer)`,
    ]);
    const out = join(dir, 'web-tokenizer');
    const r = await runMain(['export', hf, '--format', 'transformers.js', '--tokenizer', join(tokenizer, 'vocab.txt'), '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')).model.vocab).toMatchObject({ '[PAD]': 0, hello: 5 });
    const plain = await runMain(['export', hf, '--tokenizer', tokenizer, '-o', join(dir, 'plain-tokenizer', 'model.onnx')]);
    expect(plain.code).toBe(2);
    expect(plain.stderr.trim().split('\n')).toEqual([
      "compress: --tokenizer: applies to --format transformers.js; an ONNX export copies the checkpoint folder's tokenizer files beside it (put the tokenizer's files there)",
    ]);
    expect(existsSync(join(dir, 'plain-tokenizer'))).toBe(false);
  }, 120_000);
});
