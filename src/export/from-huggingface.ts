/**
 * Exporting a Hugging Face folder (config.json + model.safetensors + tokenizer files) to an ONNX model folder
 * without Python: the graph torch's exporter would write for the model_type's ForSequenceClassification (BERT,
 * DistilBERT, RoBERTa / XLM-R, ELECTRA, ALBERT), checked by onnxruntime, written atomically with the tokenizer and
 * config beside it.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildFromHuggingFaceFolder } from '../bert/build-hf.ts';
import { findBert } from '../bert/discover.ts';
import type { SavedFiles } from '../onnx/save.ts';
import { modelSize, type ModelSize } from '../onnx/size.ts';
import { copyModelSideFiles, saveRunnable } from './compress.ts';

export interface ExportResult {
  saved: SavedFiles;
  size: ModelSize;
  copied: string[];
  numLayers: number;
  hiddenSize: number;
}

export async function exportHuggingFaceFolder(dir: string, output: string, opts: { seedMissing?: number } = {}): Promise<ExportResult> {
  const model = buildFromHuggingFaceFolder(dir, opts.seedMissing !== undefined ? { fillMissing: { seed: opts.seedMissing } } : {});
  const s = findBert(model);
  const saved = await saveRunnable(
    model,
    s,
    output,
    readdirSync(dir).map((f) => join(dir, f)),
  );
  return { saved, size: modelSize(model), copied: copyModelSideFiles(dir, dirname(output)), numLayers: s.numLayers, hiddenSize: s.hiddenSize };
}
