/**
 * Does choosing heads by importance beat choosing them at random? For each shared teacher and each ratio from 20%
 * to 60%, prune heads by ablation, confidence, magnitude and random (mean of several seeds) importance and
 * evaluate the pruned model on its GLUE dev task, in one run.
 *
 *   node bin/run-ts.mjs bench/prune-importance.ts [--teachers DIR] [--glue-dir DIR] [--calibration 1024] [--seeds 3]
 *
 * Importance is computed on the task's train split (calibration), never on the dev split it is judged on.
 */
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { loadModel, encodeModel } from '../src/onnx/index.ts';
import { findBert } from '../src/bert/discover.ts';
import { applyHeadPruning, selectHeads } from '../src/prune/heads.ts';
import { headScores, normalizePerLayer, type HeadImportance } from '../src/prune/head-importance.ts';
import { loadCalibration } from '../src/eval/calibration.ts';
import { evaluate } from '../src/eval/index.ts';
import { defaultGlueDir } from '../src/glue/glue-dir.ts';

const arg = (flag: string, fallback: string) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const teachersDir = resolve(arg('--teachers', '../shared/teachers'));
const glueDir = resolve(arg('--glue-dir', defaultGlueDir()));
const calibrationExamples = Number(arg('--calibration', '1024'));
const seeds = Number(arg('--seeds', '3'));
const RATIOS = [0.2, 0.3, 0.4, 0.5, 0.6];
const TEACHERS = [
  { dir: 'sst2-L4H256', task: 'SST-2' },
  { dir: 'stsb-L4H256', task: 'STS-B' },
];

function mainMetric(metrics: Record<string, number>): number {
  const v = Object.values(metrics);
  return v.reduce((a, b) => a + b, 0) / v.length;
}

async function main() {
  for (const t of TEACHERS) {
    const dir = join(teachersDir, t.dir);
    if (!existsSync(dir)) {
      console.log(`skip ${dir}: not found`);
      continue;
    }
    const model = loadModel(join(dir, 'model.onnx'));
    const s = findBert(model);
    const score = async (bytes: Uint8Array) => {
      const r = await evaluate({ model: bytes, tasks: [t.task], glueDir, tokenizer: dir, modelConfig: dir });
      return mainMetric(r.tasks[0].metrics as Record<string, number>);
    };
    const base = await score(encodeModel(model));
    const calibration = await loadCalibration({ model: dir, task: t.task, examples: calibrationExamples, glueDir });
    const methods: HeadImportance[] = ['ablation', 'confidence', 'magnitude'];
    const scores = new Map<string, number[][]>();
    for (const m of methods) scores.set(m, normalizePerLayer(await headScores(m, model, s, { calibration })));
    const rows: string[] = [];
    const wins = { ablation: 0, total: 0 };
    for (const ratio of RATIOS) {
      const cells: Record<string, number> = {};
      for (const m of methods) cells[m] = await score(encodeModel(applyHeadPruning(model, s, selectHeads(scores.get(m)!, ratio))));
      let rnd = 0;
      for (let seed = 1; seed <= seeds; seed++) {
        rnd += await score(encodeModel(applyHeadPruning(model, s, selectHeads(await headScores('random', model, s, { seed }), ratio))));
      }
      cells.random = rnd / seeds;
      wins.total++;
      if (cells.ablation > cells.random) wins.ablation++;
      rows.push(`| ${(ratio * 100).toFixed(0)}% | ${Math.round(ratio * s.layers.reduce((n, l) => n + (l.attention?.numHeads ?? 0), 0))} | ${['ablation', 'confidence', 'magnitude', 'random'].map((m) => (100 * cells[m]).toFixed(2)).join(' | ')} |`);
    }
    console.log(`\n${t.task} teacher ${t.dir}: baseline ${(100 * base).toFixed(2)} (dev; metric mean ×100; random = mean of ${seeds} seeds; calibration ${calibrationExamples} train examples)`);
    console.log('| heads removed | count | ablation | confidence | magnitude | random |');
    console.log('|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
    console.log(`ablation beats random at ${wins.ablation} of ${wins.total} ratios`);
  }
}

await main();
