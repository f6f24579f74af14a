/**
 * `compress MODEL [pass flags] -o OUT`: turns pass flags into pipeline steps (in the order they were given, so
 * passes compose in any order) and calls the library's `compressFile`.
 */
import type { Argv } from 'yargs';
import { resolve } from 'node:path';
import { SettingsError } from '../../errors.ts';
import type { PassStep } from '../../pass/pass.ts';
import { compressFile } from '../../export/compress.ts';
import { locateModel } from '../../eval/model-files.ts';
import { registerAllPasses } from '../../passes.ts';
import { loadCalibration } from '../../eval/calibration.ts';
import { HEAD_IMPORTANCE } from '../../prune/head-importance.ts';
import { out, err, type CliCommand } from '../command.ts';

interface CompressArgs {
  model: string;
  output?: string;
  'prune-heads'?: string;
  'prune-ffn'?: number;
  'drop-layers'?: string;
  'keep-layers'?: string;
  importance?: string;
  calibrate?: string;
  'calibration-examples'?: number;
  quantize?: string;
  'per-tensor'?: boolean;
  'quantize-embeddings'?: boolean;
  'factorize-embeddings'?: number;
  'share-layers'?: string;
  'share-from'?: string;
  'glue-dir'?: string;
  tokenizer?: string;
  'max-length'?: number;
  'external-data'?: boolean;
  seed?: number;
  json?: boolean;
}

/** Pass flags, each turning its value (and the shared modifiers) into one pipeline step. */
const PASS_FLAGS: Record<string, (a: CompressArgs) => PassStep> = {
  'prune-heads': (a) => {
    const v = String(a['prune-heads']);
    const explicit = v.includes(':');
    return {
      pass: 'prune-heads',
      settings: {
        ...(explicit ? { heads: v } : { ratio: Number(v) }),
        importance: a.importance ?? (a.calibrate ? 'ablation' : 'magnitude'),
        ...(a.seed !== undefined ? { seed: a.seed } : {}),
      },
    };
  },
  'prune-ffn': (a) => ({ pass: 'prune-ffn', settings: { ratio: a['prune-ffn'] } }),
  'drop-layers': (a) => ({ pass: 'drop-layers', settings: { layers: a['drop-layers'] } }),
  'keep-layers': (a) => ({ pass: 'drop-layers', settings: { keep: a['keep-layers'] } }),
  quantize: (a) => ({
    pass: 'quantize',
    settings: { mode: a.quantize, perChannel: !a['per-tensor'], embeddings: a['quantize-embeddings'] ?? true },
  }),
  'factorize-embeddings': (a) => ({ pass: 'factorize-embeddings', settings: { rank: a['factorize-embeddings'] } }),
  'share-layers': (a) => ({ pass: 'share-layers', settings: { share: a['share-layers'], from: a['share-from'] ?? 'mean' } }),
};

/** The pass flags in the order they appear on the command line. */
export function stepsFromArgv(argv: readonly string[], args: CompressArgs): PassStep[] {
  const order: string[] = [];
  for (const tok of argv) {
    const m = /^--([a-z-]+)(=.*)?$/.exec(tok);
    if (m && m[1] in PASS_FLAGS && !order.includes(m[1])) order.push(m[1]);
  }
  return order.map((flag) => PASS_FLAGS[flag](args));
}

export const compressCommand: CliCommand<CompressArgs> = {
  command: '$0 <model>',
  describe: 'Compress MODEL with the passes given as flags (applied in the order given) and write OUT',
  builder: (y: Argv) =>
    y
      .positional('model', { type: 'string', demandOption: true, describe: 'input ONNX model' })
      .option('output', { alias: 'o', type: 'string', describe: 'output ONNX file (a lineage sidecar OUT.json is written beside it)' })
      .option('prune-heads', { type: 'string', describe: 'remove this fraction of attention heads (0-1), or an explicit list "LAYER:HEAD,HEAD;LAYER:HEAD"' })
      .option('importance', { type: 'string', choices: [...HEAD_IMPORTANCE], describe: 'head importance score (ablation, gradient and confidence need --calibrate)' })
      .option('calibrate', { type: 'string', describe: 'GLUE task whose train data calibrates importance / sensitivity' })
      .option('calibration-examples', { type: 'number', default: 512, describe: 'calibration examples' })
      .option('prune-ffn', { type: 'number', describe: 'remove this fraction of FFN neurons per layer' })
      .option('drop-layers', { type: 'string', describe: 'remove these layers, e.g. 1,3,5' })
      .option('keep-layers', { type: 'string', describe: "keep these layers ('every-other' or 0,2,4)" })
      .option('quantize', { type: 'string', describe: 'int8 | int8-static | int8-group:G | int4-block:B | mixed:BUDGET' })
      .option('per-tensor', { type: 'boolean', default: false, describe: 'one int8 scale per tensor instead of per channel' })
      .option('quantize-embeddings', { type: 'boolean', describe: 'quantize embedding tables too (default on)' })
      .option('factorize-embeddings', { type: 'number', describe: 'factorize the word embedding to this rank (ALBERT)' })
      .option('share-layers', { type: 'string', describe: 'share layer weights: all | groups:N (ALBERT)' })
      .option('share-from', { type: 'string', describe: 'shared weights: mean | layer:K' })
      .option('glue-dir', { type: 'string', describe: 'GLUE data folder (default $GLUE_DIR or ../shared/glue)' })
      .option('tokenizer', { type: 'string', describe: "tokenizer folder for calibration (default: the model's folder)" })
      .option('max-length', { type: 'number', describe: 'calibration sequence length' })
      .option('external-data', { type: 'boolean', default: false, describe: 'store weights in OUT.data' })
      .option('seed', { type: 'number', describe: 'seed for random choices' })
      .option('json', { type: 'boolean', default: false, describe: 'print the lineage record as JSON' }) as unknown as Argv<CompressArgs>,
  run: async (args) => {
    registerAllPasses();
    const steps = stepsFromArgv(process.argv.slice(2), args);
    if (!steps.length) throw new SettingsError('no pass given: use --prune-heads, --prune-ffn, --drop-layers, --quantize, --factorize-embeddings or --share-layers (see --help)');
    if (!args.output) throw new SettingsError('missing -o/--output: where to write the compressed model');
    const input = locateModel(args.model).onnx;
    if (resolve(args.output) === resolve(input)) throw new SettingsError(`-o ${args.output}: refusing to overwrite the input model`);
    const calibration = args.calibrate
      ? await loadCalibration({
          model: args.model,
          task: args.calibrate,
          examples: args['calibration-examples'] ?? 128,
          glueDir: args['glue-dir'],
          tokenizer: args.tokenizer,
          maxLength: args['max-length'],
        })
      : undefined;
    const log = args.json || !process.stderr.isTTY ? undefined : (line: string) => err(line);
    const lineage = await compressFile({ input, output: args.output, steps, context: { calibration, log, seed: args.seed }, externalData: args['external-data'] });
    if (args.json) {
      out(JSON.stringify(lineage, null, 2));
      return 0;
    }
    const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;
    for (const p of lineage.passes) out(`${p.report.pass}: ${p.report.summary}`);
    out(`params ${lineage.before.params.toLocaleString('en')} -> ${lineage.after.params.toLocaleString('en')}, weights ${mb(lineage.before.bytes)} -> ${mb(lineage.after.bytes)} (${((100 * lineage.after.bytes) / lineage.before.bytes).toFixed(1)}%)`);
    out(`check: onnxruntime runs it; max |output drift| ${lineage.check.drift.map((d) => `${d.output} ${d.maxAbsDiff.toExponential(2)}`).join(', ')}`);
    out(`wrote ${lineage.output.path} and ${lineage.output.path}.json`);
    return 0;
  },
};
