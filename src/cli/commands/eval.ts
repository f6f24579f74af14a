/**
 * `compress eval MODEL --task SST-2 | --tasks all`: parses flags into EvalOptions, calls the library's `evaluate`,
 * and prints the per-task table (or the JSON report with --json). Evaluation logic lives in src/eval.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import type { Argv } from 'yargs';
import { checkOutputFile, checkOutputFolder, checkOutputKinds } from '../../destination.ts';
import { UsageError } from '../../errors.ts';
import { MAX_LENGTH_RANGE } from '../../eval/graph-checks.ts';
import { THREADS_HELP, THREADS_RANGE } from '../../runtime/threads.ts';
import { integerFlags } from '../flag-values.ts';
import { inputFiles, realPathOf } from '../../export/destination.ts';
import { glueDirOf } from '../../glue/glue-dir.ts';
import { splitFile } from '../../glue/dataset.ts';
import { externalDataFiles } from '../../onnx/identity.ts';
import { checkNamedTaskData, evaluate, evalSettings, type EvalSplit } from '../../eval/evaluate.ts';
import { isHubRef } from '../../hub/ref.ts';
import { submissionFile } from '../../eval/submission.ts';
import type { TaskDefinition } from '../../glue/tasks.ts';
import { NO_TASK_GIVEN, taskNameList } from '../../glue/registry.ts';
import { createProgressBar } from '../../eval/progress.ts';
import { TOKENIZER_FILES, checkDtypeName, describeDtype, locateRunModel } from '../../eval/model-files.ts';
import { formatTable, reportJson, toReport, writeReport } from '../../eval/report.ts';
import { MAX_LENGTH_FLAG, checkFolderFlags, commandLineCheck, out, outText, err, tokenizerFlag, type CliCommand } from '../command.ts';
import { checkTokenizerRef, localModel } from '../model-ref.ts';

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
  'exact-int8'?: boolean;
}

/** The refusal of `--split test` without `--submission`: a run that would compute the predictions and write them nowhere. */
export const TEST_WITHOUT_SUBMISSION =
  '--split test predicts the unlabelled test examples, which only --submission DIR writes (GLUE server files; there is nothing to score): add --submission DIR';

export const evalCommand: CliCommand<EvalArgs> = {
  command: 'eval <model>',
  describe: 'Evaluate MODEL (an .onnx file or Hugging Face model folder) on GLUE tasks',
  builder: (y: Argv) =>
    integerFlags(y, { 'batch-size': { min: 1 }, 'max-length': MAX_LENGTH_RANGE, threads: THREADS_RANGE })
      .positional('model', { type: 'string', demandOption: true, describe: '.onnx file, model folder or hf:org/name[@revision]' })
      .option('tasks', {
        alias: 'task',
        type: 'string',
        array: true,
        describe: "GLUE task(s): CoLA, SST-2, MRPC, STS-B, QQP, MNLI (-m/-mm), QNLI, RTE, WNLI, AX, or 'all'; comma-separated or repeated",
      })
      .option('split', {
        type: 'string',
        choices: ['dev', 'test'],
        default: 'dev',
        describe: 'dev (scored) or test (predictions only, written by --submission)',
      })
      .option('glue-dir', { type: 'string', describe: 'GLUE data folder (default $GLUE_DIR, else ../shared/glue)' })
      .option('tokenizer', tokenizerFlag("for the data (default: the model's folder)"))
      .option('batch-size', { type: 'number', default: 32, describe: 'examples per batch' })
      .option('max-length', MAX_LENGTH_FLAG)
      .option('threads', { type: 'number', describe: THREADS_HELP })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON instead of a table' })
      .option('out', { type: 'string', describe: 'also write the JSON result to this file' })
      .option('submission', { type: 'string', describe: 'with --split test: write GLUE server submission files to this folder' })
      .option('dtype', {
        type: 'string',
        describe:
          "a transformers.js folder's model file by dtype: fp32 (onnx/model.onnx), q8 (onnx/model_quantized.onnx), q4 (onnx/model_q4.onnx)… (default, and auto: config.json's transformers.js_config dtype, else fp32, as transformers.js loads it on the CPU)",
      })
      .option('exact-int8', {
        type: 'boolean',
        default: false,
        describe:
          "score int8 models as CPUs with AVX-512 VNNI / AVX-VNNI do: on an x86 CPU without it, whose int8 kernels add products in saturating 16-bit pairs, onnxruntime's x64quantprecision (products added in 32 bits; slower); elsewhere nothing changes",
      })
      .option('include-wnli', {
        type: 'boolean',
        default: true,
        describe: 'count WNLI in the GLUE score (--no-include-wnli to leave it out)',
      }) as unknown as Argv<EvalArgs>,
  run: async (args) => {
    const { tasks = [], split = 'dev', submission, threads } = args;
    checkTokenizerRef(args.tokenizer);
    // (the command line's words for no task; the library's evaluate names its option, tasks)
    if (taskNameList(tasks).length === 0) throw new UsageError(NO_TASK_GIVEN);
    const settings = commandLineCheck(() =>
      evalSettings({ tasks, split, submissionDir: submission, batchSize: args['batch-size'], threads, maxLength: args['max-length'] }),
    );
    // (the test split has no labels: its predictions, which only the submission files hold, are all a run gives)
    if (settings.split === 'test' && submission === undefined) throw new UsageError(TEST_WITHOUT_SUBMISSION);
    if (args.out) commandLineCheck(() => checkOutputKinds([args.out!], `--out ${args.out}`));
    if (args.split === 'test') checkFolderFlags({ '--submission': args.submission });
    if (args.out) checkOutputFile(args.out, `--out ${args.out}`);
    if (args.out && submission !== undefined) checkNotASubmissionFile(args.out, submission, settings.tasks);
    if (args.submission && args.split === 'test') checkOutputFolder(args.submission, `--submission ${args.submission}`);
    checkDtypeName(args.dtype); // (before an hf: model's download)
    // (the GLUE data too: a local model's own refusal comes first, as evaluate reads the model before the data)
    if (isHubRef(args.model)) checkNamedTaskData({ tasks, split: settings.split, glueDir: args['glue-dir'] });
    const model = await localModel(args.model);
    if (args.out) checkNotAnInput(args.out, model, args, settings.tasks, settings.split);
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
        exactInt8: args['exact-int8'] === true,
        submissionDir: args.submission,
        ...(args.dtype !== undefined ? { dtype: args.dtype } : {}),
        onProgress: progress?.listener,
      });
    } finally {
      progress?.stop();
    }
    for (const w of result.warnings ?? []) err(`warning: ${w}`);
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

/**
 * Refuses `--out` when it is, by real path, a submission file `--submission DIR` writes for one of `tasks`
 * (`--out DIR/SST-2.tsv`): the report, written last, would replace the predictions the submission's line says were
 * written.
 */
function checkNotASubmissionFile(out: string, dir: string, tasks: readonly TaskDefinition[]): void {
  const target = realPathOf(out);
  const task = tasks.find((t) => realPathOf(submissionFile(dir, t)) === target);
  if (task) {
    throw new UsageError(
      `--out ${out}: ${out} is the ${task.name} file --submission ${dir} writes (${target}); the report would replace it: give --out another name`,
    );
  }
}

/**
 * Refuses `--out` when it is a file the evaluation reads, by real path: the model (its .onnx file, external data,
 * lineage sidecar, config.json and tokenizer files), the --tokenizer folder's files (a file's and its folder's), a
 * task's GLUE file the evaluation reads (of `tasks`' `split`, under the GLUE folder it reads: --glue-dir, else
 * GLUE_DIR, else ../shared/glue, as glueDirOf reads it; through a link to a folder elsewhere too), or a file of that
 * GLUE folder.
 * The JSON report would replace it. A model that cannot be located, and a GLUE folder that is a file, are left for
 * evaluate to name.
 */
function checkNotAnInput(out: string, model: string, args: EvalArgs, tasks: readonly TaskDefinition[], split: EvalSplit): void {
  const label = `--out ${out}`;
  const target = realPathOf(out);
  const owned = new Set<string>();
  try {
    const { onnx } = locateRunModel(model, args.dtype);
    let external: string[] = [];
    try {
      external = externalDataFiles(onnx);
    } catch {
      // not an ONNX model: evaluate says so
    }
    for (const f of inputFiles(onnx, external)) owned.add(f);
  } catch {
    // no model there: evaluate says so
  }
  if (args.tokenizer !== undefined) {
    const tok = args.tokenizer;
    // (a file given is read with its folder's tokenizer files: the config, merges.txt beside vocab.json, added tokens)
    const isDir = existsSync(tok) && statSync(tok).isDirectory();
    const names = [...(isDir ? [] : [tok]), ...TOKENIZER_FILES.map((f) => join(isDir ? tok : dirname(tok), f))];
    for (const f of names) if (existsSync(f)) owned.add(realPathOf(f));
  }
  if (owned.has(target)) throw new UsageError(`${label}: ${out} is one of the evaluated model's files (${target}); refusing to overwrite it`);
  let glueDir: string;
  try {
    glueDir = glueDirOf(args['glue-dir']);
  } catch {
    return; // (a file: evaluate says so)
  }
  if (!existsSync(target)) return;
  for (const task of tasks) {
    if (!task.splits[split]) continue;
    const { file } = splitFile(task, split, glueDir);
    if (existsSync(file) && realPathOf(file) === target)
      throw new UsageError(`${label}: ${out} is the ${task.name} ${split} file the evaluation reads (${target}); refusing to overwrite it`);
  }
  const glue = realPathOf(glueDir);
  if (target.startsWith(glue + sep)) {
    throw new UsageError(`${label}: ${out} is a file of the GLUE folder ${glue}; refusing to overwrite it`);
  }
}
