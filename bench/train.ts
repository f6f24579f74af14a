/**
 * Speed of a training step (forward, backward, AdamW update with row-sparse embeddings, dropout masks, clipping)
 * against onnxruntime's forward pass of the same model, measured interleaved in the same run (each side run twice a
 * round and timed the second time, so that neither is timed while the other's threads still spin), on the shared SST-2
 * teachers' shapes (2×256 and 4×256) at batch 32 × 32 and 32 × 64; and the peak RSS of training the 4×256 shape
 * at 32 × 64. Aim: a step costs ≤ 4 forward passes (the arithmetic ratio is about 3); peak RSS < 2 GB. Then the
 * Distilled BiLSTM student at L = 32, 64, 128: its training graph's nodes, the time to a ready stepper, a step.
 *
 * With --profile, the same shapes again through onnxruntime's profiler: each node's shortest run of the rounds,
 * summed, for the training graph and the forward pass, and the step's other parts (feeds, update) at their shortest,
 * and where the training graph's time goes by op type. On a loaded machine (other processes on its cores) these sums
 * move less than the wall times, least at --threads 1 and over many rounds (at 2 threads a node waits for a thread the
 * load holds up), though they are no quiet machine's either: the 2×256 teacher's graph / forward at 32 × 32, 2 cores
 * shared with 8 other busy sessions, read 3.27 at one thread over 30 runs (load average 12), 4.04 at one thread over
 * 10 runs (load average 25) and 6.31 at two threads over 20 runs (load average 23).
 *
 *   node bin/run-ts.mjs bench/train.ts [--rounds 7] [--threads 0] [--kernel wasm|js] [--profile]   (--kernel: AdamW's update kernel)
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadModel, encodeModel } from '../src/onnx/index.ts';
import { canonicalBert } from '../src/bert/canonical.ts';
import { openSession, Tensor, type Feeds } from '../src/runtime/session.ts';
import { bertStudent, makeStudent } from '../src/train/students/index.ts';
import { createStepper, DEFAULT_TRAIN_SETTINGS, trainingGraph } from '../src/train/trainer.ts';
import type { LossTerm } from '../src/gradients/index.ts';
import type { Batch } from '../src/train/data.ts';
import { describeMachine, machineInfo } from '../src/bench/machine.ts';
import { peakRss, resetPeakRss } from '../src/bench/memory.ts';
import { dropoutMaskInto, MaskBuffers } from '../src/train/dropout.ts';
import { openModelSession } from '../src/runtime/model-session.ts';
import { isProduct, minimaByOp, minimaSum, readOrtProfile } from '../src/bench/ort-profile.ts';
import { checkFlags, choiceArg, wholeArg } from './args.ts';

checkFlags('train');
const rounds = wholeArg('--rounds', 7);
const threads = wholeArg('--threads', 0, 0);
const kernel = choiceArg('--kernel', 'wasm', ['wasm', 'js'] as const);
const profile = process.argv.includes('--profile');
const TEACHERS = ['sst2-L2H256', 'sst2-L4H256'];
const SHAPES = [
  [32, 32],
  [32, 64],
] as const;
/** The loss terms of the benchmark's steps. */
const LOSS: LossTerm[] = [
  { kind: 'hard-ce', weight: 0.5 },
  { kind: 'soft-ce', weight: 0.5, temperature: 2 },
];

function syntheticBatch(batch: number, seq: number, vocab: number, seed: number): Batch {
  let s = seed;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const n = batch * seq;
  return {
    size: batch,
    seq,
    inputIds: BigInt64Array.from({ length: n }, () => BigInt(1 + Math.floor(next() * (vocab - 1)))),
    attentionMask: new BigInt64Array(n).fill(1n),
    tokenTypeIds: new BigInt64Array(n),
    labels: Float32Array.from({ length: batch }, () => (next() < 0.5 ? 0 : 1)),
    indices: Int32Array.from({ length: batch }, (_, i) => i),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;

async function main() {
  console.log(describeMachine(machineInfo(threads)));
  console.log(
    `${rounds} interleaved rounds per shape (median ms; each side timed on the second of two runs a round); step = forward + backward + AdamW update (${kernel} kernel); its parts (graph, feeds, update) in forward passes\n`,
  );
  console.log(
    '| model | batch × seq | forward ms | step ms | step / forward | graph | feeds (dropout masks) | update (row sums, clipping, AdamW) | train ex/s | forward ex/s |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const ratios: number[] = [];
  let rss = 0;
  for (const name of TEACHERS) {
    const teacher = loadModel(resolve('../shared/teachers', name, 'model.onnx'));
    const student = bertStudent(canonicalBert(teacher), name);
    const teacherLogits = new Float32Array(32 * 2);
    for (const [batch, seq] of SHAPES) {
      const measureRss = name === 'sst2-L4H256' && seq === 64;
      if (measureRss) resetPeakRss();
      const settings = { ...DEFAULT_TRAIN_SETTINGS, threads };
      const stepper = await createStepper(
        {
          student,
          settings,
          teacherLogits,
          loss: LOSS,
        },
        kernel,
      );
      const forward = await openSession(encodeModel(student.forward(false)), { threads: threads || undefined });
      const b = syntheticBatch(batch, seq, 30522, 7);
      const feeds: Feeds = {
        input_ids: new Tensor('int64', b.inputIds, [batch, seq]),
        attention_mask: new Tensor('int64', b.attentionMask, [batch, seq]),
        token_type_ids: new Tensor('int64', b.tokenTypeIds, [batch, seq]),
      };
      // warm up both
      await forward.run(feeds);
      await stepper.step(b, 0, 1e-5);
      const f: number[] = [];
      const st: number[] = [];
      const gr: number[] = [];
      const fe: number[] = [];
      const up: number[] = [];
      // Each round runs each side twice and times the second run: the first absorbs the other session's intra-op
      // threads, which spin for a while after their run and would slow whatever runs next (interleaving single runs
      // slowed a 2×256 forward pass at 32 × 32 from ~14 to ~24 ms).
      let step = 1;
      for (let r = 0; r < rounds; r++) {
        await forward.run(feeds);
        let t = process.hrtime.bigint();
        await forward.run(feeds);
        f.push(ms(t));
        await stepper.step(b, step++, 1e-5);
        t = process.hrtime.bigint();
        await stepper.step(b, step++, 1e-5);
        st.push(ms(t));
        gr.push(stepper.lastTimings.graph);
        fe.push(stepper.lastTimings.feeds);
        up.push(stepper.lastTimings.update);
      }
      const fm = median(f);
      const sm = median(st);
      const gm = median(gr);
      ratios.push(sm / fm);
      const fwd = (x: number) => (x / fm).toFixed(2);
      console.log(
        `| ${name} | ${batch} × ${seq} | ${fm.toFixed(1)} | ${sm.toFixed(1)} | ${fwd(sm)} | ${fwd(gm)} | ${fwd(median(fe))} | ${fwd(median(up))} | ${((batch * 1000) / sm).toFixed(0)} | ${((batch * 1000) / fm).toFixed(0)} |`,
      );
      await forward.release();
      await stepper.release();
      if (measureRss) rss = peakRss();
    }
  }
  console.log(`\nworst step / forward: ${Math.max(...ratios).toFixed(2)} (aim ≤ 4)`);
  console.log(`peak RSS training 4×256 at 32 × 64: ${(rss / 2 ** 20).toFixed(0)} MiB (aim < 2048)`);
  if (profile) await profiled();
  // The masks' fill loops, interleaved: WebAssembly (what training uses) and the TypeScript reference.
  const n = 10_000_000;
  const masks = new Float32Array(n);
  const buffers = new MaskBuffers();
  const site = [{ site: 'layer.0.attention.probs', size: n }];
  dropoutMaskInto(masks, 1, 0, 'warm', 0.1);
  buffers.fill(site, 1, 0, 0.1);
  const ts: number[] = [];
  const wasm: number[] = [];
  for (let r = 0; r < 5; r++) {
    let t = process.hrtime.bigint();
    dropoutMaskInto(masks, 1, r + 1, site[0]!.site, 0.1);
    ts.push(ms(t));
    t = process.hrtime.bigint();
    buffers.fill(site, 1, r + 1, 0.1);
    wasm.push(ms(t));
  }
  const best = (xs: number[]) => Math.min(...xs);
  console.log(
    `dropout masks, 10M values into reused buffers (best of 5): WebAssembly ${best(wasm).toFixed(1)} ms, TypeScript ${best(ts).toFixed(1)} ms (×${(best(ts) / best(wasm)).toFixed(2)})`,
  );

  // The Distilled BiLSTM student (unrolled over its fixed length L): what making its training session costs (the
  // gradient graph, then onnxruntime's session creation, which grows faster than the node count) and a step.
  console.log('\n| BiLSTM student (hidden 64, embedding 64) | L | training graph nodes | stepper ready (s) | step ms (batch 32) |');
  console.log('|---|---:|---:|---:|---:|');
  const sst2 = loadModel(resolve('../shared/teachers', 'sst2-L2H256', 'model.onnx'));
  for (const L of [32, 64, 128]) {
    const { student } = makeStudent({ spec: 'bilstm:hidden=64,embedding=64', teacher: sst2, maxLength: L, seed: 1, numLabels: 2 });
    const loss: LossTerm[] = [{ kind: 'soft-ce', weight: 1, temperature: 2 }];
    const nodes = (await trainingGraph(student, loss, true)).graph.model.graph.nodes.length;
    let t = process.hrtime.bigint();
    const stepper = await createStepper({ student, settings: { ...DEFAULT_TRAIN_SETTINGS, threads }, teacherLogits: new Float32Array(32 * 2), loss }, kernel);
    const ready = ms(t) / 1000;
    const b = syntheticBatch(32, L, 30522, 11);
    await stepper.step(b, 0, 1e-5);
    const steps: number[] = [];
    for (let r = 0; r < rounds; r++) {
      t = process.hrtime.bigint();
      await stepper.step(b, r + 1, 1e-5);
      steps.push(ms(t));
    }
    console.log(`| bilstm:hidden=64,embedding=64 | ${L} | ${nodes.toLocaleString('en')} | ${ready.toFixed(1)} | ${median(steps).toFixed(1)} |`);
    await stepper.release();
  }
}

/**
 * --profile: each shape's training graph and forward pass through onnxruntime's profiler, `rounds` interleaved runs of
 * each; per node its shortest run, summed (the time between nodes left out, in both), and the step's feeds and update
 * at their shortest (wall time, one thread of JavaScript and WebAssembly).
 */
async function profiled() {
  console.log(
    `\nonnxruntime's profile, ${rounds} runs of each side per shape: per node its shortest run, summed (ms); the step's feeds and update at their shortest; products: MatMul, Gemm and their fused forms\n`,
  );
  console.log(
    "| model | batch × seq | forward | graph | graph / forward | products / forward's products | other ops / forward | feeds + update / forward | step / forward |",
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  const byOp: string[] = [];
  for (const name of TEACHERS) {
    const teacher = loadModel(resolve('../shared/teachers', name, 'model.onnx'));
    const student = bertStudent(canonicalBert(teacher), name);
    for (const [batch, seq] of SHAPES) {
      const dir = mkdtempSync(join(tmpdir(), 'bert-compress-train-profile-'));
      try {
        const settings = { ...DEFAULT_TRAIN_SETTINGS, threads };
        const stepper = await createStepper({ student, settings, teacherLogits: new Float32Array(32 * 2), loss: LOSS }, kernel, join(dir, 'graph'));
        const forward = await openModelSession(student.forward(false), { threads: threads || undefined, profilePrefix: join(dir, 'forward') });
        const b = syntheticBatch(batch, seq, 30522, 7);
        const feeds: Feeds = {
          input_ids: new Tensor('int64', b.inputIds, [batch, seq]),
          attention_mask: new Tensor('int64', b.attentionMask, [batch, seq]),
          token_type_ids: new Tensor('int64', b.tokenTypeIds, [batch, seq]),
        };
        let rest = Infinity;
        for (let r = 0; r < rounds; r++) {
          await forward.run(feeds);
          await stepper.step(b, r, 1e-5);
          rest = Math.min(rest, stepper.lastTimings.feeds + stepper.lastTimings.update);
        }
        await forward.release();
        await stepper.release();
        // (onnxruntime writes each profile as its session is released, to PREFIX_DATE.json)
        const read = (prefix: string) => readOrtProfile(join(dir, readdirSync(dir).find((f) => f.startsWith(`${prefix}_`))!));
        const f = read('forward');
        const g = read('graph');
        const fm = minimaSum(f);
        const gm = minimaSum(g);
        const other = minimaSum(g, (op) => !isProduct(op));
        console.log(
          `| ${name} | ${batch} × ${seq} | ${fm.toFixed(1)} | ${gm.toFixed(1)} | ${(gm / fm).toFixed(2)} | ${(minimaSum(g, isProduct) / minimaSum(f, isProduct)).toFixed(2)} | ${(other / fm).toFixed(2)} | ${(rest / fm).toFixed(2)} | ${((gm + rest) / fm).toFixed(2)} |`,
        );
        const ops = minimaByOp(g)
          .slice(0, 8)
          .map(([op, ms]) => `${op} ${ms.toFixed(1)}`);
        byOp.push(`${name} ${batch} × ${seq}: ${ops.join(', ')}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  console.log(`\nthe training graph by op type (ms, the largest eight):\n${byOp.join('\n')}`);
}

await main();
