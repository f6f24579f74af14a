/**
 * Time of every single pass on a built BERT-base (12 × 768, 110M parameters) on this machine: the target is under
 * 30 s each, SVD included. Data-free settings (magnitude importance), so the time is the pass's own.
 *
 *   node bin/run-ts.mjs bench/passes-base.ts
 */
import { buildBert } from '../src/bert/build.ts';
import { BERT_BASE } from '../src/bert/config.ts';
import { findBert } from '../src/bert/discover.ts';
import { modelSize } from '../src/onnx/index.ts';
import { registerAllPasses } from '../src/passes.ts';
import { getPass } from '../src/pass/registry.ts';
import type { PassStep } from '../src/pass/pass.ts';
import { describeMachine, machineInfo } from '../src/bench/machine.ts';
import { checkFlags } from './args.ts';

checkFlags('passes-base');

const STEPS: PassStep[] = [
  { pass: 'prune-heads', settings: { ratio: 0.4, importance: 'magnitude' } },
  { pass: 'prune-ffn', settings: { ratio: 0.4 } },
  { pass: 'drop-layers', settings: { keep: 'every-other' } },
  { pass: 'quantize', settings: { mode: 'int8' } },
  { pass: 'quantize', settings: { mode: 'int4-block:32' } },
  { pass: 'factorize-embeddings', settings: { rank: 128 } },
  { pass: 'share-layers', settings: { share: 'all' } },
];

async function main() {
  registerAllPasses();
  console.log(`machine: ${describeMachine(machineInfo())}`);
  let t = performance.now();
  const model = buildBert({ ...BERT_BASE, numLabels: 2 }, { kind: 'random', seed: 1 });
  console.log(`built BERT-base: ${modelSize(model).params.toLocaleString('en')} params in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  const s = findBert(model);
  console.log(`discovery: ${((performance.now() - t) / 1000).toFixed(2)} s`);
  console.log('| pass | settings | seconds | weights after | target < 30 s |');
  console.log('|---|---|---|---|---|');
  for (const step of STEPS) {
    const pass = getPass(step.pass);
    t = performance.now();
    const res = await pass.run(model, s, pass.parse(step.settings), {});
    const sec = (performance.now() - t) / 1000;
    const ratio = modelSize(res.model).bytes / modelSize(model).bytes;
    console.log(`| ${step.pass} | ${JSON.stringify(step.settings)} | ${sec.toFixed(1)} | ${(100 * ratio).toFixed(1)}% | ${sec < 30 ? 'PASS' : 'FAIL'} |`);
  }
}

await main();
