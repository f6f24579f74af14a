import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';
import { compressFile } from '../src/export/compress.ts';
import { shareAfterRatioWarning } from '../src/pass/pipeline.ts';
import { registerAllPasses } from '../src/passes.ts';
import { loadModel } from '../src/onnx/index.ts';
import { findBert } from '../src/bert/index.ts';
import { tinyBert } from './helpers/models.ts';
import { writeModelFolder } from './helpers/model-folder.ts';
registerAllPasses();
it('scratch', async () => {
  const work = mkdtempSync(join(tmpdir(), 'read54b-'));
  const input = join(writeModelFolder(join(work, 'in'), tinyBert({ numLayers: 4, numHeads: 4, hiddenSize: 32, intermediateSize: 40 })), 'model.onnx');
  const shared = join(work, 'shared', 'model.onnx');
  await compressFile({ input, output: shared, steps: [{ pass: 'share-layers', settings: { share: 'groups:2' } }] });
  const m = loadModel(shared);
  for (const [r, share, min] of [[0.25, 'all', 0], [0.5, 'all', 0], [0.125, 'all', 0], [0.25, 'groups:2', 0], [0.25, 'all', 3]] as const) {
    const steps = [{ pass: 'prune-heads', settings: { ratio: r, importance: 'magnitude', minHeadsPerLayer: min } }, { pass: 'share-layers', settings: { share } }];
    let w: unknown;
    try { w = shareAfterRatioWarning(m, steps); } catch (e) { w = 'REFUSED ' + (e as Error).message.slice(0, 100); }
    let run: string;
    try { await compressFile({ input: shared, output: join(work, `o${r}${share}${min}`, 'model.onnx'), steps }); run = 'ok'; } catch (e) { run = 'FAIL ' + (e as Error).message.slice(0, 150); }
    console.log(r, share, min, '|', w, '|', run);
  }
}, 120000);
