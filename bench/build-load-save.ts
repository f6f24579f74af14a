/**
 * Benchmark: build a seeded BERT-base (110M parameters) with the builder, save it, then time `loadModel` +
 * `saveModel` of that file in a fresh process and measure that process's peak RSS against the file's size.
 * Targets: load + save under 10 s, peak RSS under 2.5× the file size. Prints PASS/FAIL lines; always exits 0.
 *
 *   node bin/run-ts.mjs bench/build-load-save.ts [--keep]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBert } from '../src/bert/build.ts';
import { BERT_BASE, countParameters } from '../src/bert/config.ts';
import { loadModel, saveModel } from '../src/onnx/index.ts';
import { describeMachine, machineInfo } from '../src/bench/machine.ts';
import { checkFlags } from './args.ts';

const TARGET_SECONDS = 10;
const TARGET_RSS_RATIO = 2.5;
const MiB = 1024 * 1024;

/** What the child process reports (one JSON line on stdout). */
interface ChildReport {
  baselineRss: number;
  loadSeconds: number;
  saveSeconds: number;
  afterLoadRss: number;
  peakRss: number;
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;
const mib = (b: number) => `${(b / MiB).toFixed(0)} MiB`;

/** Child: load + save one model, report timings and peak RSS (resourceUsage().maxRSS is in KiB). */
function child(modelPath: string, outPath: string): void {
  const baselineRss = process.memoryUsage().rss;
  let t0 = performance.now();
  const model = loadModel(modelPath);
  const loadSeconds = seconds(t0);
  const afterLoadRss = process.memoryUsage().rss;
  t0 = performance.now();
  saveModel(model, outPath);
  const saveSeconds = seconds(t0);
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const report: ChildReport = { baselineRss, loadSeconds, saveSeconds, afterLoadRss, peakRss };
  console.log(JSON.stringify(report));
}

function main(): void {
  const keep = process.argv.includes('--keep');
  const dir = mkdtempSync(join(tmpdir(), 'bert-compress-bench-'));
  try {
    console.log(`machine: ${describeMachine(machineInfo())}`);
    console.log(`BERT-base: ${BERT_BASE.numLayers} layers × ${BERT_BASE.hiddenSize} hidden, ${(countParameters(BERT_BASE) / 1e6).toFixed(1)}M parameters`);
    let t0 = performance.now();
    const model = buildBert(BERT_BASE, { kind: 'random', seed: 1 });
    console.log(`build (seeded):        ${seconds(t0).toFixed(2)} s`);
    const path = join(dir, 'model.onnx');
    t0 = performance.now();
    saveModel(model, path);
    const fileBytes = statSync(path).size;
    console.log(`save of built model:   ${seconds(t0).toFixed(2)} s, file ${mib(fileBytes)}`);
    console.log(`builder process peak RSS: ${mib(process.resourceUsage().maxRSS * 1024)}`);

    const runTs = resolve(fileURLToPath(new URL('../bin/run-ts.mjs', import.meta.url)));
    const self = fileURLToPath(import.meta.url);
    const r = spawnSync(process.execPath, [runTs, self, '--child', path, join(dir, 'resaved.onnx')], { encoding: 'utf8', maxBuffer: 16 * MiB });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !line.startsWith('{')) {
      console.log(`FAIL load+save: the child process failed (status ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      return;
    }
    const c = JSON.parse(line) as ChildReport;
    const total = c.loadSeconds + c.saveSeconds;
    const ratio = c.peakRss / fileBytes;
    const growth = (c.peakRss - c.baselineRss) / fileBytes;
    console.log(`loadModel:             ${c.loadSeconds.toFixed(2)} s (RSS after load ${mib(c.afterLoadRss)})`);
    console.log(`saveModel:             ${c.saveSeconds.toFixed(2)} s`);
    console.log(`process RSS at start:  ${mib(c.baselineRss)}; peak ${mib(c.peakRss)} (${ratio.toFixed(2)}× the file; ${growth.toFixed(2)}× above the start)`);
    console.log(`${total < TARGET_SECONDS ? 'PASS' : 'FAIL'} load+save time: ${total.toFixed(2)} s (target < ${TARGET_SECONDS} s)`);
    console.log(
      `${ratio < TARGET_RSS_RATIO ? 'PASS' : 'FAIL'} load+save peak RSS: ${ratio.toFixed(2)}× file size ${mib(fileBytes)} = ${mib(c.peakRss)} (target < ${TARGET_RSS_RATIO}×)`,
    );
  } finally {
    if (keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) child(process.argv[childAt + 1], process.argv[childAt + 2]);
else {
  checkFlags('load-save');
  main();
}
process.exitCode = 0;
