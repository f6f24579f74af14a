/** openModelSession: an in-memory model past the inline limit (protobuf's 2 GiB) opens from external data, leaving nothing on disk. */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { encodeModel } from '../../src/onnx/save.ts';
import { openModelSession } from '../../src/runtime/model-session.ts';
import type { Session } from '../../src/runtime/session.ts';
import { ownTmpdir } from '../helpers/own-tmpdir.ts';
import { batchFeeds, paddedBatch, tinyBert, tinyBertConfig } from '../helpers/models.ts';

describe('openModelSession', () => {
  const tmp = ownTmpdir('model-session-test-');

  /** Others write into the temporary folder too (onnxruntime's own files): only the session's folders are ours. */
  const sessionFolders = () => readdirSync(tmp()).filter((f) => f.startsWith('bert-compress-session-'));

  async function logits(s: Session): Promise<number[]> {
    try {
      const out = await s.run(batchFeeds(paddedBatch([5, 3], tinyBertConfig().vocabSize)));
      return [...(out[s.outputNames[0]!]!.data as Float32Array)];
    } finally {
      await s.release();
    }
  }

  it('opens a model past the inline limit from an external data file, with the same outputs, and removes the file', async () => {
    const model = tinyBert();
    let inlineParts: readonly Uint8Array[] = [];
    const inline = await logits(await openModelSession(model, { threads: 1, onSerialized: (p) => (inlineParts = p) }));
    expect(inlineParts).toEqual([encodeModel(model)]); // the bytes a teacher's cache key hashed before
    let externalParts: readonly Uint8Array[] = [];
    const external = await logits(await openModelSession(model, { threads: 1, inlineLimit: 0, onSerialized: (p) => (externalParts = p) }));
    expect(external).toEqual(inline);
    expect(externalParts.length).toBeGreaterThan(1); // the model naming its data, then the data file's pieces
    expect(externalParts[0]!.byteLength).toBeLessThan(inlineParts[0]!.byteLength); // its weights are not in it
    expect(sessionFolders()).toEqual([]);
  });

  it('opens a model in place (its weights as in-memory external data): the same outputs, no serialized copy, no file', async () => {
    const model = tinyBert();
    const inline = await logits(await openModelSession(model, { threads: 1 }));
    for (const inlineLimit of [undefined, 0]) {
      let parts: readonly Uint8Array[] = [];
      const inPlace = await logits(await openModelSession(model, { threads: 1, inPlace: true, inlineLimit, onSerialized: (p) => (parts = p) }));
      expect(inPlace).toEqual(inline);
      // the ModelProto without the weights, then each large initializer's own bytes (the same arrays, not copies)
      expect(parts[0]!.byteLength).toBeLessThan(encodeModel(model).byteLength / 2);
      const large = [...model.graph.initializers.values()].filter((t) => t.data.byteLength >= 1024).map((t) => t.data);
      expect(parts.slice(1)).toHaveLength(large.length);
      parts.slice(1).forEach((d, i) => expect(d).toBe(large[i]));
      expect(sessionFolders()).toEqual([]);
    }
  });

  it('removes the temporary folder when onnxruntime refuses the model', async () => {
    const model = tinyBert();
    model.graph.nodes[0] = { ...model.graph.nodes[0]!, opType: 'NoSuchOp' };
    // named as a model handed over in memory is, not by the temporary copy, which the caller never sees
    await expect(openModelSession(model, { threads: 1, inlineLimit: 0 })).rejects.toThrow(/^model bytes: onnxruntime cannot load the model: /);
    await expect(openModelSession(model, { threads: 1, inlineLimit: 0 })).rejects.not.toThrow(/bert-compress-session-/);
    expect(sessionFolders()).toEqual([]);
  });

  it.each([
    ['missing', () => join(tmp(), 'missing'), /no such file or folder/],
    [
      'a file',
      () => {
        const file = join(tmp(), 'a-file');
        writeFileSync(file, '');
        return file;
      },
      /a part of the path is not a folder/,
    ],
  ])('refuses in one line naming the folder and TMPDIR when the temporary folder is %s, leaving nothing behind', async (_, folder, reason) => {
    const given = folder();
    process.env.TMPDIR = given;
    const before = readdirSync(tmp());
    const err = await openModelSession(tinyBert(), { threads: 1, inlineLimit: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    const message = (err as Error).message;
    expect(message).toContain(`a temporary folder in '${given}'`);
    expect(message).toMatch(reason);
    expect(message).toMatch(/set TMPDIR to a writable folder/);
    expect(message).not.toContain('\n');
    expect(readdirSync(tmp())).toEqual(before);
  });
});
