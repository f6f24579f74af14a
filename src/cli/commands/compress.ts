/**
 * `compress MODEL [pass flags] -o OUT`: turns pass flags into pipeline steps (in the order they were given, so
 * passes compose in any order) and calls the library's `compressFile`. The pass flags come from the passes'
 * declarations (see ../pass-flags.ts).
 */
import type { Argv } from 'yargs';
import { counted, groupedDigits, UsageError } from '../../errors.ts';
import { MAX_LENGTH_RANGE } from '../../eval/graph-checks.ts';
import { integerFlags } from '../flag-values.ts';
import { compressFile, loadInput } from '../../export/compress.ts';
import { compressToTransformersJs } from '../../export/transformers-js.ts';
import { locateModel } from '../../onnx/locate.ts';
import { floatFolderFile } from '../../eval/model-files.ts';
import { registerAllPasses } from '../../passes.ts';
import { shareAfterRatioWarning } from '../../pass/pipeline.ts';
import { checkCalibrationSettings, DEFAULT_CALIBRATION_EXAMPLES, loadCalibration } from '../../eval/calibration.ts';
import { checkCalibrationFlag, passFlagList, stepsFromFlags, withPassFlags } from '../pass-flags.ts';
import { readsCalibrationLabels } from '../../pass-declarations.ts';
import {
  COMPRESS_MAX_LENGTH_FLAG,
  FORCE_FLAG,
  checkModelOutputFlags,
  commandLineCheck,
  missingFlag,
  out,
  err,
  tokenizerFlag,
  type CliCommand,
} from '../command.ts';
import { checkTokenizerRef, localModel } from '../model-ref.ts';
import { cpuInfo } from '../../bench/machine.ts';
import { reduceRangeNote } from '../reduce-range-note.ts';
import { THREADS_RANGE } from '../../runtime/threads.ts';
import { formatMB, percent } from '../../units.ts';
import { shellWord } from '../../shell-word.ts';

interface CompressArgs {
  model: string;
  output?: string;
  calibrate?: string;
  'calibration-examples'?: number;
  'glue-dir'?: string;
  tokenizer?: string;
  'max-length'?: number;
  'external-data'?: boolean;
  threads?: number;
  format?: 'onnx' | 'transformers.js';
  json?: boolean;
  force?: boolean;
  /** The pass flags (see withPassFlags). */
  [passFlag: string]: unknown;
}

export const compressCommand: CliCommand<CompressArgs> = {
  command: '$0 <model>',
  describe: 'Compress MODEL with the passes given as flags (applied in the order given) and write OUT',
  builder: (y: Argv) =>
    withPassFlags(integerFlags(y, { 'calibration-examples': { min: 1 }, 'max-length': MAX_LENGTH_RANGE, threads: THREADS_RANGE }))
      .positional('model', { type: 'string', demandOption: true, describe: 'input ONNX model or model folder, or hf:org/name[@revision] from the hub' })
      .option('output', {
        alias: 'o',
        type: 'string',
        describe:
          "output ONNX file (a lineage sidecar OUT.json is written beside it, the input's config.json with this model's shape, and the input folder's tokenizer files where OUT's folder has none); with --format transformers.js the folder to write",
      })
      .option('calibrate', {
        type: 'string',
        describe: 'GLUE task whose train data calibrates the passes that measure the model (importance, sensitivity); changes no setting',
      })
      .option('calibration-examples', {
        type: 'number',
        describe: `calibration examples (train split, from its start; default ${DEFAULT_CALIBRATION_EXAMPLES})`,
      })
      .option('glue-dir', { type: 'string', describe: 'GLUE data folder for calibration (default $GLUE_DIR or ../shared/glue)' })
      .option('tokenizer', tokenizerFlag("for calibration and for --format transformers.js (default: the model's folder)"))
      .option('max-length', COMPRESS_MAX_LENGTH_FLAG)
      .option('external-data', { type: 'boolean', default: false, describe: 'store weights in OUT.data' })
      .option('threads', {
        type: 'number',
        describe:
          'onnxruntime intra-op threads of the runs that measure the model (importance, sensitivity, ranges) and check it (default and 0: one per physical core)',
      })
      .option('format', {
        choices: ['onnx', 'transformers.js'] as const,
        default: 'onnx' as const,
        describe: 'onnx: OUT is an .onnx file; transformers.js: OUT is a folder @huggingface/transformers loads (config, tokenizer, onnx/model*.onnx)',
      })
      .option('force', FORCE_FLAG)
      .option('json', { type: 'boolean', default: false, describe: 'print the lineage record as JSON' }) as unknown as Argv<CompressArgs>,
  run: async (args) => {
    registerAllPasses();
    checkTokenizerRef(args.tokenizer);
    const steps = commandLineCheck(() => stepsFromFlags(process.argv.slice(2), args));
    if (!steps.length) {
      // (a model written as a transformers.js folder without a pass is compress export's job)
      const asIs =
        args.format === 'transformers.js'
          ? `; to write the model as it is: compress export ${shellWord(args.model)} --format transformers.js -o ${args.output ? shellWord(args.output) : 'DIR'}`
          : '';
      throw new UsageError(`no pass given: use ${passFlagList()} (see --help, or compress passes)${asIs}`);
    }
    if (!args.output) throw missingFlag('-o/--output', 'where to write the compressed model');
    checkModelOutputFlags(args.output, args.format, args.force);
    commandLineCheck(() => checkCalibrationFlag(steps, args.calibrate)); // (its pass settings checked too)
    // (an .onnx output gets the input folder's tokenizer files, not --tokenizer's: given without a use, it went unread)
    if (args.tokenizer !== undefined && args.calibrate === undefined && args.format !== 'transformers.js')
      throw new UsageError(
        `--tokenizer ${args.tokenizer}: read for --calibrate and --format transformers.js, and this run has neither (an .onnx output gets its input folder's tokenizer files): drop it, or put the tokenizer beside the input model`,
      );
    // (calibration's data flags, read by --calibrate alone: given without it, they went unread)
    const unread = (['calibration-examples', 'glue-dir', 'max-length'] as const).find((flag) => args[flag] !== undefined);
    if (unread !== undefined && args.calibrate === undefined)
      throw new UsageError(`--${unread} ${args[unread]}: read for --calibrate alone (its calibration data), and this run has none: drop it`);
    // (the task, the number of examples and the length, checked before any file is read: a usage mistake)
    if (args.calibrate !== undefined)
      commandLineCheck(() => checkCalibrationSettings({ task: args.calibrate!, examples: args['calibration-examples'], maxLength: args['max-length'] }));
    const model = await localModel(args.model); // hf:org/name[@revision] too
    const located = locateModel(model);
    const input = located.onnx;
    // (a transformers.js folder: its float onnx/model.onnx, whichever dtype its config.json names, said as eval says its file)
    const read = floatFolderFile(model, input);
    if (read && !args.json) out(`read ${input} ${read}`);
    const loaded = loadInput(input); // read once: calibration checks the graph, the passes run on it
    // (share-layers after prune-heads by ratio that no choice of the ratio's leaves even: refused before the calibration
    // data is read; where only some choices do, said before the pruning, an ablation of hours, runs)
    const uneven = shareAfterRatioWarning(loaded.model, steps);
    if (uneven) err(`warning: ${uneven}`);
    const calibration = args.calibrate
      ? await loadCalibration({
          graph: loaded.model,
          model,
          task: args.calibrate,
          examples: args['calibration-examples'],
          glueDir: args['glue-dir'],
          tokenizer: args.tokenizer,
          maxLength: args['max-length'],
        })
      : undefined;
    // (said where a pass reads the labels: int8-static ranges and a loss against the model's own predictions do not)
    if (calibration?.labelsNote && readsCalibrationLabels(steps)) err(`warning: --calibrate ${calibration.labelsNote}`);
    const used = calibration?.provenance;
    if (used && used.examples < used.requested) {
      // (the flag named as given, or its default said as one: a user who never wrote the flag is not quoted)
      const asked =
        args['calibration-examples'] === undefined ? `the default ${used.requested} calibration examples` : `--calibration-examples ${used.requested}`;
      err(`warning: ${asked}: ${used.task}'s train split has ${counted(used.examples, 'labelled example')}; calibrating on those`);
    }
    const log = args.json || !process.stderr.isTTY ? undefined : (line: string) => err(line);
    const options = {
      input,
      output: args.output,
      steps,
      context: { calibration, log, threads: args.threads },
      externalData: args['external-data'],
      modelDir: located.dir,
      loaded,
    };
    const folder =
      args.format === 'transformers.js'
        ? await compressToTransformersJs({ ...options, ...(args.tokenizer ? { tokenizerDir: args.tokenizer } : {}) })
        : undefined;
    const file = folder ? undefined : await compressFile({ ...options, force: args.force });
    const lineage = folder ? folder.lineage : file!;
    if (args.json) {
      out(JSON.stringify(folder ?? lineage, null, 2));
      return 0;
    }
    for (const p of lineage.passes) out(`${p.report.pass}: ${p.report.summary}`);
    out(
      `params ${groupedDigits(lineage.before.params)} → ${groupedDigits(lineage.after.params)}, weights ${formatMB(lineage.before.bytes)} → ${formatMB(lineage.after.bytes)} (${percent(lineage.after.bytes / lineage.before.bytes)})`,
    );
    out(`check: onnxruntime runs it; max |output drift| ${lineage.check.drift.map((d) => `${d.output} ${d.maxAbsDiff.toExponential(2)}`).join(', ')}`);
    const config = lineage.config;
    const beside = [
      ...(config?.written && !folder ? ["config.json with this model's shape"] : []),
      ...(file?.copiedFiles.length ? [`from the input's folder: ${file.copiedFiles.join(', ')}`] : []),
    ];
    const copied = beside.length ? ` (and beside them: ${beside.join('; ')})` : '';
    out(
      folder
        ? `wrote ${folder.folder}: ${folder.files.join(', ')}`
        : `wrote ${lineage.output.path}${lineage.output.dataFile ? `, its weights ${lineage.output.dataFile}` : ''} and ${lineage.output.path}.json${copied}`,
    );
    // (a note, as the end-of-run lines below: stdout holds what was done)
    if (config?.graphOnly.length) err(`note: ${config.path} cannot say (the graph does): ${config.graphOnly.join('; ')}`);
    for (const line of folder?.notes ?? []) err(line);
    if (config?.stale?.length)
      err(
        config.of
          ? `warning: ${config.path} was written for ${config.of} beside it and still describes it (${config.stale.join(', ')}); write into another folder for a config.json of this model, or pass --force to write it over`
          : `warning: ${config.path} is the input's and still describes it (${config.stale.join(', ')}); write into another folder for a config.json of this model`,
      );
    const note = reduceRangeNote(steps, cpuInfo().flags);
    if (note) err(note);
    return 0;
  },
};
