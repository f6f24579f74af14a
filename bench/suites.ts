/**
 * The benchmarks `npm run bench` runs, and the flags each one reads: `bench/index.ts` chooses among them and hands
 * each the flags it declares; each benchmark checks its own command line against them (checkFlags in args.ts), so a
 * misspelt or unknown flag is refused in one line instead of being ignored.
 */

/** A flag followed by a value (`--rounds 15`), or one that is given alone (`--keep`). */
export type FlagKind = 'value' | 'switch';

export interface BenchSuite {
  name: string;
  file: string;
  /** Flags `npm run bench` always gives it. */
  args?: string[];
  what: string;
  /** Every flag it reads. */
  flags: Readonly<Record<string, FlagKind>>;
}

export const BENCHMARKS: readonly BenchSuite[] = [
  {
    name: 'load-save',
    file: 'build-load-save.ts',
    what: 'load + save of a built BERT-base: < 10 s, peak memory < 2.5x the file',
    flags: { '--keep': 'switch' },
  },
  {
    name: 'eval-throughput',
    file: 'eval-throughput.ts',
    what: 'GLUE harness throughput / direct onnxruntime calls: >= 0.90',
    flags: { '--model': 'value', '--task': 'value', '--glue-dir': 'value', '--batch-size': 'value', '--threads': 'value', '--rounds': 'value' },
  },
  {
    name: 'quantize',
    file: 'quantize.ts',
    what: 'int8/int4/mixed on the teachers: size, GLUE change, speed-up vs fp32',
    flags: {
      '--teachers': 'value',
      '--glue-dir': 'value',
      '--modes': 'value',
      '--calibration': 'value',
      '--speed-batches': 'value',
      '--rounds': 'value',
      '--threads': 'value',
      '--json': 'value',
    },
  },
  {
    name: 'int8-formulations',
    file: 'int8-formulations.ts',
    what: 'int8 forms on BERT-base vs onnxruntime quantize_dynamic (default >= 1.0x at <= 62% bytes; --optimize faster still), CPU flags, teacher accuracy',
    flags: {
      '--layers': 'value',
      '--batches': 'value',
      '--seq': 'value',
      '--rounds': 'value',
      '--threads': 'value',
      '--no-fp32': 'switch',
      '--no-accuracy': 'switch',
      '--teachers': 'value',
      '--glue-dir': 'value',
      '--json': 'value',
    },
  },
  {
    name: 'factorize-share',
    file: 'factorize-share.ts',
    args: ['--run'],
    what: 'factorize / share on BERT-base: < 30 s per pass',
    flags: { '--ranks': 'value', '--run': 'switch' },
  },
  {
    name: 'prune-importance',
    file: 'prune-importance.ts',
    what: 'heads pruned by importance (in steps) vs random at 30/50/70%, 4 SST-2 models of 4 shapes, dev accuracy',
    flags: {
      '--teachers': 'value',
      '--glue-dir': 'value',
      '--calibration': 'value',
      '--seeds': 'value',
      '--train-examples': 'value',
      '--only': 'value',
    },
  },
  {
    name: 'passes-speed',
    file: 'passes-speed.ts',
    what: 'speed of each pass output against its input, same run',
    flags: { '--model': 'value', '--batch': 'value', '--seq': 'value', '--threads': 'value', '--rounds': 'value' },
  },
  {
    name: 'interleaved-speedup',
    file: 'interleaved-speedup.ts',
    what: 'bench speed-up: A/A about 1.00, half the layers about 1.9x',
    flags: { '--model': 'value', '--threads': 'value', '--repeats': 'value', '--rounds': 'value' },
  },
  { name: 'passes-base', file: 'passes-base.ts', what: 'every pass on a built BERT-base: < 30 s each', flags: {} },
  {
    name: 'train',
    file: 'train.ts',
    what: 'training step / forward pass of the same model (aim <= 4), peak RSS training 4x256 (aim < 2 GB)',
    flags: { '--rounds': 'value', '--threads': 'value', '--kernel': 'value', '--profile': 'switch' },
  },
  {
    name: 'queue',
    file: 'queue.ts',
    what: 'distributed sweep (Redis, BullMQ): N points run by 1, 2 and 3 local workers, throughput ratio',
    flags: { '--points': 'value', '--workers': 'value', '--model': 'value', '--redis': 'value' },
  },
  {
    name: 'startup',
    file: 'startup.ts',
    what: 'compress --version, whole process (aim <= 0.3 s); --help compiled vs through tsx',
    flags: { '--runs': 'value' },
  },
];

/** The benchmark named `name` (a programming error otherwise). */
export function suite(name: string): BenchSuite {
  const found = BENCHMARKS.find((b) => b.name === name);
  if (!found) throw new Error(`no benchmark named ${name}`);
  return found;
}
