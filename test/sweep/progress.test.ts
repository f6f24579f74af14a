import { describe, expect, it } from 'vitest';
import { BestTracker, createSweepProgress, planLine, pointLine, stoppedTrainingNote } from '../../src/sweep/progress.ts';
import type { SweepSpec } from '../../src/sweep/spec.ts';
import type { SweepPoint } from '../../src/sweep/plan.ts';
import type { PointResult } from '../../src/sweep/point.ts';

const point = (model: string, label: string): SweepPoint => ({
  key: `${model}-${label}`,
  toolVersion: '0',
  versions: { tool: '0', passes: {} },
  sweep: 's',
  model: { name: model, onnx: '', dir: '', sha256: '' },
  label,
  steps: label === 'baseline' ? [] : [{ pass: 'prune-heads', settings: { ratio: 0.4 } }],
  tasks: ['SST-2'],
  calibration: null,
  bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
  eval: {},
  glueDir: '',
  outputDir: null,
  keepModel: false,
});
const result = (glue: number | null, bytes: number, speedup = 1, undefinedWhy?: string): PointResult =>
  ({
    glue,
    bytes,
    speedup,
    eval: undefinedWhy ? { glueScoreUndefined: undefinedWhy } : {},
    seconds: { total: 2, compress: 0, eval: 1, bench: 1 },
  }) as PointResult;

describe('sweep progress', () => {
  it("counts the model × pipeline pairs that pipelines' models lists leave out in words that fit the count", () => {
    const spec = (models: number, pipelines: number) => ({ name: 'my-sweep', models: Array(models).fill(0), pipelines: Array(pipelines).fill(0) });
    // The README's sweep file: 2 models × 6 pipelines, one pipeline for one model only.
    expect(planLine(spec(2, 6), 11)).toBe("sweep my-sweep: 11 points (2 models × 6 pipelines; 1 model × pipeline pair left out by a pipeline's models list)");
    expect(planLine(spec(2, 6), 10)).toBe("sweep my-sweep: 10 points (2 models × 6 pipelines; 2 model × pipeline pairs left out by pipelines' models lists)");
    expect(planLine(spec(2, 8), 16)).toBe('sweep my-sweep: 16 points (2 models × 8 pipelines)');
  });

  it('the best variant keeps the largest share of its own baseline GLUE score, ties going to the smaller', () => {
    const best = new BestTracker();
    expect(best.describe()).toBe('-');
    best.add(point('sst2', 'baseline'), result(0.8, 40e6));
    best.add(point('stsb', 'baseline'), result(0.2, 40e6));
    best.add(point('sst2', 'heads'), result(0.76, 30e6)); // 95%
    expect(best.describe()).toBe('sst2 heads: 95.0% of GLUE at 30.0 MB');
    best.add(point('stsb', 'int8'), result(0.198, 10e6)); // 99%: a different task, compared by share kept
    best.add(point('sst2', 'ffn'), result(0.792, 35e6)); // 99% too, but larger
    expect(best.describe()).toBe('stsb int8: 99.0% of GLUE at 10.0 MB');
    best.add(point('sst2', 'broken'), result(null, 1e6));
    expect(best.describe()).toBe('stsb int8: 99.0% of GLUE at 10.0 MB');
  });

  it('prints one line per finished point relative to its baseline', () => {
    expect(pointLine(point('sst2', 'heads'), result(0.76, 30e6, 1.25), result(0.8, 40e6))).toBe(
      'sst2 · heads: GLUE 76.00 (95.0%), 30.0 MB (75.0%), ×1.25, 2.0 s',
    );
    expect(pointLine(point('sst2', 'baseline'), result(0.8, 40e6), undefined)).toBe('sst2 · baseline: GLUE 80.00, 40.0 MB, ×1.00, 2.0 s');
  });

  it('marks a speed-up timed while the machine was shared † as the report does, in the line a sweep prints', () => {
    const timed = (exclusive: boolean) => ({ ...result(0.76, 30e6, 52.16), bench: { timing: { exclusive, reason: 'busy' } } }) as unknown as PointResult;
    expect(pointLine(point('sst2', 'heads'), timed(false), result(0.8, 40e6))).toBe('sst2 · heads: GLUE 76.00 (95.0%), 30.0 MB (75.0%), ×52.16†, 2.0 s');
    expect(pointLine(point('sst2', 'heads'), timed(true), result(0.8, 40e6))).toBe('sst2 · heads: GLUE 76.00 (95.0%), 30.0 MB (75.0%), ×52.16, 2.0 s');
    const lines: string[] = [];
    const progress = createSweepProgress({ isTTY: false, write: (line: string) => lines.push(line) } as unknown as NodeJS.WriteStream);
    const p = point('sst2', 'heads');
    progress.listener({
      type: 'plan',
      spec: { name: 's', models: [{}], pipelines: [{}] },
      points: [p],
      previous: new Map(),
      staleKept: 0,
      recomputing: 0,
    } as never);
    progress.listener({ type: 'finished', point: p, result: timed(false) });
    expect(lines[1]).toBe('[1/1] sst2 · heads: GLUE 76.00, 30.0 MB, ×52.16†, 2.0 s\n');
  });

  it("compares a variant evaluated at another max length (a distill step's maxLength) with no baseline, as the report does", () => {
    const at = (r: PointResult, maxLength: number) => ({ ...r, eval: { ...r.eval, maxLength } }) as PointResult;
    expect(pointLine(point('sst2', 'distil'), at(result(0.76, 30e6, 1.25), 32), at(result(0.8, 40e6), 128))).toBe(
      'sst2 · distil: GLUE 76.00, 30.0 MB, ×1.25, 2.0 s',
    );
    expect(pointLine(point('sst2', 'distil'), at(result(0.76, 30e6, 1.25), 128), at(result(0.8, 40e6), 128))).toBe(
      'sst2 · distil: GLUE 76.00 (95.0%), 30.0 MB (75.0%), ×1.25, 2.0 s',
    );
    const best = new BestTracker();
    best.add(point('sst2', 'baseline'), at(result(0.8, 40e6), 128));
    best.add(point('sst2', 'distil'), at(result(0.84, 30e6), 32));
    expect(best.describe()).toBe('-');
  });

  it('gives no share of a baseline scoring 0 or below (a CoLA MCC), as the report leaves % of original out', () => {
    expect(pointLine(point('cola', 'heads'), result(0.0392, 30e6, 1.25), result(-0.0309, 40e6))).toBe('cola · heads: GLUE 3.92, 30.0 MB (75.0%), ×1.25, 2.0 s');
    expect(pointLine(point('cola', 'heads'), result(0.05, 30e6, 1.25), result(0, 40e6))).toBe('cola · heads: GLUE 5.00, 30.0 MB (75.0%), ×1.25, 2.0 s');
  });

  it('shows a GLUE score that could not be computed (Pearson of constant STS-B predictions: NaN) as -, as the report does, and never as the best', () => {
    expect(pointLine(point('stsb', 'broken'), result(NaN, 30e6, 1.25), result(0.2, 40e6))).toBe('stsb · broken: GLUE -, 30.0 MB (75.0%), ×1.25, 2.0 s');
    const why = 'STS-B: Pearson and Spearman undefined (constant predictions)';
    expect(pointLine(point('stsb', 'constant'), result(null, 30e6, 1.25, why), result(0.2, 40e6))).toBe(
      `stsb · constant: GLUE undefined (${why}), 30.0 MB (75.0%), ×1.25, 2.0 s`,
    );
    expect(pointLine(point('stsb', 'int8'), result(0.19, 30e6, 1.25), result(NaN, 40e6))).toBe('stsb · int8: GLUE 19.00, 30.0 MB (75.0%), ×1.25, 2.0 s');
    const best = new BestTracker();
    best.add(point('stsb', 'baseline'), result(0.2, 40e6));
    best.add(point('stsb', 'broken'), result(NaN, 1e6));
    expect(best.describe()).toBe('-');
    best.add(point('stsb', 'int8'), result(0.19, 10e6));
    expect(best.describe()).toBe('stsb int8: 95.0% of GLUE at 10.0 MB');
  });

  /** A progress writer to a non-TTY stream, its lines, and a one-model sweep of three pipelines. */
  const logged = (labels: string[]) => {
    const lines: string[] = [];
    const stream = { isTTY: false, write: (t: string) => lines.push(t.trimEnd()) } as unknown as NodeJS.WriteStream;
    const spec = { name: 's', models: [{}], pipelines: labels.map(() => ({})) } as unknown as SweepSpec;
    return { lines, listener: createSweepProgress(stream).listener, spec, points: labels.map((l) => point('sst2', l)) };
  };

  it('numbers failed points with the finished ones, so the count reaches the total', () => {
    const { lines, listener, spec, points } = logged(['baseline', 'heads', 'broken']);
    listener({ type: 'plan', spec, points, previous: new Map(), staleKept: 0 });
    listener({ type: 'finished', point: points[0]!, result: result(0.8, 40e6) });
    listener({ type: 'failed', point: points[2]!, error: 'rank 64 is not below the hidden width' });
    listener({ type: 'finished', point: points[1]!, result: result(0.76, 30e6) });
    expect(lines.slice(1).map((l) => l.slice(0, 6))).toEqual(['[1/3] ', '[2/3] ', '[3/3] ']);
    expect(lines[2]).toBe('[2/3] FAILED sst2 · broken: rank 64 is not below the hidden width');
  });

  it('counts stale results kept apart from those already in the store, as the summary does', () => {
    const { lines, listener, spec, points } = logged(['baseline', 'heads', 'int8']);
    const previous = new Map(points.map((p) => [p.key, result(0.8, 40e6)]));
    listener({ type: 'plan', spec, points, previous, staleKept: 2 });
    expect(lines[0]).toBe('sweep s: 3 points (1 model × 3 pipelines), 1 already in the store, 2 stale (kept)');
  });

  it("shows, of the points' own log, only where a training step stopped or resumed from its checkpoint", () => {
    const { lines, listener, spec, points } = logged(['baseline', 'kd']);
    listener({ type: 'plan', spec, points, previous: new Map(), staleKept: 0 });
    for (const line of [
      'prune-ffn: running',
      'epoch 1: loss 0.5981, dev SST-2 90.63',
      'resuming from step 52 (epoch 1)',
      'interrupted at step 60; rerun the same command',
    ])
      listener({ type: 'log', line });
    expect(lines.slice(1)).toEqual(['resuming from step 52 (epoch 1)', 'interrupted at step 60; rerun the same command']);
  });

  it('names the point of a shown line of its own log (several run at once with --jobs N)', () => {
    const { lines, listener, spec, points } = logged(['baseline', 'kd']);
    listener({ type: 'plan', spec, points, previous: new Map(), staleKept: 0 });
    listener({ type: 'log', line: 'epoch 1: loss 0.5981', point: points[1]! });
    listener({ type: 'log', line: 'resuming from step 52 (epoch 1)', point: points[1]! });
    expect(lines.slice(1)).toEqual(['sst2 · kd: resuming from step 52 (epoch 1)']);
  });
});

describe("the sweep's closing line after a stop, on its training steps", () => {
  it('says a checkpoint is resumed only where a step stopped in its loop, and that one stopped before its first step computes its teacher outputs again', () => {
    const teacher = { recomputes: "the teacher's outputs" };
    // (Ctrl-C while the teacher's logits were cached: no checkpoint exists, so none is resumed)
    expect(stoppedTrainingNote([teacher])).toBe(" (a training step stopped before its first checkpoint computes the teacher's outputs again)");
    expect(stoppedTrainingNote([teacher])).not.toMatch(/resumes from its checkpoint/);
    expect(stoppedTrainingNote([{ checkpoint: true }])).toBe(' (a training step resumes from its checkpoint)');
    expect(stoppedTrainingNote([{ checkpoint: true }, teacher, { recomputes: 'the augmented examples' }, teacher])).toBe(
      " (a training step resumes from its checkpoint; a training step stopped before its first checkpoint computes the teacher's outputs and the augmented examples again)",
    );
    // (a stop in a point's passes, eval or benchmark: nothing on training)
    expect(stoppedTrainingNote([])).toBe('');
  });
});
