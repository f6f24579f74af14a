/**
 * Speed of each pass's output against its input, measured in the same run with interleaved repetitions, on the
 * shared SST-2 teacher (or --model). Removing heads and layers must give a speed-up; the table says how much.
 *
 *   node bin/run-ts.mjs bench/passes-speed.ts [--model PATH] [--batch 32] [--seq 64] [--rounds 9] [--threads 0]
 *   (--threads 0: one per physical core)
 */
import { resolve } from 'node:path';
import { loadModel, encodeModel, modelSize, type Model } from '../src/onnx/index.ts';
import { findBert } from '../src/bert/discover.ts';
import { sampleInputs } from '../src/bert/sample-inputs.ts';
import { registerAllPasses } from '../src/passes.ts';
import { runPipeline } from '../src/pass/pipeline.ts';
import type { PassStep } from '../src/pass/pass.ts';
import { openSession, type Feeds, type Session } from '../src/runtime/session.ts';
import { idFeeds } from '../src/runtime/feeds.ts';
import { describeMachine, machineInfo } from '../src/bench/machine.ts';
import { arg, checkFlags, wholeArg } from './args.ts';

checkFlags('passes-speed');
const modelPath = resolve(arg('--model', '../shared/teachers/sst2-L4H256/model.onnx'));
const batch = wholeArg('--batch', 32);
const seq = wholeArg('--seq', 64);
const threads = wholeArg('--threads', 0, 0);
const rounds = wholeArg('--rounds', 9);

const PIPELINES: Array<{ label: string; steps: PassStep[] }> = [
  { label: 'prune-heads 0.5', steps: [{ pass: 'prune-heads', settings: { ratio: 0.5 } }] },
  { label: 'prune-ffn 0.5', steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] },
  { label: 'keep-layers every-other', steps: [{ pass: 'drop-layers', settings: { keep: 'every-other' } }] },
  { label: 'quantize int8', steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] },
  { label: 'factorize-embeddings 64', steps: [{ pass: 'factorize-embeddings', settings: { rank: 64 } }] },
  { label: 'share-layers all', steps: [{ pass: 'share-layers', settings: { share: 'all' } }] },
  {
    label: 'heads 0.5 + ffn 0.5 + int8',
    steps: [
      { pass: 'prune-heads', settings: { ratio: 0.5 } },
      { pass: 'prune-ffn', settings: { ratio: 0.5 } },
      { pass: 'quantize', settings: { mode: 'int8' } },
    ],
  },
];

async function timeRun(s: Session, feeds: Feeds): Promise<number> {
  const t = process.hrtime.bigint();
  await s.run(feeds);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  registerAllPasses();
  const model = loadModel(modelPath);
  const s = findBert(model);
  const feeds = idFeeds(sampleInputs(model, s, { batch, seq }));
  // The two sessions alternate: no spin-waiting threads, which would slow the other one's next run.
  const base = await openSession(encodeModel(model), { threads, spinning: false });
  console.log(describeMachine(machineInfo(threads)));
  console.log(`model ${modelPath}, batch ${batch} × seq ${seq}, ${rounds} interleaved rounds (median ms), threads not spin-waiting`);
  console.log('| pipeline | weights | input ms | output ms | speed-up |');
  console.log('|---|---|---|---|---|');
  for (const p of PIPELINES) {
    let out: Model;
    try {
      out = (await runPipeline(model, p.steps)).model;
    } catch (e) {
      console.log(`| ${p.label} | failed: ${(e as Error).message.slice(0, 120)} | | | |`);
      continue;
    }
    const compressed = await openSession(encodeModel(out), { threads, spinning: false });
    await timeRun(base, feeds);
    await timeRun(compressed, feeds);
    const a: number[] = [],
      b: number[] = [];
    for (let r = 0; r < rounds; r++) {
      if (r % 2) {
        b.push(await timeRun(compressed, feeds));
        a.push(await timeRun(base, feeds));
      } else {
        a.push(await timeRun(base, feeds));
        b.push(await timeRun(compressed, feeds));
      }
    }
    await compressed.release();
    const ratio = modelSize(out).bytes / modelSize(model).bytes;
    console.log(`| ${p.label} | ${(100 * ratio).toFixed(1)}% | ${median(a).toFixed(1)} | ${median(b).toFixed(1)} | ${(median(a) / median(b)).toFixed(2)}x |`);
  }
  await base.release();
}

await main();
