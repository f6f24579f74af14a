/**
 * `compress export HF_FOLDER -o OUT.onnx`: a Hugging Face safetensors BERT to an ONNX model folder, no Python. With
 * `--format transformers.js`, an ONNX model (an .onnx file, a model folder, a transformers.js folder: its float
 * onnx/model.onnx) is written as a transformers.js folder as it is (compressToTransformersJs with no passes).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { exportHuggingFaceFolder } from '../../export/from-huggingface.ts';
import { compressToTransformersJs, exportToTransformersJs } from '../../export/transformers-js.ts';
import { loadInput } from '../../export/compress.ts';
import { floatFolderFile } from '../../eval/model-files.ts';
import { locateModel } from '../../onnx/locate.ts';
import { counted, groupedDigits, SettingsError, UsageError } from '../../errors.ts';
import { integerFlags } from '../flag-values.ts';
import { FORCE_FLAG, checkModelOutputFlags, err, missingFlag, out, tokenizerFlag, type CliCommand } from '../command.ts';
import { checkTokenizerRef, localCheckpoint } from '../model-ref.ts';

interface ExportArgs {
  folder: string;
  output?: string;
  'seed-missing'?: number;
  format?: 'onnx' | 'transformers.js';
  force?: boolean;
  tokenizer?: string;
}

export const exportCommand: CliCommand<ExportArgs> = {
  command: 'export <folder>',
  describe:
    'Export a Hugging Face folder (config.json + model.safetensors: BERT, DistilBERT, RoBERTa/XLM-R/CamemBERT, ELECTRA, ALBERT) to ONNX, tokenizer and config beside it',
  builder: (y: Argv) =>
    integerFlags(y, { 'seed-missing': { min: 0 } })
      .positional('folder', {
        type: 'string',
        demandOption: true,
        describe:
          'Hugging Face model folder, or hf:org/name[@revision] (downloaded first); with --format transformers.js also an ONNX model (.onnx file or model folder, a transformers.js folder: its onnx/model.onnx), written as it is',
      })
      .option('output', { alias: 'o', type: 'string', describe: 'output .onnx file; with --format transformers.js the folder to write' })
      .option('seed-missing', {
        type: 'number',
        describe: 'seed random weights for every parameter the checkpoint lacks (default: only a missing classification head, seed 0, as transformers does)',
      })
      .option('format', {
        choices: ['onnx', 'transformers.js'] as const,
        default: 'onnx' as const,
        describe: 'onnx: OUT is an .onnx file; transformers.js: OUT is a folder @huggingface/transformers loads (config, tokenizer, onnx/model.onnx)',
      })
      .option('tokenizer', tokenizerFlag("for --format transformers.js, where the model's folder has none (default: the model's folder)"))
      .option('force', FORCE_FLAG) as unknown as Argv<ExportArgs>,
  run: async (args) => {
    if (!args.output) throw missingFlag('-o/--output', 'where to write the ONNX model');
    checkTokenizerRef(args.tokenizer);
    checkModelOutputFlags(args.output, args.format, args.force);
    const seed = args['seed-missing'];
    if (args.format === 'transformers.js') {
      const source = await localCheckpoint(args.folder);
      const onnx = isCheckpoint(source) ? undefined : locateModel(source);
      if (onnx && seed !== undefined) throw new SettingsError(`--seed-missing: ${args.folder} is an ONNX model, not a checkpoint whose parameters it seeds`);
      const read = onnx && floatFolderFile(source, onnx.onnx);
      if (read) out(`read ${onnx.onnx} ${read}`);
      const tokenizer = args.tokenizer !== undefined ? { tokenizerDir: args.tokenizer } : {};
      const folder = onnx
        ? await compressToTransformersJs({ input: onnx.onnx, output: args.output, steps: [], modelDir: onnx.dir, loaded: loadInput(onnx.onnx), ...tokenizer })
        : await exportToTransformersJs(source, args.output, { seedMissing: args['seed-missing'], log: err, label: args.folder, ...tokenizer });
      out(`wrote ${folder.folder}: ${folder.files.join(', ')}`);
      for (const line of folder.notes) err(line);
      return 0;
    }
    if (args.tokenizer !== undefined)
      throw new UsageError(
        `--tokenizer: applies to --format transformers.js; an ONNX export copies the checkpoint folder's tokenizer files beside it (put the tokenizer's files there)`,
      );
    const r = await exportHuggingFaceFolder(await localCheckpoint(args.folder), args.output, {
      seedMissing: args['seed-missing'],
      log: err,
      label: args.folder,
      force: args.force,
    });
    out(
      `wrote ${r.saved.model}: ${counted(r.numLayers, 'layer')}, hidden ${r.hiddenSize}, ${groupedDigits(r.size.params)} parameters${r.wroteConfig ? `; wrote config.json ${r.seeded.length ? 'naming its seeded classifier' : 'naming the dtype the graph holds (float32)'}` : ''}${r.copied.length ? `; copied ${r.copied.join(', ')}` : ''}`,
    );
    return 0;
  },
};

/** Whether `path` is a safetensors checkpoint folder (model.safetensors or its index), which an export builds from. */
function isCheckpoint(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory() && ['model.safetensors', 'model.safetensors.index.json'].some((f) => existsSync(join(path, f)));
}
