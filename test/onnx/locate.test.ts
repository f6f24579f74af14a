/** Finding a model's .onnx file (src/onnx/locate.ts): what is not a file or folder is refused in one line. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/errors.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { locateModel } from '../../src/onnx/locate.ts';
import { locateRunModel } from '../../src/eval/model-files.ts';

describe('locateModel', () => {
  it('refuses a device as MODEL, saying it is not a model file or folder', () => {
    expect(() => locateModel('/dev/null')).toThrow(ModelLoadError);
    expect(() => locateModel('/dev/null')).toThrow(/^\/dev\/null: not a model file or folder \(a device, pipe or socket\)$/);
  });

  it('refuses a missing path', () => {
    expect(() => locateModel('/no/such/model')).toThrow(/^\/no\/such\/model: no such file or folder$/);
  });

  it('a symbolic link loop or a link to nothing is said as such, not as a missing file (locate and load)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'locate-'));
    try {
      const loop = join(dir, 'self.onnx');
      symlinkSync('self.onnx', loop);
      const dangling = join(dir, 'gone.onnx');
      symlinkSync('elsewhere/model.onnx', dangling);
      expect(() => locateModel(loop)).toThrow(new ModelLoadError(`${loop}: a symbolic link loop (too many symbolic links)`));
      expect(() => locateModel(dangling)).toThrow(new ModelLoadError(`${dangling}: a symbolic link to elsewhere/model.onnx, which does not exist`));
      expect(() => loadModel(loop)).toThrow(new ModelLoadError(`${loop}: a symbolic link loop (too many symbolic links)`));
      // A folder whose only .onnx is such a link: located by name, refused by the load with the same words.
      const folder = join(dir, 'm');
      mkdirSync(folder);
      symlinkSync('model.onnx', join(folder, 'model.onnx'));
      const { onnx } = locateModel(folder);
      expect(() => loadModel(onnx)).toThrow(new ModelLoadError(`${onnx}: a symbolic link loop (too many symbolic links)`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a folder without ONNX: says so, and points a safetensors checkpoint to compress export', () => {
    const dir = mkdtempSync(join(tmpdir(), 'locate-'));
    try {
      expect(() => locateModel(dir)).toThrow(new ModelLoadError(`${dir}: folder has no model.onnx (nor onnx/model.onnx)`));
      writeFileSync(join(dir, 'pytorch_model.bin'), 'pickle');
      expect(() => locateModel(dir)).toThrow(
        new ModelLoadError(
          `${dir}: folder has no model.onnx (nor onnx/model.onnx); it holds pytorch_model.bin, which bert-compress cannot read: save the model as safetensors (or ONNX) first`,
        ),
      );
      rmSync(join(dir, 'pytorch_model.bin'));
      // (a sharded TensorFlow checkpoint: its index named, where the folder was said to hold nothing)
      for (const f of ['tf_model-00001-of-00002.h5', 'tf_model-00002-of-00002.h5', 'tf_model.h5.index.json']) writeFileSync(join(dir, f), '');
      expect(() => locateModel(dir)).toThrow(
        new ModelLoadError(
          `${dir}: folder has no model.onnx (nor onnx/model.onnx); it holds tf_model.h5.index.json, tf_model-00001-of-00002.h5, tf_model-00002-of-00002.h5, which bert-compress cannot read: save the model as safetensors (or ONNX) first`,
        ),
      );
      // (the shards alone, saved without their index: named, where the folder was said to hold nothing)
      rmSync(join(dir, 'tf_model.h5.index.json'));
      expect(() => locateModel(dir)).toThrow(
        new ModelLoadError(
          `${dir}: folder has no model.onnx (nor onnx/model.onnx); it holds tf_model-00001-of-00002.h5, tf_model-00002-of-00002.h5, which bert-compress cannot read: save the model as safetensors (or ONNX) first`,
        ),
      );
      writeFileSync(join(dir, 'model.safetensors'), '');
      expect(() => locateModel(dir)).toThrow(
        new RegExp(`; it holds a safetensors checkpoint: export it to ONNX first \\(compress export ${dir} -o OUT/model\\.onnx\\)$`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a folder (or its checkpoint file) holding a blank in the compress export command it gives as a shell takes it', () => {
    const root = mkdtempSync(join(tmpdir(), 'locate-'));
    try {
      const dir = join(root, 'my model');
      mkdirSync(dir);
      writeFileSync(join(dir, 'model.safetensors'), '');
      expect(() => locateModel(dir)).toThrow(`; it holds a safetensors checkpoint: export it to ONNX first (compress export '${dir}' -o OUT/model.onnx)`);
      expect(() => locateModel(join(dir, 'model.safetensors'))).toThrow(
        `a safetensors checkpoint, not an ONNX model: export it to ONNX first (compress export '${dir}' -o OUT/model.onnx)`,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("a model folder's other file given as MODEL (tokenizer.json, config.json, vocab.txt, model.safetensors, pytorch_model.bin, an .onnx file's external data or lineage record) is refused naming what it is and what to give, where it was decoded as ONNX ('protobuf decoding failed: invalid wire type 6')", () => {
    const dir = mkdtempSync(join(tmpdir(), 'locate-'));
    try {
      const refusal = (name: string, content: string) => {
        writeFileSync(join(dir, name), content);
        try {
          locateModel(join(dir, name));
        } catch (e) {
          expect(e).toBeInstanceOf(ModelLoadError);
          return (e as Error).message;
        }
        return 'located';
      };
      const giveModel = `not an ONNX model: give the model's .onnx file or its folder (${dir})`;
      expect(refusal('tokenizer.json', '{"version": "1.0"}')).toBe(`${join(dir, 'tokenizer.json')}: a tokenizer file, ${giveModel}`);
      expect(refusal('vocab.txt', '[PAD]\n')).toBe(`${join(dir, 'vocab.txt')}: a tokenizer file, ${giveModel}`);
      expect(refusal('config.json', '{}')).toBe(`${join(dir, 'config.json')}: a model folder's config.json, ${giveModel}`);
      expect(refusal('model.safetensors', '')).toBe(
        `${join(dir, 'model.safetensors')}: a safetensors checkpoint, not an ONNX model: export it to ONNX first (compress export ${dir} -o OUT/model.onnx)`,
      );
      expect(refusal('pytorch_model.bin', 'pickle')).toBe(
        `${join(dir, 'pytorch_model.bin')}: a checkpoint bert-compress cannot read, not an ONNX model: save the model as safetensors (or ONNX) first`,
      );
      // (a shard of one, as transformers names them, where it was decoded as ONNX)
      // (and the index of a TensorFlow or Flax one's shards, as of a pickled one's, where it was decoded as ONNX)
      for (const shard of ['pytorch_model-00001-of-00002.bin', 'tf_model-00002-of-00002.h5', 'tf_model.h5.index.json', 'flax_model.msgpack.index.json'])
        expect(refusal(shard, 'pickle')).toBe(
          `${join(dir, shard)}: a checkpoint bert-compress cannot read, not an ONNX model: save the model as safetensors (or ONNX) first`,
        );
      for (const data of ['model.onnx.data', 'model.onnx_data'])
        expect(refusal(data, 'weights')).toBe(`${join(dir, data)}: the external data of model.onnx, not an ONNX model: give ${join(dir, 'model.onnx')}`);
      // (the lineage record compress writes beside a model, which a shell offers beside it: model.onnx<Tab>)
      expect(refusal('model.onnx.json', '{"kind": "compress"}')).toBe(
        `${join(dir, 'model.onnx.json')}: the lineage record of model.onnx (what compress wrote it from), not an ONNX model: give ${join(dir, 'model.onnx')}`,
      );
      // (any other name is a model file to load: what it holds is the load's to judge)
      expect(refusal('weights.data', 'x')).toBe('located');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a folder whose onnx/ holds only other dtypes (model_quantized.onnx): names them, not "no model"', () => {
    const dir = mkdtempSync(join(tmpdir(), 'locate-'));
    try {
      mkdirSync(join(dir, 'onnx'));
      writeFileSync(join(dir, 'onnx', 'model_quantized.onnx'), '');
      expect(() => locateModel(dir)).toThrow(
        new ModelLoadError(
          `${dir}: folder has no model.onnx (nor onnx/model.onnx); onnx/ holds model_quantized.onnx: give that file (${join(dir, 'onnx', 'model_quantized.onnx')})`,
        ),
      );
      writeFileSync(join(dir, 'onnx', 'model_fp16.onnx'), '');
      expect(() => locateModel(dir)).toThrow(
        new ModelLoadError(
          `${dir}: folder has no model.onnx (nor onnx/model.onnx); onnx/ holds model_fp16.onnx, model_quantized.onnx: give one of those files`,
        ),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a file in an onnx/ folder (Optimum, transformers.js) reads config.json and the tokenizer from the folder above', () => {
    const dir = mkdtempSync(join(tmpdir(), 'locate-'));
    try {
      mkdirSync(join(dir, 'onnx'));
      const file = join(dir, 'onnx', 'model_quantized.onnx');
      writeFileSync(file, '');
      expect(locateModel(file)).toEqual({ onnx: file, dir: join(dir, 'onnx') }); // nothing above either
      writeFileSync(join(dir, 'config.json'), '{}');
      writeFileSync(join(dir, 'tokenizer.json'), '{}');
      expect(locateModel(file)).toEqual({ onnx: file, dir });
      writeFileSync(join(dir, 'onnx', 'vocab.txt'), '[PAD]\n');
      expect(locateModel(file)).toEqual({ onnx: file, dir: join(dir, 'onnx') }); // its own tokenizer comes first
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a folder whose onnx/model.onnx has config.json and the tokenizer beside it (compress export -o DIR/onnx/model.onnx) reads them there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'locate-'));
    try {
      const onnx = join(dir, 'onnx');
      mkdirSync(onnx);
      const file = join(onnx, 'model.onnx');
      writeFileSync(file, '');
      expect(locateModel(dir)).toEqual({ onnx: file, dir }); // no side files anywhere: the folder, as given
      writeFileSync(join(onnx, 'config.json'), '{}');
      writeFileSync(join(onnx, 'tokenizer.json'), '{}');
      expect(locateModel(dir)).toEqual({ onnx: file, dir: onnx });
      expect(locateRunModel(dir)).toEqual({ onnx: file, dir: onnx, transformersJs: { dtype: 'fp32', from: 'default' } });
      writeFileSync(join(dir, 'config.json'), '{}'); // the folder's own come first, as transformers.js reads them
      expect(locateModel(dir)).toEqual({ onnx: file, dir });
      expect(locateRunModel(dir).dir).toBe(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
