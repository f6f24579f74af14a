/**
 * `compress eval MODEL --task SST-2 | --tasks all`: parses flags into EvalOptions, calls the library's `evaluate`,
 * and prints the per-task table (or the JSON report with --json). Evaluation logic lives in src/eval.
 */
import type { Argv } from 'yargs';
import { checkOutputFile, checkOutputFolder } from '../../destination.ts';
import { evaluate, type EvalSplit } from '../../eval/evaluate.ts';
import { createProgressBar } from '../../eval/progress.ts';
import { describeDtype } from '../../eval/model-files.ts';
import { formatTable, reportJson, toReport, writeReport } from '../../eval/report.ts';
import { out, outText, err, type CliCommand } from '../command.ts';
import { localModel } from '../model-ref.ts';

export interface EvalArgs {
  model: string;
  tasks?: string[];
  split: EvalSplit;
  'glue-dir'?: string;
  tokenizer?: string;
  'batch-size'?: number;
  'max-length'?: number;
  threads?: number;
  json?: boolean;
  out?: string;
  submission?: string;
  'include-wnli'?: boolean;
  dtype?: string;
}

export const evalCommand: CliCommand<EvalArgs> = {
  command: 'eval <model>',
  describe: 'Evaluate MODEL (an .onnx file or Hugging Face model folder) on GLUE tasks',
  builder: (y: Argv) =>
    y
      .positional('model', { type: 'string', demandOption: true, describe: '.onnx file, model folder or hf:org/name[@revision]' })
      .option('tasks', {
        alias: 'task',
        type: 'string',
        array: true,
        describe: "GLUE task(s): CoLA, SST-2, MRPC, STS-B, QQP, MNLI (-m/-mm), QNLI, RTE, WNLI, AX, or 'all'; comma-separated or repeated",
      })
      .option('split', { type: 'string', choices: ['dev', 'test'], default: 'dev', describe: 'dev (scored) or test (predictions only)' })
      .option('glue-dir', { type: 'string', describe: 'GLUE data folder (default $GLUE_DIR, else ../shared/glue)' })
      .option('tokenizer', { type: 'string', describe: "tokenizer folder: tokenizer.json or vocab.txt (default: the model's folder)" })
      .option('batch-size', { type: 'number', default: 32, describe: 'examples per batch' })
      .option('max-length', {
        type: 'number',
        describe: "maximum tokens per example (default: config.json's max_length, else 128 or the tokenizer's smaller model_max_length)",
      })
      .option('threads', { type: 'number', describe: 'onnxruntime intra-op threads (default: one per physical core)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON instead of a table' })
      .option('out', { type: 'string', describe: 'also write the JSON result to this file' })
      .option('submission', { type: 'string', describe: 'with --split test: write GLUE server submission files to this folder' })
      .option('dtype', {
        type: 'string',
        describe:
          "a transformers.js folder's model file by dtype: fp32 (onnx/model.onnx), q8 (onnx/model_quantized.onnx), q4 (onnx/model_q4.onnx)… (default: config.json's transformers.js_config dtype, as transformers.js loads it)",
      })
      .option('include-wnli', {
        type: 'boolean',
        default: true,
        describe: 'count WNLI in the GLUE score (--no-include-wnli to leave it out)',
      }) as unknown as Argv<EvalArgs>,
  run: async (args) => {
    if (args.out) checkOutputFile(args.out, `--out ${args.out}`);
    if (args.submission && args.split === 'test') checkOutputFolder(args.submission, `--submission ${args.submission}`);
    const model = await localModel(args.model);
    const progress = createProgressBar(process.stderr);
    let result;
    try {
      result = await evaluate({
        model,
        tasks: args.tasks ?? [],
        split: args.split ?? 'dev',
        glueDir: args['glue-dir'],
        tokenizer: args.tokenizer,
        batchSize: args['batch-size'],
        maxLength: args['max-length'],
        threads: args.threads,
        includeWnli: args['include-wnli'] ?? true,
        submissionDir: args.submission,
        ...(args.dtype !== undefined ? { dtype: args.dtype } : {}),
        onProgress: progress?.listener,
      });
    } finally {
      progress?.stop();
    }
    // A folder may hold several models (a transformers.js folder: onnx/model.onnx and its quantized twins): say which.
    if (result.model !== model && !args.json) err(`evaluated ${result.model}${describeDtype(result)}`);
    const report = toReport(result);
    if (args.out) writeReport(args.out, report);
    if (args.json) outText(reportJson(report));
    else for (const line of formatTable(result)) out(line);
    if (args.out && !args.json) err(`wrote ${args.out}`);
    return 0;
  },
};
