/** `compress passes [--json]`: the passes, their versions, flags and settings, as the declarations give them. */
import { describe, expect, it } from 'vitest';
import { PASS_DECLARATIONS } from '../../src/pass-declarations.ts';
import type { PassDescription } from '../../src/pass/describe.ts';
import { trainingStepKeys } from '../../src/sweep/train-step.ts';
import { TRAINING_VERSIONS } from '../../src/train/versions.ts';
import { parseMode } from '../../src/quantize/settings.ts';
import { runMain } from '../helpers/cli.ts';

const run = (...args: string[]) => runMain(args);

describe('compress passes', () => {
  it('--json lists every pass with its version, flags and settings', async () => {
    const r = await run('passes', '--json');
    expect(r.code, r.stderr).toBe(0);
    const passes = JSON.parse(r.stdout) as PassDescription[];
    expect(passes.map((p) => [p.name, p.version])).toEqual(PASS_DECLARATIONS.map((d) => [d.name, d.version]));
    for (const [i, p] of passes.entries()) {
      const d = PASS_DECLARATIONS[i]!;
      expect(p.settings.map((s) => s.name)).toEqual(Object.keys(d.settings.shape));
      expect(p.flags.map((f) => f.flag)).toEqual([...d.flags.adds, ...d.flags.modifiers].map((f) => `--${f.flag}`));
    }
    const importance = passes.find((p) => p.name === 'prune-heads')!.settings.find((s) => s.name === 'importance')!;
    expect(importance).toMatchObject({ default: 'magnitude', flags: ['--importance'], type: 'ablation | gradient | confidence | magnitude | random' });
    const quantize = passes.find((p) => p.name === 'quantize')!;
    expect(quantize.settings.find((s) => s.name === 'reduceRange')).toMatchObject({ flags: ['--quantize-reduce-range'], type: 'boolean', required: false });
    expect(quantize.flags.find((f) => f.flag === '--quantize-reduce-range')).toMatchObject({ addsPass: false, type: 'boolean', setting: 'reduceRange' });
    expect(quantize.flags.find((f) => f.flag === '--quantize-reduce-range')!.help).toMatch(/\[-64, 64\].*VNNI.*default false/);
    // mixed:BUDGET says what BUDGET takes, and each form it names parses
    expect(quantize.settings.find((s) => s.name === 'mode')!.description).toMatch(
      /BUDGET: a fraction 0\.25, a percentage 25% or a size 12mb of the float weights/,
    );
    for (const budget of ['0.25', '25%', '12mb']) expect(parseMode(`mixed:${budget}`).kind).toBe('mixed');
    const calibration = quantize.settings.find((s) => s.name === 'calibration')!;
    expect(calibration).toMatchObject({ default: 'minmax', flags: ['--calibration-method'], type: 'minmax | percentile[:P] | entropy[:BINS]' });
    expect(calibration.description).toMatch(/entropy: onnxruntime's KL-divergence .* default 128/);
    // percentile is onnxruntime's asymmetric range, not its default (symmetric ±the P-th percentile of |x|)
    expect(calibration.description).toMatch(
      /percentile .*onnxruntime's asymmetric percentile range, its CalibTensorRangeSymmetric False, where its default takes ±the P-th percentile of \|x\|/,
    );
  });

  it('prints each pass, its flags and its settings as text', async () => {
    const r = await run('passes');
    expect(r.code, r.stderr).toBe(0);
    for (const d of PASS_DECLARATIONS) {
      expect(r.stdout).toContain(`${d.name} (version ${d.version})`);
      for (const f of d.flags.adds) expect(r.stdout).toContain(`--${f.flag}`);
      for (const key of Object.keys(d.settings.shape)) expect(r.stdout).toMatch(new RegExp(`^  ${key} `, 'm'));
    }
  });

  it('lists the training steps of sweep files with their versions and the flag each setting is the value of; every flag is one the command has', async () => {
    const text = (await run('passes')).stdout;
    for (const kind of ['train', 'distill'] as const) {
      // (by the kind of student, as a point's key holds them: not the highest alone, which BERT points are not keyed by)
      const { bert, bilstm } = TRAINING_VERSIONS[kind];
      const line = new RegExp(`^  ${kind} \\(versions: BERT students ${bert}, Distilled BiLSTM students ${bilstm}\\): (.*)$`, 'm').exec(text)?.[1];
      expect(line, kind).toBeDefined();
      const keys = trainingStepKeys(kind);
      expect(line!.split(', ').map((s) => s.split(' ')[0])).toEqual(keys);
      const help = (await run(kind, '--help')).stdout;
      for (const flag of line!.match(/--[a-z-]+/g)!) expect(help, `${kind} ${flag}`).toMatch(new RegExp(`^\\s+${flag}\\b`, 'm'));
    }
    expect(text).toContain('temperature (--temperature)');
    expect(text).toContain('maxGradNorm (--clip)');
  });
});
