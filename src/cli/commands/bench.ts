/**
 * `compress bench MODEL [--baseline MODEL] [--batch 1,8,32] [--seq 32,128] [--threads N] [--repeats N] [--max-time S] [--json]`:
 * parses flags into BenchOptions, calls the library's `benchModels` and prints the table (or JSON).
 */
import type { Argv } from 'yargs';
import { integerOfText, integerProblem, noteFlagText, UsageError } from '../../errors.ts';
import { THREADS_HELP, THREADS_RANGE } from '../../runtime/threads.ts';
import { integerFlags, numberFlags } from '../flag-values.ts';
import { checkDtypeName } from '../../eval/model-files.ts';
// (benchModels of ./run.ts, whose refusals name the flags; the package's names its options)
import { benchModels } from '../../bench/run.ts';
import {
  BenchStopped,
  benchSettings,
  MAX_TIME_RANGE,
  BENCH_RANGES,
  formatBench,
  sizeRefusal,
  timingAlongside,
  timingLockWaitLine,
  DEFAULT_REPEATS,
  DEFAULT_WARMUP,
  type BenchResult,
} from '../../bench/index.ts';
import { StageTracker, machineStageBoard } from '../../sweep/index.ts';
import { commandLineCheck, listenForStop, out, err, type CliCommand } from '../command.ts';
import { checkModelRefs, localModel } from '../model-ref.ts';

interface BenchArgs {
  model: string;
  baseline?: string;
  batch: string;
  seq?: string;
  threads?: number;
  repeats: number;
  warmup: number;
  'max-time'?: number;
  json?: boolean;
  dtype?: string;
  'baseline-dtype'?: string;
}

/**
 * '1,8,32' (or repeated flags joined by yargs) → [1, 8, 32], each size read as every integer typed is (integerOfText:
 * '1e3', '3.0'; '0x10', '1e-400' and an empty one are none) and an integer from `min` (integerProblem), else a UsageError in the
 * library's words, quoting the size as typed (sizeRefusal: '--seq '8,9007199254740993': the sequence length 9007199254740993: …').
 */
export function parseIntList(flag: string, value: string | number | Array<string | number>, min = 1): number[] {
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(',')).map((s) => s.trim());
  noteFlagText(`--${flag}`, parts.join(',')); // (the sizes as typed, for a refusal of a shape to quote: shownFlagValue)
  return parts.map((p) => {
    const n = integerOfText(p);
    const problem = integerProblem(n, min);
    if (problem !== undefined) throw new UsageError(sizeRefusal(flag, parts, p, problem));
    return n;
  });
}

export const benchCommand: CliCommand<BenchArgs> = {
  command: 'bench <model>',
  describe: 'Measure latency (p50/p90/p99), throughput and memory of MODEL, and its speed-up over --baseline',
  builder: (y: Argv) =>
    numberFlags(integerFlags(y, { threads: THREADS_RANGE, repeats: BENCH_RANGES.repeats, warmup: BENCH_RANGES.warmup }), { 'max-time': MAX_TIME_RANGE })
      .positional('model', { type: 'string', demandOption: true, describe: '.onnx file, model folder or hf:org/name[@revision]' })
      .option('baseline', { type: 'string', describe: 'the model to compare with (timed in the same run, interleaved)' })
      .option('batch', { type: 'string', default: '1,8,32', describe: 'batch sizes, comma-separated' })
      .option('seq', {
        type: 'string',
        describe: "sequence lengths, comma-separated (default 32,128, each capped at the model's position table; a graph with a fixed length uses it)",
      })
      .option('dtype', {
        type: 'string',
        describe:
          "a transformers.js folder's model file by dtype: fp32 (onnx/model.onnx), q8 (onnx/model_quantized.onnx), q4 (onnx/model_q4.onnx)… (default, and auto: config.json's transformers.js_config dtype, else fp32, as transformers.js loads it on the CPU)",
      })
      .option('baseline-dtype', { type: 'string', describe: '--dtype for the baseline' })
      .option('threads', { type: 'number', describe: THREADS_HELP })
      .option('repeats', { type: 'number', default: DEFAULT_REPEATS, describe: 'timed runs per model and shape' })
      .option('warmup', { type: 'number', default: DEFAULT_WARMUP, describe: 'untimed runs per model and shape first' })
      .option('max-time', {
        type: 'number',
        describe:
          "seconds to spend timing at most: each shape stops its warm-up and timed runs (after one timed run at least) once its share is spent (what the shapes before it left, split among those left); the table's runs column says how many it took",
      })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' }) as unknown as Argv<BenchArgs>,
  run: async (args) => {
    // (the timing flags' values, before any download or model read: their refusals usage mistakes)
    const timing = {
      batches: parseIntList('batch', args.batch, BENCH_RANGES.batch.min),
      ...(args.seq !== undefined ? { seqs: parseIntList('seq', args.seq, BENCH_RANGES.seq.min) } : {}),
      threads: args.threads,
      repeats: args.repeats,
      warmup: args.warmup,
      ...(args['max-time'] !== undefined ? { maxSeconds: args['max-time'] } : {}),
    };
    commandLineCheck(() => benchSettings(timing));
    // (downloads first: Ctrl-C during them ends the command as before)
    checkModelRefs(args.model, args.baseline);
    checkDtypeName(args.dtype);
    checkDtypeName(args['baseline-dtype'], '--baseline-dtype');
    const model = await localModel(args.model);
    const baseline = await localModel(args.baseline);
    // On the machine's stage board for the while: a sweep's benchmark meanwhile records this one as company, and this
    // one records the sweep points' stages it ran beside (the timing lock keeps out their benchmarks only).
    const board = new StageTracker({ board: machineStageBoard() });
    const me = `compress bench ${args.model}`;
    board.set(0, 'bench', me);
    let alongside: string[];
    let timed: BenchResult;
    // Ctrl-C or SIGTERM stops the wait for the timing lock, or the timing between two runs (the lock is released):
    // one line, exit 130 or 143, nothing printed as a result.
    const controller = new AbortController();
    const signals = listenForStop(() => controller.abort());
    try {
      timed = await benchModels({
        signal: controller.signal,
        model,
        baseline,
        ...(args.dtype !== undefined ? { dtype: args.dtype } : {}),
        ...(args['baseline-dtype'] !== undefined ? { baselineDtype: args['baseline-dtype'] } : {}),
        ...timing,
        sessionMemory: true,
        onLockWait: (pid) => err(timingLockWaitLine(pid)),
        onShape: args.json
          ? undefined
          : (s, i, n) =>
              err(
                `[${i + 1}/${n}] batch ${s.batch} seq ${s.seq}: p50 ${s.model.p50Ms.toFixed(2)} ms${s.speedup !== undefined ? `, ×${s.speedup.toFixed(2)}` : ''}`,
              ),
      });
    } catch (e) {
      if (!(e instanceof BenchStopped)) throw e;
      err(`compress: ${e.message}; nothing was measured to the end`);
      return signals.exitCode();
    } finally {
      signals.remove();
      alongside = board.takeCompany(0);
      board.set(0, null, me);
    }
    const result = alongside.length > 0 ? { ...timed, timing: timingAlongside(timed.timing, alongside) } : timed;
    if (args.json) out(JSON.stringify(result, null, 2));
    else for (const line of formatBench(result)) out(line);
    return 0;
  },
};
