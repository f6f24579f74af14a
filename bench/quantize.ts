/**
 * What quantization costs and buys on the shared teachers (SST-2 and STS-B): for each mode, the GLUE dev metric
 * before and after (the issue asks int8 per-channel with embeddings to lose at most 1 point), how often the
 * quantized model's predictions agree with fp32, the file size ratio, and onnxruntime run time of fp32 vs quantized
 * on the same dev batches, interleaved so both see the same machine load.
 *
 *   node bin/run-ts.mjs bench/quantize.ts [--teachers DIR] [--glue-dir DIR] [--modes int8,int4-block:32,…]
 *       [--calibration 256] [--speed-batches 8] [--rounds 5] [--threads N] [--json FILE]
 *
 * Calibrating modes (int8-static, mixed:…) take their calibration examples from the task's train split, never
 * from the dev split they are judged on.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { encodeModel, loadModel, modelSize, type Model } from '../src/onnx/index.ts';
import { findBert } from '../src/bert/discover.ts';
import { defaultThreads, openSession, runtimeVersion, type Feeds, type Session } from '../src/runtime/session.ts';
import { prepareTask, scoreTask, readModelConfig, loadTokenizer, type PreparedTask, type TaskResult } from '../src/eval/index.ts';
import { loadCalibration } from '../src/eval/calibration.ts';
import { buildFeeds, planBatches } from '../src/eval/batching.ts';
import { sessionInputs } from '../src/bert/model-inputs.ts';
import { defaultGlueDir } from '../src/glue/glue-dir.ts';
import { getTask } from '../src/glue/registry.ts';
import type { CalibrationSource } from '../src/pass/pass.ts';
import { quantizePass } from '../src/quantize/index.ts';
import { pearsonR } from '../src/eval/metrics/pearson.ts';
import { describeMachine, machineInfo } from '../src/bench/machine.ts';
import { arg, checkFlags, wholeArg } from './args.ts';

checkFlags('quantize');
const teachersDir = resolve(arg('--teachers', '../shared/teachers'));
const glueDir = resolve(arg('--glue-dir', defaultGlueDir()));
const modes = arg('--modes', 'int8,int8:per-tensor,int8-group:64,int8-static,int4-block:32,mixed:0.24').split(',').filter(Boolean);
const calibrationExamples = wholeArg('--calibration', 256);
const speedBatches = wholeArg('--speed-batches', 8);
const rounds = wholeArg('--rounds', 5);
const threads = wholeArg('--threads', 0, 0);
const jsonOut = arg('--json', '');

const TEACHERS = [
  { dir: 'sst2-L4H256', task: 'SST-2' },
  { dir: 'stsb-L4H256', task: 'STS-B' },
];

interface Row {
  teacher: string;
  mode: string;
  metrics: Record<string, number>;
  /** Change of the main metric in GLUE points (100 × fraction). */
  deltaPoints: number;
  /** Classification: share of dev predictions equal to fp32's; regression: Pearson r with fp32's predictions. */
  agreement: number;
  fileRatio: number;
  bytesRatio: number;
  /** Median ms per round over the speed batches, fp32 and quantized, and fp32 / quantized. */
  fp32Ms: number;
  quantizedMs: number;
  speedup: number;
  summary: string;
  /** mixed: bits per encoder layer. */
  layerBits?: number[];
  seconds: number;
}

/** Mode strings of this bench: a pass mode, optionally ':per-tensor' (perChannel false) or ':no-emb'. */
function settingsOf(spec: string): Record<string, unknown> {
  const parts = spec.split(':');
  const flags = new Set<string>(parts.filter((p) => p === 'per-tensor' || p === 'no-emb'));
  const mode = parts.filter((p) => !flags.has(p)).join(':');
  return { mode, ...(flags.has('per-tensor') ? { perChannel: false } : {}), ...(flags.has('no-emb') ? { embeddings: false } : {}) };
}

function mainMetric(metrics: Record<string, number>): number {
  const v = Object.values(metrics);
  return v.reduce((a, b) => a + b, 0) / v.length;
}

function agreement(regression: boolean, a: TaskResult, b: TaskResult): number {
  if (regression) return pearsonR(a.predictions, b.predictions);
  let same = 0;
  for (let i = 0; i < a.predictions.length; i++) if (a.predictions[i] === b.predictions[i]) same++;
  return same / a.predictions.length;
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];

/** Median time of one pass over `feeds` for each session, runs interleaved (a, b, a, b, …) after a warm-up. */
async function interleavedTimes(a: Session, b: Session, feeds: Feeds[]): Promise<[number, number]> {
  for (const f of feeds.slice(0, 2)) await a.run(f), await b.run(f);
  const ta: number[] = [],
    tb: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let sa = 0,
      sb = 0;
    for (const f of feeds) {
      let t = performance.now();
      await a.run(f);
      sa += performance.now() - t;
      t = performance.now();
      await b.run(f);
      sb += performance.now() - t;
    }
    ta.push(sa);
    tb.push(sb);
  }
  return [median(ta), median(tb)];
}

function speedFeeds(session: Session, prepared: PreparedTask): Feeds[] {
  const inputs = sessionInputs(session);
  const batches = planBatches(
    prepared.encodings.map((e) => e.ids.length),
    32,
  );
  // Spread the timed batches over the length range (batches are sorted longest first).
  const step = Math.max(1, Math.floor(batches.length / speedBatches));
  return batches
    .filter((_, i) => i % step === 0)
    .slice(0, speedBatches)
    .map((ix) => buildFeeds(prepared.encodings, ix, inputs, prepared.padId));
}

async function benchTeacher(t: { dir: string; task: string }): Promise<Row[]> {
  const dir = join(teachersDir, t.dir);
  const model: Model = loadModel(join(dir, 'model.onnx'));
  const s = findBert(model);
  const task = getTask(t.task);
  const config = readModelConfig(dir);
  const tokenizer = loadTokenizer(dir);
  const prepared = prepareTask(task, 'dev', glueDir, tokenizer, config.maxLength ?? 128);
  // fp32 and each quantized model are timed in alternation: no spin-waiting threads (see RuntimeOptions.spinning).
  const opts = { ...(threads > 0 ? { threads } : {}), spinning: false };
  const fp32Bytes = encodeModel(model);
  const fp32 = await openSession(fp32Bytes, opts);
  const base = await scoreTask(fp32, prepared, { modelConfig: config });
  const baseMain = mainMetric(base.metrics as Record<string, number>);
  console.log(`\n${t.dir} (${task.name} dev, ${base.examples} examples): fp32 ${JSON.stringify(base.metrics)}, ${(fp32Bytes.length / 1e6).toFixed(1)} MB`);
  const feeds = speedFeeds(fp32, prepared);
  let calibration: CalibrationSource | undefined;
  const rows: Row[] = [];
  for (const spec of modes) {
    const settings = settingsOf(spec);
    const options = quantizePass.parse(settings);
    if ((options.mode.kind === 'int8-static' || options.mode.kind === 'mixed') && !calibration) {
      calibration = await loadCalibration({ model: dir, task: t.task, examples: calibrationExamples, glueDir });
    }
    const start = performance.now();
    const { model: q, report } = await quantizePass.run(model, s, options, { calibration });
    const seconds = (performance.now() - start) / 1000;
    const bytes = encodeModel(q);
    const session = await openSession(bytes, opts);
    const result = await scoreTask(session, prepared, { modelConfig: config });
    const [fp32Ms, quantizedMs] = await interleavedTimes(fp32, session, feeds);
    await session.release();
    const metrics = result.metrics as Record<string, number>;
    const row: Row = {
      teacher: t.dir,
      mode: spec,
      metrics,
      deltaPoints: 100 * (mainMetric(metrics) - baseMain),
      agreement: agreement(task.regression, base, result),
      fileRatio: bytes.length / fp32Bytes.length,
      bytesRatio: modelSize(q).bytes / modelSize(model).bytes,
      fp32Ms,
      quantizedMs,
      speedup: fp32Ms / quantizedMs,
      summary: report.summary,
      seconds,
    };
    const layers = (report.details as { layers?: Array<{ bits: number }> }).layers;
    if (layers) row.layerBits = layers.map((l) => l.bits);
    rows.push(row);
    const m = Object.entries(metrics)
      .map(([k, v]) => `${k} ${v.toFixed(4)}`)
      .join(', ');
    console.log(
      `  ${spec.padEnd(20)} ${m} (${row.deltaPoints >= 0 ? '+' : ''}${row.deltaPoints.toFixed(2)} pt) | agreement ${row.agreement.toFixed(4)} | file ${(100 * row.fileRatio).toFixed(1)}% | ` +
        `${fp32Ms.toFixed(0)} → ${quantizedMs.toFixed(0)} ms (${row.speedup.toFixed(2)}×) | quantized in ${seconds.toFixed(1)} s` +
        (row.layerBits ? ` | layer bits ${row.layerBits.join('/')}` : ''),
    );
  }
  await fp32.release();
  return rows;
}

async function main(): Promise<void> {
  console.log(
    `onnxruntime-node ${runtimeVersion()}, modes ${modes.join(', ')}, speed: ${speedBatches} dev batches of 32 × ${rounds} rounds, threads ${threads || `${defaultThreads()} (one per physical core)`}`,
  );
  // int8 speed depends on the CPU's AVX-512 and VNNI: every speed-up below is this machine's
  const machine = machineInfo(threads);
  console.log(`machine: ${describeMachine(machine)}`);
  const all: Row[] = [];
  for (const t of TEACHERS) {
    if (!existsSync(join(teachersDir, t.dir, 'model.onnx'))) {
      console.log(`skip ${t.dir}: not found in ${teachersDir}`);
      continue;
    }
    all.push(...(await benchTeacher(t)));
  }
  const int8 = all.filter((r) => r.mode === 'int8');
  if (int8.length) {
    const worst = Math.min(...int8.map((r) => r.deltaPoints));
    console.log(`\nint8 per-channel with int8 embeddings: worst dev metric change ${worst.toFixed(2)} points (limit -1): ${worst >= -1 ? 'PASS' : 'FAIL'}`);
  }
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ runtime: runtimeVersion(), machine, rows: all }, null, 2));
}

await main();
