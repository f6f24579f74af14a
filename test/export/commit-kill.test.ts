/**
 * `compress` puts its staged files in place by renames: the data file, the model, then its lineage. Killed after the
 * model's rename (modelled by the lineage's rename failing, as a kill there leaves the folder), an earlier output's
 * lineage must not stay beside the new model, describing another model (another input, passes and sha256).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { compressFile } from '../../src/export/compress.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { writeTinyBert } from '../helpers/models.ts';

const killAtLineage = vi.hoisted(() => ({ on: false }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const renameSync: typeof fs.renameSync = (from, to) => {
    // (the staged lineage's rename out of the staging folder, not its write into it)
    if (killAtLineage.on && String(to).endsWith('.onnx.json') && String(from).includes('/.compress-') && !String(to).includes('/.compress-'))
      throw new Error('killed after the model was put in place');
    return fs.renameSync(from, to);
  };
  return { ...fs, renameSync, default: { ...fs, renameSync } };
});

registerAllPasses();
const tiny = writeTinyBert({ numLayers: 1 }, { std: 0.2 });
afterAll(() => {
  killAtLineage.on = false;
  tiny.cleanup();
});
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

describe('compress killed between putting the model and its lineage in place', () => {
  it('leaves no lineage of the earlier output beside the new model', async () => {
    const output = join(tiny.dir, 'out', 'model.onnx');
    await compressFile({ input: tiny.path, output, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.25 } }] });
    const before = sha(output);
    killAtLineage.on = true;
    await expect(compressFile({ input: tiny.path, output, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] })).rejects.toThrow(
      'killed after the model was put in place',
    );
    killAtLineage.on = false;
    expect(sha(output), 'the new model is in place').not.toBe(before);
    const lineage = `${output}.json`;
    if (existsSync(lineage)) expect((JSON.parse(readFileSync(lineage, 'utf8')) as { output: { sha256: string } }).output.sha256).toBe(sha(output));
  });
});
