import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { parseSweep, parseSweepFile } from '../../src/sweep/spec.ts';
import { canonicalJson, hashOf } from '../../src/sweep/key.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';
import { runMain } from '../helpers/cli.ts';

let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 4 });
});
afterAll(() => t?.cleanup());

/** Parses a sweep document with the tiny models, `overrides` replacing top-level fields. */
function parse(overrides: Record<string, unknown>) {
  const doc = {
    models: [{ path: 'models/tiny-sst2', tasks: ['sst2'] }],
    pipelines: ['baseline', { name: 'heads', steps: [{ pass: 'prune-heads', settings: { ratio: 0.4 } }] }],
    ...overrides,
  };
  return parseSweep(doc, t.sweepFile, 'tiny.yaml');
}

describe('sweep file', () => {
  it('parses the tiny sweep: models with canonical task names, grids expanded, defaults applied', () => {
    const spec = parseSweepFile(t.sweepFile);
    expect(spec.name).toBe('tiny');
    expect(spec.models.map((m) => [m.name, m.tasks, m.calibration])).toEqual([
      ['tiny-sst2', ['SST-2'], { task: 'SST-2', examples: 8 }],
      ['tiny-stsb', ['STS-B'], { task: 'STS-B', examples: 8 }],
    ]);
    expect(spec.pipelines.map((p) => p.label)).toEqual(['baseline', 'heads-0.25', 'heads-0.5', 'ffn-0.25', 'ffn-0.5', 'drop-1', 'factorized-8', 'shared']);
    expect(spec.glueDir).toBe(t.glueDir);
    expect(spec.bench).toEqual({ batch: [1], seq: [8], repeats: 2, warmup: 1, threads: 1 });
    expect(spec.keepModels).toBe(false);
  });

  it("takes bench.maxTime (compress bench --max-time), absent when not given so that other sweeps' point keys stay", () => {
    expect(parse({ bench: { maxTime: 2.5 } }).bench.maxTime).toBe(2.5);
    expect('maxTime' in parse({ bench: { repeats: 3 } }).bench).toBe(false);
    expect('maxTime' in parse({}).bench).toBe(false);
  });

  it('refuses a sweep named after a file whose name holds a control character, saying to give it a name', () => {
    expect(() =>
      parseSweep(
        { models: [{ path: 'models/tiny-sst2', tasks: ['sst2'] }], pipelines: ['baseline'] },
        join(dirname(t.sweepFile), 'poster\t.yaml'),
        'poster\t.yaml',
      ),
    ).toThrow(
      new SettingsError(
        "poster\t.yaml: name: the name 'poster\\u0009' (from the file name) holds a control character (U+0009): a name must be one line of text: give one with name:",
      ),
    );
  });

  it('adds the baseline when the file does not list it', () => {
    const spec = parse({ pipelines: [{ steps: [{ pass: 'prune-ffn', settings: { ratio: 0.3 } }] }] });
    expect(spec.pipelines.map((p) => p.label)).toEqual(['baseline', 'prune-ffn 0.3']);
  });

  it.each([
    [
      { pipelines: [{ name: 'q', steps: [{ pass: 'quantise', settings: { mode: 'int8' } }] }] },
      /^tiny\.yaml: pipelines\[0\]\.steps\[0\]\.pass: expected one of .*prune-heads, .*, train, distill, got string "quantise"$/,
    ],
    [
      { pipelines: [{ name: 'h', steps: [{ pass: 'prune-heads', settings: { ratio: 1.5 } }] }] },
      /^tiny\.yaml: pipelines\[0\]\.steps\[0\]\.settings\.ratio: expected a number in \[0, 1\), got number 1\.5$/,
    ],
    [
      { pipelines: [{ name: 'h', steps: [{ pass: 'prune-heads', settings: { ratio: 0.4, importanse: 'ablation' } }] }] },
      /^tiny\.yaml: pipelines\[0\]\.steps\[0\]\.settings\.importanse: unknown prune-heads setting \(known: ratio, heads, importance, /,
    ],
    [
      { pipelines: [{ name: 'h', steps: [{ pass: 'prune-heads', settings: { ratio: 0.4, seed: 3 } }] }] },
      /settings\.seed: only importance random uses a seed \(importance is magnitude\)$/,
    ],
    [
      { pipelines: [{ name: 'f', steps: [{ pass: 'factorize-embeddings', settings: { rank: 0 } }] }] },
      /settings\.rank: expected an integer from 1 to 2\^53 − 1, got number 0$/,
    ],
    [
      { pipelines: [{ name: 's', steps: [{ pass: 'share-layers', settings: { share: 'none' } }] }] },
      /settings\.share: expected 'all' or 'groups:N' with N ≥ 1 groups of consecutive layers, got string "none"$/,
    ],
    [
      { calibration: false, pipelines: [{ name: 'h', steps: [{ pass: 'prune-heads', settings: { ratio: 0.4, importance: 'ablation' } }] }] },
      /^tiny\.yaml: pipelines\[0\]\.steps\[0\]\.settings: prune-heads with these settings measures the model on calibration data, but model 'tiny-sst2' has calibration: false$/,
    ],
    [
      { pipelines: [{ name: 'h-{ratio}', grid: [{ pass: 'prune-heads', settings: { ratio: [0.2, 2] } }] }] },
      /pipelines\[0\]\.grid\[0\]\.settings\.ratio \(grid point 2: h-2\): expected a number in \[0, 1\), got number 2$/,
    ],
    [{ pipelines: [{ name: 'h' }] }, /^tiny\.yaml: pipelines\[0\]: give either 'steps'/],
    [{ pipelines: ['baseline', 'baseline'] }, /pipeline label 'baseline' is used twice/],
    // (a name holding a quote quoted as a shell takes it, quotedText: 'it'\''s', where '${x}' by hand wrote 'it's')
    [
      { pipelines: [1, 2].map(() => ({ name: "it's", steps: [{ pass: 'prune-heads', settings: { ratio: 0.4 } }] })) },
      /^tiny\.yaml: pipelines\[1\]\.name: pipeline label 'it'\\''s' is used twice \(pipelines\[0\] has it too\)$/,
    ],
    // (a label clash refused where the file gives it: it named 'pipelines', and labels the file never wrote)
    [
      { pipelines: [{ name: 'h', grid: [{ pass: 'prune-heads', settings: { ratio: [] } }] }] },
      /^tiny\.yaml: pipelines\[0\]\.grid\[0\]\.settings\.ratio: the list of values is empty$/,
    ],
    [
      { pipelines: [{ name: 'h', grid: [{ pass: 'prune-heads', settings: { ratio: [0.4, 0.2, 0.4] } }] }] },
      /^tiny\.yaml: pipelines\[0\]\.grid\[0\]\.settings\.ratio: 0\.4 is listed twice: the grid would run its points twice$/,
    ],
    // (a value of another kind that reads as one listed before it, '0.4' beside 0.4, refused for its kind, where the
    // name was told to name 'every axis that varies ({ratio})', which it named)
    ...[
      ['h-{ratio}', 'h-0.4'],
      ['h', 'h\\(ratio=0\\.4\\)'],
    ].map(([name, label]): [Record<string, unknown>, RegExp] => [
      { pipelines: [{ name, grid: [{ pass: 'prune-heads', settings: { ratio: [0.4, 0.2, '0.4'] } }] }] },
      new RegExp(
        `^tiny\\.yaml: pipelines\\[0\\]\\.grid\\[0\\]\\.settings\\.ratio \\(grid point 3: ${label}\\): expected a number in \\[0, 1\\), got string "0\\.4"$`,
      ),
    ]),
    [
      { pipelines: [{ name: 'h-{ratio}', grid: [{ pass: 'prune-heads', settings: { ratio: [0.2, 0.4], importance: ['magnitude', 'random'] } }] }] },
      /^tiny\.yaml: pipelines\[0\]\.name: 'h-\{ratio\}' gives grid points 1 and 2 the same label 'h-0\.2': name every axis that varies \(\{importance\}\)$/,
    ],
    [
      {
        pipelines: [
          { name: 'h-{ratio}', grid: [{ pass: 'prune-heads', settings: { ratio: [0.2, 0.4] } }] },
          { name: 'h-0.4', steps: [{ pass: 'prune-ffn', settings: { ratio: 0.4 } }] },
        ],
      },
      /^tiny\.yaml: pipelines\[1\]\.name: pipeline label 'h-0\.4' is used twice \(pipelines\[0\] has it too\)$/,
    ],
    [
      { pipelines: [{ name: 'baseline', steps: [{ pass: 'prune-heads', settings: { ratio: 0.4 } }] }] },
      /^tiny\.yaml: pipelines\[0\]\.name: 'baseline' names the pipeline without passes, which every sweep has \(added where not listed\): give this one another name$/,
    ],
    [
      // (listed before the baseline: refused at its name, where the baseline was said to be used twice)
      { pipelines: [{ name: 'baseline', steps: [{ pass: 'prune-heads', settings: { ratio: 0.4 } }] }, 'baseline'] },
      /^tiny\.yaml: pipelines\[0\]\.name: 'baseline' names the pipeline without passes, which every sweep has \(added where not listed\): give this one another name$/,
    ],
    [
      { pipelines: ['baseline', { name: 'baseline', steps: [{ pass: 'prune-heads', settings: { ratio: 0.4 } }] }] },
      /^tiny\.yaml: pipelines\[1\]\.name: 'baseline' names the pipeline without passes, which every sweep has \(added where not listed\): give this one another name$/,
    ],
    [
      { pipelines: [{ name: 'h', models: ["tiny'sst2"], steps: [{ pass: 'prune-heads', settings: { ratio: 0.4 } }] }] },
      /^tiny\.yaml: pipelines\[0\]\.models\[0\]: no model named 'tiny'\\''sst2' \(models: tiny-sst2\)$/,
    ],
    // (names on one line: progress lines, the store and the report show each on a line)
    [{ name: 'poster\nv2' }, /^tiny\.yaml: name: the name 'poster\\u000Av2' holds a line break \(U\+000A\): a name must be one line of text$/],
    [
      { models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'], name: 'tiny\u0007' }] },
      /^tiny\.yaml: models\[0\]\.name: the name 'tiny\\u0007' holds a control character \(U\+0007\): a name must be one line of text$/,
    ],
    [
      { pipelines: [{ name: 'h\r', steps: [{ pass: 'prune-heads', settings: { ratio: 0.4 } }] }] },
      /^tiny\.yaml: pipelines\[0\]\.name: the name 'h\\u000D' holds a line break \(U\+000D\): a name must be one line of text$/,
    ],
    [
      { pipelines: [{ name: 'h-{ratio}\u2028', grid: [{ pass: 'prune-heads', settings: { ratio: [0.2, 0.4] } }] }] },
      /^tiny\.yaml: pipelines\[0\]\.name: the name 'h-0\.2\\u2028' holds a line break \(U\+2028\): a name must be one line of text$/,
    ],
    // (names without spaces at their ends, which progress lines and the table show unseen)
    [
      { models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'], name: ' tiny ' }] },
      /^tiny\.yaml: models\[0\]\.name: the name ' tiny ' begins and ends with a space, which progress lines and the report's table show unseen: write 'tiny'$/,
    ],
    [
      { pipelines: [{ name: 'h ', steps: [{ pass: 'prune-heads', settings: { ratio: 0.4 } }] }] },
      /^tiny\.yaml: pipelines\[0\]\.name: the name 'h ' ends with a space, which progress lines and the report's table show unseen: write 'h'$/,
    ],
    [
      { pipelines: [{ name: '\u3000h-{ratio}', grid: [{ pass: 'prune-heads', settings: { ratio: [0.2, 0.4] } }] }] },
      /^tiny\.yaml: pipelines\[0\]\.name: the name '\u3000h-\{ratio\}' begins with a space, which progress lines and the report's table show unseen: write 'h-\{ratio\}'$/,
    ],
    [
      { name: ' poster' },
      /^tiny\.yaml: name: the name ' poster' begins with a space, which progress lines and the report's table show unseen: write 'poster'$/,
    ],
    // (values a label shows, without spaces at their ends: 'q- int8', 'prune-heads 0:1 ' showed them unseen)
    [
      { pipelines: [{ name: 'q-{mode}', grid: [{ pass: 'quantize', settings: { mode: [' int8', 'int4-block:32'] } }] }] },
      /^tiny\.yaml: pipelines\[0\]\.grid\[0\]\.settings\.mode: the value ' int8' begins with a space, which the grid points' labels show unseen in progress lines and the report's table: write 'int8'$/,
    ],
    [
      { pipelines: [{ name: 'h', grid: [{ pass: 'prune-heads', settings: { ratio: [0.2, 0.4], importance: ['magnitude\u3000'] } }] }] },
      /^tiny\.yaml: pipelines\[0\]\.grid\[0\]\.settings\.importance: the value 'magnitude\u3000' ends with a space, which the grid points' labels show unseen in progress lines and the report's table: write 'magnitude'$/,
    ],
    [
      { pipelines: [{ steps: [{ pass: 'prune-heads', settings: { heads: ' 0:1 ' } }] }] },
      /^tiny\.yaml: pipelines\[0\]\.steps\[0\]\.settings\.heads: the value ' 0:1 ' begins and ends with a space, which the pipeline's label shows unseen in progress lines and the report's table: write '0:1'$/,
    ],
    [{ models: [{ path: 'models/none', tasks: ['SST-2'] }] }, /^tiny\.yaml: models\[0\]\.path: .*no such file or folder/],
    [{ models: [{ path: 'models/tiny-sst2', tasks: ['sst-3'] }] }, /^tiny\.yaml: models\[0\]\.tasks\[0\]: unknown task 'sst-3'\. Did you mean 'SST-2'/],
    [{ models: [{ path: 'models/tiny-sst2' }] }, /^tiny\.yaml: models\[0\]\.tasks: missing/],
    // (a model written as its path alone: what it lacks, in the file's form, where it said 'models[0].tasks: missing'
    // of a mapping the file does not hold)
    [
      { models: ['models/tiny-sst2'] },
      /^tiny\.yaml: models\[0\]: a path alone \(string "models\/tiny-sst2"\) names no GLUE tasks: write \{path: …, tasks: \[SST-2\]\}, with the tasks its points are scored on$/,
    ],
    // (placed at the item the file wrote, not at a `path` key it does not hold)
    [{ models: ['models/none'] }, /^tiny\.yaml: models\[0\]: .*no such file or folder/],
    [{ models: ['hf:org/x@'] }, /^tiny\.yaml: models\[0\]: hf:org\/x@: empty revision after '@'/],
    // (AX beside MNLI, as an MNLI model is used for it: refused where it is named, not as a second task to train on)
    [
      { models: [{ path: 'models/tiny-sst2', tasks: ['MNLI', 'AX'] }], pipelines: [{ name: 'kd', steps: [{ pass: 'distill', settings: { epochs: 1 } }] }] },
      /^tiny\.yaml: models\[0\]\.tasks\[1\]: task AX has no dev split \(it has: test\); a sweep scores its points on dev \(predict AX with compress eval --split test --submission DIR\)$/,
    ],
    [{ models: [] }, /^tiny\.yaml: models: the list is empty/],
    [{ bench: { batch: [1, 0] } }, /^tiny\.yaml: bench\.batch\[1\]: expected an integer from 1 to 2\^53 − 1, got number 0/],
    [{ bench: { batch: [] } }, /^tiny\.yaml: bench\.batch: the list is empty$/],
    [{ bench: { seq: [] } }, /^tiny\.yaml: bench\.seq: the list is empty$/],
    [{ name: '' }, /^tiny\.yaml: name: expected a non-empty string, got string ""$/],
    [{ name: 3 }, /^tiny\.yaml: name: expected a non-empty string, got number 3$/],
    // (YAML reads 1e400 as Infinity and .nan as NaN, which JSON would write as null)
    [
      { seed: Number.POSITIVE_INFINITY },
      /^tiny\.yaml: seed: expected an integer from 0 to 2\^53 − 1, got number Infinity \(infinite: \.inf, or a number too large to hold\)$/,
    ],
    [{ bench: { repeats: Number.NaN } }, /^tiny\.yaml: bench\.repeats: expected an integer from 1 to 2\^53 − 1, got number NaN$/],
    [{ bench: { shapes: [1] } }, /^tiny\.yaml: bench\.shapes: unknown field \(known: batch, seq, repeats, warmup, threads, maxTime\)/],
    [{ bench: { maxTime: 0 } }, /^tiny\.yaml: bench\.maxTime: expected a number of seconds greater than 0, got number 0$/],
    // (as --threads: onnxruntime makes the threads it is given, and a million failed every point with std::bad_alloc)
    // (with what 0 means: the runner's share, for bench and eval alike, where eval's said one per physical core)
    [
      { bench: { threads: 1_000_000_000 } },
      /^tiny\.yaml: bench\.threads: expected an integer from 0 to 256 \(0: one per physical core, divided among the points run at once\), got number 1000000000$/,
    ],
    [
      { eval: { threads: 257 } },
      /^tiny\.yaml: eval\.threads: expected an integer from 0 to 256 \(0: one per physical core, divided among the points run at once\), got number 257$/,
    ],
    [
      { eval: { threads: -1 } },
      /^tiny\.yaml: eval\.threads: expected an integer from 0 to 256 \(0: one per physical core, divided among the points run at once\), got number -1$/,
    ],
    [{ bench: { maxTime: '30s' } }, /^tiny\.yaml: bench\.maxTime: expected a number of seconds greater than 0, got string "30s"$/],
    [{ calibration: { examples: 'many' } }, /^tiny\.yaml: calibration\.examples: expected an integer/],
    // (calibration.task read as --calibrate reads it: one task, with a train split)
    [{ calibration: { task: 'MNLI' } }, /^tiny\.yaml: calibration\.task: task 'MNLI' names MNLI-m and MNLI-mm; give one of them$/],
    [
      { calibration: { task: 'AX' } },
      /^tiny\.yaml: calibration\.task: AX has no train split \(calibration never uses the dev examples a model is evaluated on\): calibrate on a task with one/,
    ],
    [
      { calibration: { task: 'all' } },
      /^tiny\.yaml: calibration\.task: unknown task 'all'\. Known tasks: CoLA, SST-2, MRPC, STS-B, QQP, MNLI-m, MNLI-mm, QNLI, RTE, WNLI, AX$/,
    ],
    // (a model's own calibration.task is named where that model's block gives it)
    [
      { models: [{ path: 'models/tiny-sst2', tasks: ['sst2'], calibration: { task: 'MNLI' } }] },
      /^tiny\.yaml: models\[0\]\.calibration\.task: task 'MNLI' names MNLI-m and MNLI-mm; give one of them$/,
    ],
    // (a top-level task a model's own block inherits is still named where it is written)
    [
      { calibration: { task: 'MNLI' }, models: [{ path: 'models/tiny-sst2', tasks: ['sst2'], calibration: { examples: 4 } }] },
      /^tiny\.yaml: calibration\.task: task 'MNLI' names MNLI-m and MNLI-mm; give one of them$/,
    ],
    [{ jobs: 3 }, /^tiny\.yaml: jobs: unknown field/],
  ])('refuses %j with one line naming the file and field', (overrides, message) => {
    let error: unknown;
    try {
      parse(overrides);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it("takes a value with a space at an end where no label shows it (a named list pipeline's settings), as the pass reads it", () => {
    const spec = parse({ pipelines: [{ name: 'q', steps: [{ pass: 'quantize', settings: { mode: ' int8' } }] }] });
    expect(spec.pipelines.map((p) => p.label)).toEqual(['baseline', 'q']);
  });

  it('refuses a pruning step after quantize when the file is read (it slices float weights), and lets one after a mixed: quantize through, and after int4-block (the plan judges it on the model)', () => {
    const steps = (mode: unknown, prune: string) => [
      { pass: 'quantize', settings: { mode } },
      { pass: 'drop-layers', settings: { keep: '0' } },
      { pass: prune, settings: { ratio: 0.5 } },
    ];
    expect(() => parse({ pipelines: [{ name: 'q+h', steps: steps('int8', 'prune-heads') }] })).toThrow(
      /^tiny\.yaml: pipelines\[0\]\.steps\[2\]: prune-heads cannot follow quantize int8 \(steps\[0\]\): prune-heads slices float weights, and quantize int8 stores them quantized; put prune-heads before quantize int8$/,
    );
    expect(() => parse({ pipelines: [{ name: 'q-{mode}', grid: steps(['mixed:0.5', 'int8-group:32'], 'prune-ffn') }] })).toThrow(
      /^tiny\.yaml: pipelines\[0\]\.grid\[2\] \(grid point 2: q-int8-group:32\): prune-ffn cannot follow quantize int8-group:32 \(grid\[0\]\)/,
    );
    // (int4-block leaves float the projections its blocks would store in more bytes: the plan judges those on the model)
    for (const prune of ['prune-heads', 'prune-ffn'])
      expect(parse({ pipelines: [{ name: 'q4', steps: steps('int4-block:32', prune) }] }).pipelines.map((p) => p.label)).toEqual(['baseline', 'q4']);
    const share = { pass: 'share-layers', settings: { share: 'all' } };
    expect(() => parse({ pipelines: [{ name: 'q4+s', steps: [steps('int4-block:32', 'prune-ffn')[0], share] }] })).toThrow(
      /share-layers cannot follow quantize int4-block:32 \(steps\[0\]\): share-layers combines float weights, and quantize int4-block:32 stores them quantized; put share-layers before quantize int4-block:32$/,
    );
    expect(parse({ pipelines: [{ name: 'm', steps: steps('mixed:0.5', 'prune-ffn') }] }).pipelines.map((p) => p.label)).toEqual(['baseline', 'm']);
    expect(parse({ pipelines: [{ name: 'h+q', steps: [...steps('int8', 'prune-heads')].reverse() }] }).pipelines.map((p) => p.label)).toEqual([
      'baseline',
      'h+q',
    ]);
  });

  it('refuses share-layers after quantize when the file is read (it combines float weights), and lets one after a mixed: quantize through', () => {
    const steps = (mode: unknown) => [
      { pass: 'quantize', settings: { mode } },
      { pass: 'share-layers', settings: { share: 'all' } },
    ];
    expect(() => parse({ pipelines: [{ name: 'q+s', steps: steps('int8') }] })).toThrow(
      /^tiny\.yaml: pipelines\[0\]\.steps\[1\]: share-layers cannot follow quantize int8 \(steps\[0\]\): share-layers combines float weights, and quantize int8 stores them quantized; put share-layers before quantize int8$/,
    );
    expect(parse({ pipelines: [{ name: 'm', steps: steps('mixed:0.5') }] }).pipelines.map((p) => p.label)).toEqual(['baseline', 'm']);
    expect(parse({ pipelines: [{ name: 's+q', steps: [...steps('int8')].reverse() }] }).pipelines.map((p) => p.label)).toEqual(['baseline', 's+q']);
  });

  it('lets prune-heads, prune-ffn and share-layers follow a quantize float16 step (they slice and combine float16 weights)', () => {
    const steps = [
      { pass: 'quantize', settings: { mode: 'float16' } },
      { pass: 'prune-heads', settings: { ratio: 0.5 } },
      { pass: 'prune-ffn', settings: { ratio: 0.5 } },
      { pass: 'share-layers', settings: { share: 'all' } },
    ];
    expect(parse({ pipelines: [{ name: 'f16+h+f+s', steps }] }).pipelines.map((p) => p.label)).toEqual(['baseline', 'f16+h+f+s']);
  });

  it('refuses a quantize step after quantize float16, and quantize float16 after another quantize step but a mixed: one, when the file is read', () => {
    const steps = (...modes: unknown[]) => modes.map((mode) => ({ pass: 'quantize', settings: { mode } }));
    expect(() => parse({ pipelines: [{ name: 'f16+q8', steps: steps('float16', 'int8') }] })).toThrow(
      /^tiny\.yaml: pipelines\[0\]\.steps\[1\]: quantize int8 cannot follow quantize float16 \(steps\[0\]\): quantize reads float32 weights, and quantize float16 stores them in float16; keep one quantize step, in the mode you want$/,
    );
    expect(() => parse({ pipelines: [{ name: 'f16+f16', steps: steps('fp16', 'float16') }] })).toThrow(
      /^tiny\.yaml: pipelines\[0\]\.steps\[1\]: quantize float16 cannot follow quantize float16 \(steps\[0\]\)/,
    );
    expect(() => parse({ pipelines: [{ name: 'q{mode}', grid: steps(['int8', 'int4-block:32'], 'float16') }] })).toThrow(
      /^tiny\.yaml: pipelines\[0\]\.grid\[1\] \(grid point 1: qint8\): quantize float16 cannot follow quantize int8 \(grid\[0\]\): quantize float16 converts float32 weights, and quantize int8 stores them quantized; keep one quantize step, in the mode you want$/,
    );
    expect(parse({ pipelines: [{ name: 'm+f16', steps: steps('mixed:0.5', 'float16') }] }).pipelines.map((p) => p.label)).toEqual(['baseline', 'm+f16']);
  });

  it('refuses quantize mixed after an integer quantize step (any embeddings setting), which stores weights mixed refuses, and lets it follow a mixed: one', () => {
    const q = (mode: string, more: Record<string, unknown> = {}) => ({ pass: 'quantize', settings: { mode, ...more } });
    expect(() =>
      parse({
        pipelines: [{ name: 's+m', steps: [q('int8-static', { embeddings: false }), { pass: 'drop-layers', settings: { keep: '0' } }, q('mixed:0.5')] }],
      }),
    ).toThrow(
      /^tiny\.yaml: pipelines\[0\]\.steps\[2\]: quantize mixed:0\.5 cannot follow quantize int8-static \(steps\[0\]\): quantize mixed:0\.5 chooses the bits of every layer of a float model, and quantize int8-static stores weights quantized; keep one quantize step, in the mode you want$/,
    );
    expect(() => parse({ pipelines: [{ name: 'q4+m', steps: [q('int4-block:32'), q('mixed:0.5', { embeddings: false })] }] })).toThrow(
      /steps\[1\]: quantize mixed:0\.5 cannot follow quantize int4-block:32/,
    );
    expect(parse({ pipelines: [{ name: 'm+m', steps: [q('mixed:0.9'), q('mixed:0.5')] }] }).pipelines.map((p) => p.label)).toEqual(['baseline', 'm+m']);
  });

  it('refuses quantize and factorize-embeddings after an int8 or int4 quantize that stored every weight, the word table too, factorize-embeddings after a mixed: one, and lets them follow one with embeddings: false', () => {
    const q = (mode: string, more: Record<string, unknown> = {}) => ({ pass: 'quantize', settings: { mode, ...more } });
    const factorize = { pass: 'factorize-embeddings', settings: { rank: 4 } };
    expect(() => parse({ pipelines: [{ name: 'q8+q8', steps: [q('int8'), q('int8', { perChannel: false })] }] })).toThrow(
      /^tiny\.yaml: pipelines\[0\]\.steps\[1\]: quantize int8 cannot follow quantize int8 \(steps\[0\]\): quantize reads float32 weights, and quantize int8 stores them quantized; keep one quantize step, in the mode you want$/,
    );
    expect(() => parse({ pipelines: [{ name: 'q{mode}', grid: [q(['int8-group:16', 'int4-block:32'] as never), q('int8')] }] })).toThrow(
      /^tiny\.yaml: pipelines\[0\]\.grid\[1\] \(grid point 1: qint8-group:16\): quantize int8 cannot follow quantize int8-group:16 \(grid\[0\]\)/,
    );
    expect(() => parse({ pipelines: [{ name: 'q4+f', steps: [q('int4-block:32'), { pass: 'drop-layers', settings: { keep: '0' } }, factorize] }] })).toThrow(
      /^tiny\.yaml: pipelines\[0\]\.steps\[2\]: factorize-embeddings cannot follow quantize int4-block:32 \(steps\[0\]\): factorize-embeddings factorizes float weights, and quantize int4-block:32 stores them quantized; put factorize-embeddings before quantize int4-block:32$/,
    );
    expect(() => parse({ pipelines: [{ name: 's+f', steps: [q('int8-static'), factorize] }] })).toThrow(
      /steps\[1\]: factorize-embeddings cannot follow quantize int8-static \(steps\[0\]\)/,
    );
    // mixed stores the tables int8 whatever bits its budget gives the layers
    expect(() => parse({ pipelines: [{ name: 'm+f', steps: [q('mixed:0.5'), factorize] }] })).toThrow(
      /steps\[1\]: factorize-embeddings cannot follow quantize mixed:0\.5 \(steps\[0\]\)/,
    );
    const labels = (steps: unknown[]) => parse({ pipelines: [{ name: 'p', steps }] }).pipelines.map((p) => p.label);
    expect(labels([q('mixed:0.5', { embeddings: false }), factorize])).toEqual(['baseline', 'p']);
    expect(labels([q('int8', { embeddings: false }), q('int8')])).toEqual(['baseline', 'p']);
    // int8-static and int4-block keep an ORT-fused Attention float, which a quantize after them quantizes: the plan
    // judges them on the model it reads (quantized-plan.test.ts)
    expect(labels([q('int8-static'), q('int4-block:32')])).toEqual(['baseline', 'p']);
    expect(labels([q('int4-block:32'), q('int8')])).toEqual(['baseline', 'p']);
    expect(labels([q('int8', { embeddings: false }), factorize])).toEqual(['baseline', 'p']);
    expect(labels([q('mixed:0.5'), q('int8')])).toEqual(['baseline', 'p']);
    expect(labels([q('float16'), factorize])).toEqual(['baseline', 'p']);
    expect(labels([factorize, q('int8')])).toEqual(['baseline', 'p']);
  });

  it('refuses a train step after quantize float16 naming the step quantize float16 and saying training writes float32 (its weights are float, not quantized)', () => {
    const steps = [
      { pass: 'quantize', settings: { mode: 'float16' } },
      { pass: 'train', settings: { epochs: 1 } },
    ];
    expect(() => parse({ pipelines: [{ name: 'f16+ft', steps }] })).toThrow(
      /^tiny\.yaml: pipelines\[0\]\.steps\[1\]: a train step cannot follow quantize float16 \(steps\[0\]\): training computes and writes float32, so quantize float16's storage would not reach the trained model; put quantize float16 after the train step$/,
    );
  });

  it('refuses a pipeline that breaks both order rules for its training step first, wherever its pruning step stands', () => {
    const steps = [
      { pass: 'quantize', settings: { mode: 'int8' } },
      { pass: 'prune-heads', settings: { ratio: 0.5 } },
      { pass: 'distill', settings: { epochs: 1 } },
    ];
    expect(() => parse({ pipelines: [{ name: 'q+h+kd', steps }] })).toThrow(
      /^tiny\.yaml: pipelines\[0\]\.steps\[2\]: a distill step cannot follow quantize int8 \(steps\[0\]\): training needs float weights, and quantize int8 stores them quantized; put quantize int8 after the distill step$/,
    );
  });

  it('ignores top-level x-… keys, which hold YAML anchors for merge keys; other unknown top-level keys stay refused', () => {
    const file = join(t.root, 'anchors.yaml');
    writeFileSync(
      file,
      [
        'x-heads: &heads {pass: prune-heads, settings: {ratio: 0.4}}',
        'x-models: [not, a, field]',
        'models: [{path: models/tiny-sst2, tasks: [sst2]}]',
        'pipelines:',
        '  - name: heads',
        '    steps: [{<<: *heads}]',
        '  - name: heads-magnitude',
        '    steps: [{<<: *heads, settings: {ratio: 0.4, importance: magnitude}}]',
        '',
      ].join('\n'),
    );
    const spec = parseSweepFile(file);
    expect(spec.pipelines.map((p) => p.label)).toEqual(['baseline', 'heads', 'heads-magnitude']);
    const steps = spec.pipelines.map((p) => p.steps.map((s) => [s.pass, s.settings]));
    expect(steps).toEqual([[], [['prune-heads', { ratio: 0.4 }]], [['prune-heads', { ratio: 0.4, importance: 'magnitude' }]]]);
    writeFileSync(
      file,
      'defaults: &heads {pass: prune-heads}\nmodels: [{path: models/tiny-sst2, tasks: [sst2]}]\npipelines: [{name: h, steps: [{<<: *heads}]}]\n',
    );
    expect(() => parseSweepFile(file)).toThrow(
      /\/anchors\.yaml: defaults: unknown field \(known: name, .*, seed; top-level keys starting with 'x-' are ignored, to hold YAML anchors\)$/,
    );
  });

  it("reads a file merging one anchor into 101 pipelines (the parser's 100 aliases refused it as 'a resource exhaustion attack'); nested aliases past 10,000 copies refused in one line", () => {
    const file = join(t.root, 'many-aliases.yaml');
    const pipelines = Array.from({ length: 101 }, (_, i) => `  - {name: h${i}, steps: [{<<: *heads, settings: {ratio: 0.${String(i).padStart(3, '0')}}}]}`);
    writeFileSync(
      file,
      ['x-heads: &heads {pass: prune-heads}', 'models: [{path: models/tiny-sst2, tasks: [sst2]}]', 'pipelines:', ...pipelines, ''].join('\n'),
    );
    const spec = parseSweepFile(file);
    expect(spec.pipelines).toHaveLength(102);
    expect(spec.pipelines[101]!.steps).toEqual([{ pass: 'prune-heads', settings: { ratio: 0.1 } }]);
    // (five levels of ten: 100,000 copies, as a file that would expand without end is refused)
    const levels = ['x-a: &a [a, a, a, a, a, a, a, a, a, a]'];
    for (const [name, below] of [
      ['b', 'a'],
      ['c', 'b'],
      ['d', 'c'],
      ['e', 'd'],
    ])
      levels.push(`x-${name}: &${name} [${Array(10).fill(`*${below}`).join(', ')}]`);
    writeFileSync(file, [...levels, 'models: [{path: models/tiny-sst2, tasks: [sst2]}]', 'pipelines: [baseline]', ''].join('\n'));
    expect(() => parseSweepFile(file)).toThrow(
      /\/many-aliases\.yaml: its aliases expand to more than 10,000 copies of anchored values \(an alias inside an anchored value multiplies its own\): bert-compress reads no more, as a file of nested aliases could expand without end$/,
    );
  });

  it("refuses a merge key's value that is no mapping in one line naming where (the parser's 'Merge sources must be maps or map aliases' named no place)", () => {
    const file = join(t.root, 'bad-merge.yaml');
    const write = (settings: string) =>
      writeFileSync(
        file,
        `x-a: &a {ratio: 0.2}\nmodels: [{path: models/tiny-sst2, tasks: [sst2]}]\npipelines:\n  - {name: h, steps: [{pass: prune-heads, settings: ${settings}}]}\n`,
      );
    write('{<<: 5}');
    expect(() => parseSweepFile(file)).toThrow(
      /\/bad-merge\.yaml: '<<' at line 4, column 54: a merge key takes a mapping, an alias of one or a list of them, got number 5$/,
    );
    write("{<<: [*a, 'x']}");
    expect(() => parseSweepFile(file)).toThrow(/\/bad-merge\.yaml: '<<' at line 4, column 54: .*, got string "x"$/);
    write('{<<: [*a]}');
    expect(parseSweepFile(file).pipelines[1]!.steps).toEqual([{ pass: 'prune-heads', settings: { ratio: 0.2 } }]);
  });

  it('refuses a hexadecimal or octal integer (0x10, 0o17) as --seed 0x10 is refused, where YAML read 16: every number is read in decimal', () => {
    const file = join(t.root, 'hex.yaml');
    const write = (extra: string) => writeFileSync(file, `models: [{path: models/tiny-sst2, tasks: [sst2]}]\npipelines: [baseline]\n${extra}\n`);
    write('seed: 0x10');
    expect(() => parseSweepFile(file)).toThrow(/\/hex\.yaml: seed: expected an integer from 0 to 2\^53 − 1, got string "0x10"$/);
    write('bench: {repeats: 0o17}');
    expect(() => parseSweepFile(file)).toThrow(/\/hex\.yaml: bench\.repeats: expected an integer from 1 to 2\^53 − 1, got string "0o17"$/);
    // (decimal ones as before, 1e3 and +3 among them, as the flags read them)
    write('seed: 1e3\nbench: {repeats: +3}');
    expect([parseSweepFile(file).seed, parseSweepFile(file).bench.repeats]).toEqual([1000, 3]);
  });

  it("refuses a number too small to hold (bench: {threads: 1e-400}), which YAML read as 0 (one per physical core's share) unsaid, as --threads 1e-400 is refused", () => {
    const file = join(t.root, 'too-small.yaml');
    for (const [extra, what] of [
      ['bench: {threads: 1e-400}', '1e-400 at line 3, column 18'],
      ['bench: {maxTime: 5, warmup: 2e-325}', '2e-325 at line 3, column 29'],
      ['seed: !!float 0.1e-330', '0.1e-330 at line 3, column 15'],
    ] as const) {
      writeFileSync(file, `models: [{path: models/tiny-sst2, tasks: [sst2]}]\npipelines: [baseline]\n${extra}\n`);
      expect(() => parseSweepFile(file), extra).toThrow(new SettingsError(`${file}: ${what}: too small for a number to hold (it reads as 0)`));
    }
    // (0 written any way is 0)
    writeFileSync(file, 'models: [{path: models/tiny-sst2, tasks: [sst2]}]\npipelines: [baseline]\nbench: {threads: 0.0e-400}\n');
    expect(parseSweepFile(file).bench.threads).toBe(0);
  });

  it('places a refusal on the first line of a file that starts with a BOM at the column an editor shows, where it counted the BOM (a column past)', () => {
    const file = join(t.root, 'bom.yaml');
    for (const [first, what] of [
      ['seed: 1e-400', '1e-400 at line 1, column 7: too small for a number to hold (it reads as 0)'],
      [
        'seed: !!int "0x10"',
        "!!int '0x10' at line 1, column 7: !!int takes an integer written in decimal digits (bert-compress reads no hexadecimal or octal)",
      ],
      ['seed: !!timestamp 2001-01-01', 'Unresolved tag: tag:yaml.org,2002:timestamp at line 1, column 7'],
      ['x: {[a]: 1}', 'a key that is a list at line 1, column 5: keys are names'],
      // (only what the parser cannot read is not valid YAML)
      ['seed: 1\n  x: 2', 'not valid YAML: Nested mappings are not allowed in compact mappings at line 1, column 7'],
    ] as const) {
      for (const bom of ['', '\ufeff']) {
        writeFileSync(file, `${bom}${first}\nmodels: [{path: models/tiny-sst2, tasks: [sst2]}]\npipelines: [baseline]\n`);
        expect(() => parseSweepFile(file), `${JSON.stringify(bom)} ${first}`).toThrow(`${file}: ${what}`);
      }
    }
  });

  it('reads a file that says %YAML 1.1 as any other (where YAML 1.1 read 0b11 as 3, 1:30 as 90, 1_000 as 1000 and 017 as 15)', () => {
    const file = join(t.root, 'yaml11.yaml');
    const write = (extra: string) =>
      writeFileSync(file, `%YAML 1.1\n---\nmodels: [{path: models/tiny-sst2, tasks: [sst2]}]\npipelines: [baseline]\n${extra}\n`);
    for (const [extra, refusal] of [
      ['seed: 0b11', /\/yaml11\.yaml: seed: expected an integer from 0 to 2\^53 − 1, got string "0b11"$/],
      ['seed: 1:30', /\/yaml11\.yaml: seed: expected an integer from 0 to 2\^53 − 1, got string "1:30"$/],
      ['bench: {repeats: 1_000}', /\/yaml11\.yaml: bench\.repeats: expected an integer from 1 to 2\^53 − 1, got string "1_000"$/],
      ['seed: 0x10', /\/yaml11\.yaml: seed: expected an integer from 0 to 2\^53 − 1, got string "0x10"$/],
    ] as const) {
      write(extra);
      expect(() => parseSweepFile(file), extra).toThrow(refusal);
    }
    write('seed: 017');
    expect(parseSweepFile(file).seed).toBe(17);
  });

  it('refuses in one line a tag the core schema does not resolve or a directive it does not know, where the parser warned in many lines and read the value as text, a Date or a Buffer; reads !!float 3; a second document in words of the file', async () => {
    const file = join(t.root, 'tags.yaml');
    const write = (extra: string, head = '') =>
      writeFileSync(file, `${head}models: [{path: models/tiny-sst2, tasks: [sst2]}]\npipelines: [baseline]\n${extra}\n`);
    const warnings: unknown[] = [];
    const onWarning = (w: unknown) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      for (const [extra, what] of [
        ['seed: !!timestamp 2001-12-14', 'Unresolved tag: tag:yaml.org,2002:timestamp at line 3, column 7'],
        ['bench: {repeats: !!binary aGVsbG8=}', 'Unresolved tag: tag:yaml.org,2002:binary at line 3, column 18'],
        ['seed: !mine 3', 'Unresolved tag: !mine at line 3, column 7'],
      ] as const) {
        write(extra);
        expect(() => parseSweepFile(file), extra).toThrow(
          new SettingsError(`${file}: ${what} (bert-compress reads YAML 1.2's core schema, no other tags or directives)`),
        );
      }
      write('seed: 3', '%YAML 1.3\n---\n');
      expect(() => parseSweepFile(file)).toThrow(/\/tags\.yaml: Unsupported YAML version 1\.3 at line 1, column 7 \(bert-compress reads /);
      // a second document, where the parser named its API ('please use YAML.parseAllDocuments()')
      write('seed: 3\n---\nseed: 4');
      expect(() => parseSweepFile(file)).toThrow(
        new SettingsError(`${file}: a second document at line 4, column 1: the file holds one (a '---' or '...' line ends the first)`),
      );
      // the core schema's own tags, merge keys and %YAML 1.2 as before; !!float of an integer's form too (core's 3.0,
      // which the parser's float tags left unresolved)
      write('x-d: &d {repeats: 2}\nseed: !!int "3"\nbench: {<<: *d, warmup: !!int 1, maxTime: !!float 5}', '%YAML 1.2\n---\n');
      const spec = parseSweepFile(file);
      expect([spec.seed, spec.bench.repeats, spec.bench.warmup, spec.bench.maxTime]).toEqual([3, 2, 1, 5]);
      write('seed: !!float 3');
      expect(parseSweepFile(file).seed).toBe(3);
      await new Promise((r) => setImmediate(r)); // (process warnings are emitted on the next tick)
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it("refuses a core schema tag on a value it does not take as what is wrong (!!int '0x10': an integer in decimal digits), where it called the tag one the core schema does not resolve ('no other tags')", () => {
    const file = join(t.root, 'core-tags.yaml');
    for (const [extra, what] of [
      [
        'seed: !!int "0x10"',
        "!!int '0x10' at line 3, column 7: !!int takes an integer written in decimal digits (bert-compress reads no hexadecimal or octal)",
      ],
      ['seed: !!int 3.5', "!!int '3.5' at line 3, column 7: !!int takes an integer written in decimal digits (bert-compress reads no hexadecimal or octal)"],
      ['bench: {maxTime: !!float abc}', "!!float 'abc' at line 3, column 18: !!float takes a number written in decimal (3, 0.5, 1e-3) or .inf, -.inf, .nan"],
      ['keepModels: !!bool yes', "!!bool 'yes' at line 3, column 13: !!bool takes true or false"],
      ['seed: !!null x', "!!null 'x' at line 3, column 7: !!null takes null, ~ or nothing"],
      ['bench: !!seq {repeats: 2}', '!!seq on a mapping at line 3, column 8: !!seq takes a list'],
      ['bench: !!map\n  - 2', '!!map on a list at line 3, column 8: !!map takes a mapping'],
      ['name: !!str [a]', '!!str on a list at line 3, column 7: !!str takes text (no list or mapping)'],
      // (a block scalar's line break shown as \n in bash's $'…', as a shell takes it: the refusal stays one line)
      [
        'seed: !!int |\n  12x',
        "!!int $'12x\\n' at line 3, column 7: !!int takes an integer written in decimal digits (bert-compress reads no hexadecimal or octal)",
      ],
    ] as const) {
      writeFileSync(file, `models: [{path: models/tiny-sst2, tasks: [sst2]}]\npipelines: [baseline]\n${extra}\n`);
      expect(() => parseSweepFile(file), extra).toThrow(new SettingsError(`${file}: ${what}`));
    }
  });

  it('refuses a mapping key that is a list or a mapping (or an alias of one) in one line naming where, where the parser warned in many lines (Keys with collection values will be stringified) and the text it made of it was refused', async () => {
    const file = join(t.root, 'collection-keys.yaml');
    const warnings: unknown[] = [];
    const onWarning = (w: unknown) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      for (const [extra, what] of [
        ['bench: {? [repeats] : 2}', 'a key that is a list at line 3, column 11'],
        ['bench: {{repeats: 1}: 2}', 'a key that is a mapping at line 3, column 9'],
        ['x-k: &k [repeats]\nbench: {*k : 2}', 'a key that is a list at line 4, column 9'],
        ['bench:\n  ? - repeats\n  : 2', 'a key that is a list at line 4, column 5'],
      ] as const) {
        writeFileSync(file, `models: [{path: models/tiny-sst2, tasks: [sst2]}]\npipelines: [baseline]\n${extra}\n`);
        expect(() => parseSweepFile(file), extra).toThrow(new SettingsError(`${file}: ${what}: keys are names`));
      }
      // (an alias of a name is a name)
      writeFileSync(file, 'x-k: &k repeats\nmodels: [{path: models/tiny-sst2, tasks: [sst2]}]\npipelines: [baseline]\nbench: {*k : 2}\n');
      expect(parseSweepFile(file).bench.repeats).toBe(2);
      await new Promise((r) => setImmediate(r)); // (process warnings are emitted on the next tick)
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('names unreadable and malformed files', () => {
    expect(() => parseSweepFile(join(t.root, 'nope.yaml'))).toThrow(/nope\.yaml: cannot read the sweep file: no such file/);
    expect(() => parseSweepFile(t.root)).toThrow(/^\S+: a folder, not a sweep file \(give the sweep's YAML file\)$/);
    const bad = join(mkdtempSync(join(tmpdir(), 'sweep-')), 'bad.yaml');
    writeFileSync(bad, 'models: [unclosed\n');
    expect(() => parseSweepFile(bad)).toThrow(/bad\.yaml: not valid YAML: /);
    // one line, without the colon that introduced the parser's code frame
    writeFileSync(bad, 'name: x\nmodels: [\n');
    expect(() => parseSweepFile(bad)).toThrow(/bad\.yaml: not valid YAML: .* at line 3, column 1$/);
  });

  it('compress sweep --dry-run lists the points, baselines first, and runs none: no store, no work folder', async () => {
    const store = join(t.root, 'dry', 'dry.sqlite');
    const r = await runMain(['sweep', t.sweepFile, '--dry-run', '--store', store]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`sweep tiny: ${t.points} points (2 models × 8 pipelines); dry run: none run, nothing written`);
    expect(lines.slice(1, 3)).toEqual([
      expect.stringMatching(/^[0-9a-f]{12} tiny-sst2 · baseline$/),
      expect.stringMatching(/^[0-9a-f]{12} tiny-stsb · baseline$/),
    ]);
    expect(lines).toHaveLength(t.points + 1);
    expect(existsSync(join(t.root, 'dry'))).toBe(false);
  });

  it('compress sweep --dry-run refuses, in one line and creating nothing, what the run would refuse before any point: a flag combination, a work folder or store under a file', async () => {
    const file = join(t.root, 'in-the-way');
    writeFileSync(file, '');
    const dry = (...flags: string[]) => runMain(['sweep', t.sweepFile, '--dry-run', ...flags]);
    const cases: Array<[string[], RegExp, number]> = [
      [
        ['--store', join(t.root, 'dry2', 's.sqlite'), '--rerun-contended', '--jobs', '2'],
        /^compress: --rerun-contended: times contended points again alone, one at a time: give --jobs 1/,
        2,
      ],
      [['--store', join(t.root, 'dry2', 's.sqlite'), '--follow'], /^compress: --follow: follows a queued sweep; give --queue redis:\/\/HOST:PORT too$/, 2],
      // (a local sweep took the delay and never used it, as if its failed points were retried)
      [
        ['--store', join(t.root, 'dry2', 's.sqlite'), '--retry-delay', '5'],
        /^compress: --retry-delay: retries the failed points of a queued sweep; give --queue redis:\/\/HOST:PORT too \(a local sweep runs each point once\)$/,
        2,
      ],
      [
        ['--store', join(t.root, 'dry2', 's.sqlite'), '--work-dir', join(file, 'work')],
        /^compress: --work-dir \S+in-the-way\/work: \S+in-the-way is a file, not a folder$/,
        2,
      ],
      [
        ['--store', join(file, 's.sqlite'), '--work-dir', join(t.root, 'dry2', 'work')],
        /^compress: --store \S+in-the-way\/s\.sqlite: \S+in-the-way is a file, not a folder$/,
        2,
      ],
    ];
    for (const [flags, message, code] of cases) {
      const r = await dry(...flags);
      expect(r.code, flags.join(' ')).toBe(code); // (2: a usage mistake)
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
    }
    expect(existsSync(join(t.root, 'dry2'))).toBe(false);
  });

  it('compress sweep --queue URL --follow --retry-delay N warns in one line that a --follow run does not use the delay (it was taken silently), and goes on', async () => {
    // (a dry run plans without Redis: the warning comes before it, as before the run's own)
    const r = await runMain([
      'sweep',
      t.sweepFile,
      '--dry-run',
      '--store',
      join(t.root, 'dry3', 's.sqlite'),
      '--queue',
      'redis://127.0.0.1:1',
      '--follow',
      '--retry-delay',
      '5.0',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([
      'warning: --retry-delay 5.0: not used with --follow, which queues nothing; the queued points are retried after the delay of the run that queued them',
    ]);
    expect(r.stdout).toMatch(/^sweep tiny: /);
    // (without --follow the delay is used: no warning)
    const queueing = await runMain([
      'sweep',
      t.sweepFile,
      '--dry-run',
      '--store',
      join(t.root, 'dry3', 's.sqlite'),
      '--queue',
      'redis://127.0.0.1:1',
      '--retry-delay',
      '5',
    ]);
    expect(queueing.code, queueing.stderr).toBe(0);
    expect(queueing.stderr).toBe('');
  });

  it('compress sweep --dry-run plans a teacher that is not an ONNX model, leaving it to the points to report', async () => {
    const bad = join(t.root, 'models', 'not-onnx');
    mkdirSync(bad, { recursive: true });
    // field 1 with wire type 7 (there is none), and the bytes 'location'
    writeFileSync(join(bad, 'model.onnx'), Buffer.concat([Buffer.from([0x0f]), Buffer.from('location')]));
    // the model's own tokenizer and config beside it: a teacher folder without a tokenizer is the plan's to refuse
    for (const name of readdirSync(join(t.root, 'models', 'tiny-sst2'))) {
      if (!name.endsWith('.onnx')) copyFileSync(join(t.root, 'models', 'tiny-sst2', name), join(bad, name));
    }
    const file = join(t.root, 'bad-teacher.yaml');
    writeFileSync(
      file,
      'glueDir: glue\nmodels: [{path: models/tiny-sst2, tasks: [SST-2]}]\npipelines:\n  - {name: kd, steps: [{pass: distill, settings: {epochs: 1, teacher: models/not-onnx}}]}\n',
    );
    const r = await runMain(['sweep', file, '--dry-run', '--store', join(t.root, 'dry-bad.sqlite')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sweep bad-teacher: 2 points/);
  });

  it('the CLI prints an invalid sweep file as one line and exits 1', async () => {
    const bad = join(t.root, 'bad-pass.yaml');
    writeFileSync(bad, 'models: [{path: models/tiny-sst2, tasks: [SST-2]}]\npipelines:\n  - {name: x, steps: [{pass: distil, settings: {}}]}\n');
    const r = await runMain(['sweep', bad, '--store', join(t.root, 'x.sqlite')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^compress: .*bad-pass\.yaml: pipelines\[0\]\.steps\[0\]\.pass: expected one of .*, got string "distil"$/),
    ]);
  });
});

describe('point keys', () => {
  it('canonical JSON sorts keys at every level, so key order does not change the hash', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: 3 } })).toBe('{"a":{"c":3,"d":[2,{"y":2,"z":1}]},"b":1}');
    expect(hashOf({ a: 1, b: [1, 2] })).toBe(hashOf({ b: [1, 2], a: 1 }));
    expect(hashOf({ a: 1, b: [1, 2] })).not.toBe(hashOf({ a: 1, b: [2, 1] }));
  });
});
