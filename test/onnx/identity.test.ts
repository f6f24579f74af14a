/**
 * A model's identity (modelSha256) and the external data files it names (externalDataFiles): an inline model is
 * its file's hash; one with external data hashes the data files too; a file that is not a model names none.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { fileStamps, sha256Bytes, sha256File } from '../../src/files.ts';
import { externalDataFiles, modelSha256, modelSha256AndStamps, modelSha256Sync, modelStamps } from '../../src/onnx/identity.ts';
import { loadModel, saveModel } from '../../src/onnx/index.ts';
import { onnx } from '../../src/onnx/proto.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeExternalAttributeModel } from '../helpers/external-attributes.ts';
import { FIXTURES } from '../helpers/paths.ts';

describe('a file that is not an ONNX model', () => {
  it('names no external data files and is identified by its own hash, rather than failing on a protobuf error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'identity-'));
    const path = join(dir, 'model.onnx');
    // field 1 with wire type 7 (there is none), then the bytes 'location'
    writeFileSync(path, Buffer.concat([Buffer.from([0x0f]), Buffer.from('location, location')]));
    expect(externalDataFiles(path)).toEqual([]);
    expect(await modelSha256(path)).toBe(await sha256File(path));
  });
});

/** externalDataFiles as it was before the pre-check: every model decoded. */
function decodedExternalFiles(path: string): string[] {
  let model: ReturnType<typeof onnx.ModelProto.decode>;
  try {
    model = onnx.ModelProto.decode(readFileSync(path));
  } catch {
    return [];
  }
  const locations = new Set<string>();
  for (const t of model.graph?.initializer ?? []) for (const e of t.externalData ?? []) if (e.key === 'location' && e.value) locations.add(e.value);
  return [...locations].sort().map((l) => resolve(dirname(path), l));
}

/** externalDataFiles of `path`, and whether it decoded the model. */
function withDecodes(path: string): { files: string[]; decoded: boolean } {
  const decode = vi.spyOn(onnx.ModelProto, 'decode');
  try {
    const files = externalDataFiles(path);
    return { files, decoded: decode.mock.calls.length > 0 };
  } finally {
    decode.mockRestore();
  }
}

describe('the external data pre-check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'identity-'));

  it('does not decode an inline model, and finds what the decode finds', async () => {
    const path = join(dir, 'inline.onnx');
    saveModel(tinyBert(), path, { externalData: false });
    expect(withDecodes(path)).toEqual({ files: [], decoded: false });
    expect(await modelSha256(path)).toBe(await sha256File(path));
    expect(modelSha256Sync(path)).toBe(await modelSha256(path));
  });

  it('decodes a model with external data and names its files, as the decode does', async () => {
    const sub = join(dir, 'external');
    mkdirSync(join(sub, 'weights'), { recursive: true });
    const path = join(sub, 'model.onnx');
    saveModel(tinyBert(), path, { externalData: true, dataFile: 'weights/model.data', externalSizeThreshold: 0 });
    const data = join(sub, 'weights', 'model.data');
    expect(withDecodes(path)).toEqual({ files: [data], decoded: true });
    expect(decodedExternalFiles(path)).toEqual([data]);
    const own = await sha256File(path);
    expect(await modelSha256(path)).toBe(sha256Bytes([Buffer.from(JSON.stringify([own, await sha256File(data)]))]));
    expect(modelSha256Sync(path)).toBe(await modelSha256(path));
    // its stamps: the .onnx's and its external data's (none while just written: see fileStamps)
    expect(modelStamps(path)).toBeUndefined();
    const decode = vi.spyOn(onnx.ModelProto, 'decode');
    try {
      expect(await modelSha256AndStamps(path)).toEqual({ sha256: await modelSha256(path), stamps: undefined });
      expect(decode).toHaveBeenCalledTimes(2); // (once for the stamps and the hash together, once for modelSha256 alone)
    } finally {
      decode.mockRestore();
    }
    const later = Date.now() + 10_000;
    expect(fileStamps([path, ...externalDataFiles(path)], later)!.map((s) => s.file)).toEqual([path, data]);
  });

  it('is not misled by weights and names that hold the bytes of an external data entry', () => {
    const model = tinyBert();
    const weight = [...model.graph.initializers.values()].find((t) => t.data.byteLength >= 64)!;
    // a serialized external_data entry {key: 'location', value: 'x.data'} (field 13) inside a weight's bytes
    weight.data.set(Buffer.from([0x6a, 0x12, 0x0a, 0x08, ...Buffer.from('location'), 0x12, 0x06, ...Buffer.from('x.data')]), 16);
    weight.docString = 'location';
    const path = join(dir, 'location-in-weights.onnx');
    saveModel(model, path, { externalData: false });
    expect(readFileSync(path).includes('location')).toBe(true);
    expect(withDecodes(path).files).toEqual([]);
    expect(decodedExternalFiles(path)).toEqual([]);
  });

  it('finds what the decode finds in every fixture model, and in files that are not models', () => {
    const garbage = join(dir, 'garbage.onnx');
    writeFileSync(garbage, Buffer.concat([Buffer.from([0x3a, 0x7f]), Buffer.from('location'.repeat(20))]));
    const empty = join(dir, 'empty.onnx');
    writeFileSync(empty, '');
    const fixtures = [FIXTURES, 'fixtures']
      .filter((d) => existsSync(d))
      .flatMap((d) =>
        readdirSync(d, { recursive: true, encoding: 'utf8' })
          .filter((f) => f.endsWith('.onnx'))
          .map((f) => join(d, f)),
      );
    expect(fixtures.length).toBeGreaterThan(0);
    for (const path of [...fixtures, garbage, empty]) expect(externalDataFiles(path), path).toEqual(decodedExternalFiles(path));
  });

  it("names the external data of a Constant node's value and of a subgraph's initializer, which loading reads too", async () => {
    const sub = join(dir, 'attribute');
    const path = writeExternalAttributeModel(sub);
    const read: string[] = [];
    loadModel(path, { onExternalFile: (f) => read.push(f) });
    const files = [join(sub, 'branch.bin'), join(sub, 'constant.bin')];
    expect(read.sort()).toEqual(files);
    expect(externalDataFiles(path)).toEqual(files);
    const before = await modelSha256(path);
    writeFileSync(join(sub, 'constant.bin'), Buffer.alloc(statSync(join(sub, 'constant.bin')).size));
    expect(await modelSha256(path)).not.toBe(before);
  });
});

/** A tiny model saved with its weights in `w.bin`, each tensor's location then rewritten by `location` (by its index). */
function withLocations(dir: string, location: (written: string, i: number) => string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'model.onnx');
  saveModel(tinyBert({ numLabels: 2 }, { seed: 1 }), path, { externalData: true, dataFile: 'w.bin', externalSizeThreshold: 0 });
  const m = onnx.ModelProto.decode(readFileSync(path));
  let i = 0;
  for (const t of m.graph!.initializer!) for (const e of t.externalData ?? []) if (e.key === 'location') e.value = location(e.value!, i++);
  writeFileSync(path, onnx.ModelProto.encode(m).finish());
  return path;
}

describe('external data locations written two ways, or leaving the folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'identity-'));

  it("names 'w.bin' and './w.bin' once: the model's identity, stamps and file bytes count the file once", async () => {
    const path = withLocations(join(dir, 'dot'), (l, i) => (i % 2 ? `./${l}` : l));
    const data = join(dir, 'dot', 'w.bin');
    expect(externalDataFiles(path)).toEqual([data]);
    expect(await modelSha256(path)).toBe(sha256Bytes([Buffer.from(JSON.stringify([await sha256File(path), await sha256File(data)]))]));
    expect(fileStamps([path, ...externalDataFiles(path)], Date.now() + 10_000)!.map((s) => s.file)).toEqual([path, data]);
    expect(loadModel(path).graph.initializers.size).toBeGreaterThan(0);
  });

  it("refuses a location outside the model's folder as loading does, rather than hashing and listing the file", async () => {
    const up = join(dir, 'up');
    const path = withLocations(join(up, 'model'), (l) => `../weights/${l}`);
    mkdirSync(join(up, 'weights'));
    renameSync(join(up, 'model', 'w.bin'), join(up, 'weights', 'w.bin'));
    const refusal = `${path}: tensor 'bert.embeddings.word_embeddings.weight': external data location '../weights/w.bin' leaves the model's folder`;
    expect(() => loadModel(path)).toThrow(refusal);
    expect(() => externalDataFiles(path)).toThrow(refusal);
    await expect(modelSha256(path)).rejects.toThrow(refusal);
    expect(modelStamps(path)).toBeUndefined();
    await expect(modelSha256AndStamps(path)).rejects.toThrow(refusal);
  });

  it('refuses a data file that is a symbolic link leading outside the folder, as loading does', () => {
    const linked = join(dir, 'linked');
    const path = withLocations(join(linked, 'model'), (l) => l);
    renameSync(join(linked, 'model', 'w.bin'), join(linked, 'w.bin'));
    symlinkSync(join(linked, 'w.bin'), join(linked, 'model', 'w.bin'));
    const refusal = `external data location 'w.bin' leads outside the model's folder (to ${join(realpathSync(linked), 'w.bin')}) through a symbolic link`;
    expect(() => loadModel(path)).toThrow(refusal);
    expect(() => externalDataFiles(path)).toThrow(refusal);
  });
});
