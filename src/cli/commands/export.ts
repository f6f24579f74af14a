/** `compress export HF_FOLDER -o OUT.onnx`: a Hugging Face safetensors BERT to an ONNX model folder, no Python. */
import type { Argv } from 'yargs';
import { exportHuggingFaceFolder } from '../../export/from-huggingface.ts';
import { exportToTransformersJs } from '../../export/transformers-js.ts';
import { SettingsError } from '../../errors.ts';
import { checkModelOutputName } from '../../export/destination.ts';
import { FORCE_FLAG, checkForceFormat, checkFormatOutput, err, out, type CliCommand } from '../command.ts';
import { localCheckpoint } from '../model-ref.ts';

interface ExportArgs {
  folder: string;
  output?: string;
  'seed-missing'?: number;
  format?: 'onnx' | 'transformers.js';
  force?: boolean;
}

export const exportCommand: CliCommand<ExportArgs> = {
  command: 'export <folder>',
  describe:
    'Export a Hugging Face folder (config.json + model.safetensors: BERT, DistilBERT, RoBERTa/XLM-R/CamemBERT, ELECTRA, ALBERT) to ONNX, tokenizer and config beside it',
  builder: (y: Argv) =>
    y
      .positional('folder', { type: 'string', demandOption: true, describe: 'Hugging Face model folder, or hf:org/name[@revision] (downloaded first)' })
      .option('output', { alias: 'o', type: 'string', describe: 'output .onnx file' })
      .option('seed-missing', {
        type: 'number',
        describe: 'seed random weights for every parameter the checkpoint lacks (default: only a missing classification head, seed 0, as transformers does)',
      })
      .option('format', {
        choices: ['onnx', 'transformers.js'] as const,
        default: 'onnx' as const,
        describe: 'onnx: OUT is an .onnx file; transformers.js: OUT is a folder @huggingface/transformers loads (config, tokenizer, onnx/model.onnx)',
      })
      .option('force', FORCE_FLAG) as unknown as Argv<ExportArgs>,
  run: async (args) => {
    if (!args.output) throw new SettingsError('missing -o/--output: where to write the ONNX model');
    if (args.format !== 'transformers.js') checkModelOutputName(args.output);
    checkForceFormat(args.force, args.format);
    checkFormatOutput(args.output, args.format);
    const seed = args['seed-missing'];
    if (seed !== undefined && !(Number.isSafeInteger(seed) && seed >= 0)) throw new SettingsError(`--seed-missing must be an integer ≥ 0 (got ${seed})`);
    if (args.format === 'transformers.js') {
      const folder = await exportToTransformersJs(await localCheckpoint(args.folder), args.output, {
        seedMissing: args['seed-missing'],
        log: err,
        label: args.folder,
      });
      out(`wrote ${folder.folder}: ${folder.files.join(', ')}`);
      for (const line of folder.notes) err(line);
      return 0;
    }
    const r = await exportHuggingFaceFolder(await localCheckpoint(args.folder), args.output, {
      seedMissing: args['seed-missing'],
      log: err,
      label: args.folder,
      force: args.force,
    });
    out(
      `wrote ${r.saved.model}: ${r.numLayers} layer${r.numLayers === 1 ? '' : 's'}, hidden ${r.hiddenSize}, ${r.size.params.toLocaleString('en')} parameters${r.wroteConfig ? `; wrote config.json ${r.seeded.length ? 'naming its seeded classifier' : 'naming the dtype the graph holds (float32)'}` : ''}${r.copied.length ? `; copied ${r.copied.join(', ')}` : ''}`,
    );
    return 0;
  },
};
