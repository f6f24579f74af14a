/**
 * Eval harness throughput vs calling onnxruntime-node directly on the same batches.
 *
 *   node bin/run-ts.mjs bench/eval-throughput.ts [--model DIR] [--task SST-2] [--glue-dir DIR]
 *                                                [--batch-size 32] [--threads N] [--rounds 11]
 *
 * Both sides run the same model with the same session options and the same length-bucketed, dynamically padded
 * batches. "direct" times only `InferenceSession.run` over batches built beforehand. "harness" times the whole
 * evaluation of the task: reading the TSV, tokenizing, batching, building tensors, running, restoring file order and
 * computing the metrics (`prepareTask` + `scoreTask`); "harness (scoring)" leaves out reading and tokenizing. The
 * runs are interleaved (the order alternates per round, after one warm-up each) and compared by median and by
 * best time (the best time is the least disturbed by other load on the machine); the ratio is harness throughput /
 * direct throughput, i.e. direct time / harness time (≥ 0.90 is the target).
 */
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildFeeds, planBatches } from '../src/eval/batching.ts';
import { prepareTask, scoreTask, type PreparedTask } from '../src/eval/evaluate.ts';
import { readModelConfig } from '../src/eval/model-files.ts';
import { locateModel } from '../src/onnx/locate.ts';
import { sessionInputs } from '../src/bert/model-inputs.ts';
import { loadTokenizer } from '../src/eval/tokenizer.ts';
import { defaultGlueDir } from '../src/glue/glue-dir.ts';
import { getTask } from '../src/glue/registry.ts';
import { defaultThreads, openSession, sessionOptions, type Feeds } from '../src/runtime/session.ts';
import { describeMachine, machineInfo } from '../src/bench/machine.ts';
import { arg, checkFlags, wholeArg } from './args.ts';

checkFlags('eval-throughput');

interface BenchArgs {
  model: string;
  task: string;
  glueDir: string;
  batchSize: number;
  threads: number;
  rounds: number;
}

function parseArgs(argv: string[]): BenchArgs {
  return {
    model: resolve(arg('--model', '../shared/teachers/sst2-L4H256', argv)),
    task: arg('--task', 'SST-2', argv),
    glueDir: resolve(arg('--glue-dir', defaultGlueDir(), argv)),
    batchSize: wholeArg('--batch-size', 32, 1, argv),
    threads: wholeArg('--threads', 0, 0, argv),
    rounds: wholeArg('--rounds', 11, 1, argv),
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const location = locateModel(args.model);
  const config = readModelConfig(location.dir);
  const tokenizer = loadTokenizer(location.dir);
  const task = getTask(args.task);
  const maxLength = config.maxLength ?? 128;
  const threads = args.threads > 0 ? args.threads : undefined;

  // The harness side, through the project's session wrapper.
  const harnessSession = await openSession(location.onnx, { threads });
  // The direct side: onnxruntime-node with the options src/runtime/session.ts uses.
  const directOptions = sessionOptions({ threads });
  const direct = await ort.InferenceSession.create(location.onnx, directOptions);

  // The same batches the harness builds, prepared once for the direct side.
  const prepared: PreparedTask = prepareTask(task, 'dev', args.glueDir, tokenizer, maxLength);
  const inputs = sessionInputs(harnessSession);
  const batches: Feeds[] = planBatches(
    prepared.encodings.map((e) => e.ids.length),
    args.batchSize,
  ).map((indices) => buildFeeds(prepared.encodings, indices, inputs, prepared.padId));
  const examples = prepared.encodings.length;

  const runDirect = async () => {
    for (const feeds of batches) await direct.run(feeds);
  };
  const runHarness = async () =>
    scoreTask(harnessSession, prepareTask(task, 'dev', args.glueDir, tokenizer, maxLength), { batchSize: args.batchSize, modelConfig: config });
  const runScoring = async () => scoreTask(harnessSession, prepared, { batchSize: args.batchSize, modelConfig: config });

  await runDirect();
  await runHarness();
  const times = { direct: [] as number[], harness: [] as number[], scoring: [] as number[] };
  for (let r = 0; r < args.rounds; r++) {
    const order: Array<keyof typeof times> = r % 2 === 0 ? ['harness', 'direct', 'scoring'] : ['scoring', 'direct', 'harness'];
    for (const which of order) {
      times[which].push(await timed(which === 'direct' ? runDirect : which === 'harness' ? runHarness : runScoring));
    }
  }
  await harnessSession.release();
  await direct.release();

  const rate = (t: number) => examples / t;
  const best = (xs: number[]) => Math.min(...xs);
  const line = (name: string, xs: number[]) => {
    const ratios =
      xs === times.direct ? '' : `  ratio median ${(median(times.direct) / median(xs)).toFixed(3)}, best ${(best(times.direct) / best(xs)).toFixed(3)}`;
    return `${name.padEnd(24)} median ${median(xs).toFixed(3)} s (${rate(median(xs)).toFixed(0)} ex/s), best ${best(xs).toFixed(3)} s${ratios}`;
  };
  console.log(
    `${location.onnx} | ${task.name} dev: ${examples} examples, ${batches.length} batches of ≤${args.batchSize}, max_length ${maxLength}, threads ${threads ?? `${defaultThreads()} (one per physical core)`}, ${args.rounds} rounds`,
  );
  console.log(`machine: ${describeMachine(machineInfo(args.threads))}`);
  console.log(line('direct onnxruntime-node', times.direct));
  console.log(line('harness (end to end)', times.harness));
  console.log(line('harness (scoring only)', times.scoring));
  const ratio = median(times.direct) / median(times.harness);
  console.log(`throughput ratio, harness end to end / direct (medians): ${ratio.toFixed(3)} ${ratio >= 0.9 ? '(>= 0.90)' : '(BELOW 0.90)'}`);
}

await main();
