/**
 * Does choosing heads by importance beat choosing them at random, on models of several shapes? For the shared
 * SST-2 teachers and for SST-2 students of two other shapes built and trained here (prediction-layer KD from the
 * 2×256 teacher, from random initialization), prune 30%, 50% and 70% of the heads by:
 * - ablation and confidence importance in steps (re-scored after each ~10% of the heads, the pass's default),
 *   ablation's loss measured against the unpruned model's predictions (the pass's default target),
 * - ablation in steps against the gold labels (Michel et al.'s loss, the default before prune-heads version 3),
 * - magnitude (no data),
 * - random (mean of 5 seeds, the control),
 * and evaluate each pruned model on SST-2 dev, in one run. Importance is measured on train examples
 * (calibration), never on the dev examples it is judged on. Trained students are kept under out/bench-heads and
 * reused by later runs (delete the folder to train them again).
 *
 *   node bin/run-ts.mjs bench/prune-importance.ts [--teachers DIR] [--glue-dir DIR] [--calibration 512] [--seeds 5]
 *     [--train-examples 20000] [--only NAME]
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadModel, encodeModel } from '../src/onnx/index.ts';
import type { Model } from '../src/onnx/graph.ts';
import { findBert } from '../src/bert/discover.ts';
import type { BertStructure } from '../src/bert/structure.ts';
import { applyHeadPruning } from '../src/prune/heads.ts';
import type { HeadImportance } from '../src/prune/head-importance.ts';
import { defaultImportanceTarget, type ImportanceTarget } from '../src/prune/settings.ts';
import { selectHeadsInSteps } from '../src/prune/head-selection.ts';
import { loadCalibration } from '../src/eval/calibration.ts';
import { evaluate } from '../src/eval/index.ts';
import { defaultGlueDir } from '../src/glue/glue-dir.ts';
import { runTraining } from '../src/train/run.ts';
import type { CalibrationSource } from '../src/pass/pass.ts';
import { arg, checkFlags, wholeArg } from './args.ts';

checkFlags('prune-importance');
const teachersDir = resolve(arg('--teachers', '../shared/teachers'));
const glueDir = resolve(arg('--glue-dir', defaultGlueDir()));
const calibrationExamples = wholeArg('--calibration', 512);
const seeds = wholeArg('--seeds', 5);
const trainExamples = wholeArg('--train-examples', 20000);
const only = arg('--only', '');
const RATIOS = [0.3, 0.5, 0.7];
const TASK = 'SST-2';

interface Subject {
  name: string;
  /** The model's folder (model.onnx, config.json, tokenizer). */
  dir: string;
  /** How it came to be. */
  origin: string;
}

/** A student of the given shape, distilled from the 2×256 teacher from random initialization (reused when present). */
async function trainedStudent(shape: { layers: number; hidden: number; heads: number; intermediate: number }): Promise<Subject> {
  const name = `L${shape.layers}H${shape.hidden}A${shape.heads}`;
  const dir = resolve('out/bench-heads', name);
  const origin = `bert:${shape.layers}×${shape.hidden}, ${shape.heads} heads, KD from sst2-L2H256 on ${trainExamples} train examples`;
  if (!existsSync(join(dir, 'model.onnx'))) {
    console.log(`training ${name} (${origin})…`);
    await runTraining({
      task: TASK,
      teacher: join(teachersDir, 'sst2-L2H256'),
      student: `bert:layers=${shape.layers},hidden=${shape.hidden},heads=${shape.heads},intermediate=${shape.intermediate}`,
      output: join(dir, 'model.onnx'),
      settings: { epochs: 1, lr: 5e-4, batchSize: 32, seed: 1 },
      distill: { alpha: 0.5, temperature: 2 },
      maxExamples: trainExamples,
      glueDir,
      cacheDir: resolve('out/bench-heads/cache'),
    });
  }
  return { name, dir, origin };
}

function heads(s: BertStructure): number {
  return s.layers.reduce((n, l) => n + (l.attention?.numHeads ?? 0), 0);
}

async function main() {
  const subjects: Subject[] = [
    { name: 'sst2-L4H256', dir: join(teachersDir, 'sst2-L4H256'), origin: 'shared teacher' },
    { name: 'sst2-L2H256', dir: join(teachersDir, 'sst2-L2H256'), origin: 'shared teacher' },
  ];
  if (!existsSync(subjects[1].dir)) {
    console.log(`skip: ${subjects[1].dir} not found (needs ../shared/teachers)`);
    return;
  }
  subjects.push(await trainedStudent({ layers: 2, hidden: 128, heads: 4, intermediate: 512 }));
  subjects.push(await trainedStudent({ layers: 3, hidden: 192, heads: 6, intermediate: 768 }));

  const summary: string[] = [];
  for (const subject of subjects) {
    if (only && subject.name !== only) continue;
    const model = loadModel(join(subject.dir, 'model.onnx'));
    const s = findBert(model);
    const accuracy = async (m: Model) => {
      const r = await evaluate({ model: encodeModel(m), tasks: [TASK], glueDir, tokenizer: subject.dir, modelConfig: subject.dir });
      return 100 * (r.tasks[0].metrics as Record<string, number>).accuracy;
    };
    const base = await accuracy(model);
    const calibration: CalibrationSource = await loadCalibration({ model: subject.dir, task: TASK, examples: calibrationExamples, glueDir });
    const total = heads(s);
    // The pass's own choice (comparable scores, steps for data-driven importance), so each column is what prune-heads does.
    const stepped = async (importance: HeadImportance, ratio: number, opts: { seed?: number; target?: ImportanceTarget } = {}) => {
      const t = performance.now();
      const target = opts.target ?? (importance === 'ablation' || importance === 'gradient' ? defaultImportanceTarget(importance) : undefined);
      const choice = await selectHeadsInSteps(model, s, { importance, ratio, target }, { calibration, seed: opts.seed }, applyHeadPruning);
      return { acc: await accuracy(applyHeadPruning(model, s, choice.drop)), seconds: (performance.now() - t) / 1000, steps: choice.steps.length };
    };
    console.log(
      `\n${subject.name} (${subject.origin}): ${s.numLayers} layers, ${total} heads, SST-2 dev ${base.toFixed(2)}; calibration ${calibrationExamples} train examples; random = mean of ${seeds} seeds`,
    );
    console.log(
      '| heads removed | ablation (steps) | ablation vs gold labels (steps) | confidence (steps) | magnitude | random (mean ± sd) | ablation − random |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    const hasConfidence = s.layers.every((l) => !l.attention || l.attention.softmax);
    for (const ratio of RATIOS) {
      const n = Math.round(ratio * total);
      const ablation = await stepped('ablation', ratio);
      const gold = await stepped('ablation', ratio, { target: 'labels' });
      const confidence = hasConfidence ? await stepped('confidence', ratio) : undefined;
      const magnitude = (await stepped('magnitude', ratio)).acc;
      const random: number[] = [];
      for (let seed = 1; seed <= seeds; seed++) random.push((await stepped('random', ratio, { seed })).acc);
      const mean = random.reduce((a, b) => a + b, 0) / random.length;
      const sd = Math.sqrt(random.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, random.length - 1));
      const cell = (r: { acc: number; steps: number } | undefined) => (r ? `${r.acc.toFixed(2)}${r.steps > 1 ? ` (${r.steps})` : ''}` : 'n/a');
      console.log(
        `| ${(ratio * 100).toFixed(0)}% (${n}) | ${cell(ablation)} | ${cell(gold)} | ${cell(confidence)} | ${magnitude.toFixed(2)} | ${mean.toFixed(2)} ± ${sd.toFixed(2)} | ${(ablation.acc - mean).toFixed(2)} |`,
      );
      summary.push(
        `${subject.name} ${(ratio * 100).toFixed(0)}%: ablation ${ablation.acc > mean ? 'beats' : 'does NOT beat'} random (${ablation.acc.toFixed(2)} vs ${mean.toFixed(2)})` +
          (confidence
            ? `; confidence ${confidence.acc > mean ? 'beats' : 'does NOT beat'} it (${confidence.acc.toFixed(2)})`
            : '; confidence: attention not exposed'),
      );
    }
  }
  console.log(`\n${summary.join('\n')}`);
}

await main();
