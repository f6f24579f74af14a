/**
 * Timing of the factorize-embeddings and share-layers passes on a seeded BERT-base (110M parameters, built with
 * buildBert): one pass run each, SVD included. Standalone:
 *
 *   node bin/run-ts.mjs bench/factorize-share.ts [--ranks 64,128,256] [--run]
 *
 * `--run` also opens every output in onnxruntime and runs one batch (slower: a few seconds per model).
 * Prints one line per pass and a JSON summary.
 */
import { availableParallelism } from 'node:os';
import { buildBert } from '../src/bert/build.ts';
import { BERT_BASE } from '../src/bert/config.ts';
import { findBert } from '../src/bert/discover.ts';
import type { BertStructure } from '../src/bert/structure.ts';
import { encodeModel, modelSize, type Model } from '../src/onnx/index.ts';
import { openSession, Tensor } from '../src/runtime/session.ts';
import type { Pass, PassResult } from '../src/pass/pass.ts';
import { factorizeEmbeddingsPass } from '../src/factorize/index.ts';
import { shareLayersPass } from '../src/share/index.ts';
import { describeMachine, machineInfo } from '../src/bench/machine.ts';
import { checkFlags, wholeListArg } from './args.ts';

checkFlags('factorize-share');

interface Row {
  pass: string;
  settings: Record<string, unknown>;
  seconds: number;
  summary: string;
  modelBytesBefore: number;
  modelBytesAfter: number;
  runs?: boolean;
  details: Record<string, unknown>;
}

async function time<O>(pass: Pass<O>, model: Model, s: BertStructure, settings: Record<string, unknown>): Promise<{ r: PassResult; seconds: number }> {
  const start = performance.now();
  const r = await pass.run(model, s, pass.parse(settings), {});
  return { r, seconds: (performance.now() - start) / 1000 };
}

/** Opens the model in onnxruntime and runs a [1, 16] batch; true when logits come back finite. */
async function runs(model: Model): Promise<boolean> {
  const session = await openSession(encodeModel(model));
  try {
    const ids = BigInt64Array.from({ length: 16 }, (_, i) => BigInt(101 + i * 37));
    const ones = new BigInt64Array(16).fill(1n);
    const out = await session.run({
      input_ids: new Tensor('int64', ids, [1, 16]),
      attention_mask: new Tensor('int64', ones, [1, 16]),
      token_type_ids: new Tensor('int64', new BigInt64Array(16), [1, 16]),
    });
    return Array.from(out.logits.data as Float32Array).every(Number.isFinite);
  } finally {
    await session.release();
  }
}

async function main(): Promise<void> {
  const ranks = wholeListArg('--ranks', '64,128,256');
  const check = process.argv.includes('--run');
  const machine = machineInfo();
  console.log(`node ${process.version}; machine: ${describeMachine(machine)}`);

  let start = performance.now();
  const model = buildBert(BERT_BASE, { kind: 'random', seed: 1 });
  const size = modelSize(model);
  console.log(
    `built BERT-base: ${(size.params / 1e6).toFixed(1)}M params, ${(size.bytes / 1e6).toFixed(1)} MB in ${((performance.now() - start) / 1000).toFixed(1)} s`,
  );
  start = performance.now();
  const s = findBert(model);
  console.log(`findBert: ${s.numLayers} layers, hidden ${s.hiddenSize} in ${((performance.now() - start) / 1000).toFixed(2)} s`);

  const rows: Row[] = [];
  const record = async <O>(pass: Pass<O>, settings: Record<string, unknown>) => {
    const { r, seconds } = await time(pass, model, s, settings);
    const row: Row = {
      pass: pass.name,
      settings,
      seconds,
      summary: r.report.summary,
      modelBytesBefore: size.bytes,
      modelBytesAfter: modelSize(r.model).bytes,
      details: r.report.details ?? {},
    };
    if (check) row.runs = await runs(r.model);
    rows.push(row);
    console.log(`${pass.name} ${JSON.stringify(settings)}: ${seconds.toFixed(2)} s — ${r.report.summary}${check ? ` — runs: ${row.runs}` : ''}`);
  };
  for (const rank of ranks) await record(factorizeEmbeddingsPass, { rank });
  await record(shareLayersPass, { share: 'all', from: 'mean' });
  await record(shareLayersPass, { share: 'groups:6', from: 'layer:0' });
  await record(shareLayersPass, { share: 'groups:12', from: 'mean' });

  const slowest = Math.max(...rows.map((r) => r.seconds));
  console.log(
    JSON.stringify(
      {
        model: 'bert-base (seeded)',
        cores: availableParallelism(),
        machine,
        slowestPassSeconds: slowest,
        rows: rows.map(({ details: _d, ...r }) => r),
      },
      null,
      2,
    ),
  );
  if (slowest > 30) {
    console.error(`slowest pass took ${slowest.toFixed(1)} s (budget 30 s)`);
    process.exitCode = 1;
  }
}

await main();
