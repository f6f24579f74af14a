/**
 * The README's walk-through, "from a hub id to a transformers.js folder", run and measured: a teacher model is put
 * on a hub-like server on 127.0.0.1 as a safetensors checkpoint (this machine has no network, and a test helper
 * speaks the hub's protocol), then the CLI runs as a user runs it, with HF_ENDPOINT pointing at that server:
 *
 *   compress eval hf:ORG/NAME --tasks SST-2                        # download, export to ONNX once, evaluate
 *   compress export hf:ORG/NAME --format transformers.js -o DIR/fp32      # the model as transformers.js loads it
 *   compress hf:ORG/NAME --prune-heads 0.5 --quantize int8 --format transformers.js -o DIR/pruned-int8
 *   compress hf:ORG/NAME --prune-heads 0.5 --quantize int4-block:32 --format transformers.js -o DIR/pruned-int4
 *
 * and each folder is loaded with @huggingface/transformers' pipeline('text-classification') (remote models off) and
 * scored on the whole SST-2 dev set with the dtype that picks each file. Prints a markdown table: file, size,
 * `compress eval`'s accuracy of that file, transformers.js's, and how many dev labels equal the uncompressed model's.
 *
 *   node bin/run-ts.mjs scripts/hub-walkthrough.ts [--teacher DIR] [--out DIR]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHuggingFaceFolder } from '../src/bert/build-hf.ts';
import { canonicalBert } from '../src/bert/canonical.ts';
import { configFromHuggingFace } from '../src/bert/config.ts';
import { TOKENIZER_FILES } from '../src/eval/model-files.ts';
import { loadSplit } from '../src/glue/dataset.ts';
import { defaultGlueDir } from '../src/glue/glue-dir.ts';
import { getTask } from '../src/glue/registry.ts';
import { loadModel } from '../src/onnx/index.ts';
import { serveHub } from '../test/helpers/hub-server.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BIN = join(ROOT, 'bin/compress.mjs');
const REPO = 'local/sst2-teacher';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? resolve(process.argv[i + 1]) : fallback;
}

/** Runs the CLI (asynchronously, so the hub server in this process keeps answering); its stdout. */
function compress(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  console.error(`$ compress ${args.join(' ')}`);
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done(out) : fail(new Error(`compress ${args.join(' ')} exited with ${code}`))));
  });
}

/** The teacher's folder as hub repo files: config.json, tokenizer files and model.safetensors read from its graph. */
function repoFiles(teacher: string, scratch: string): Record<string, Buffer> {
  const config = configFromHuggingFace(JSON.parse(readFileSync(join(teacher, 'config.json'), 'utf8')));
  const { weights } = canonicalBert(loadModel(join(teacher, 'model.onnx')));
  rmSync(scratch, { recursive: true, force: true });
  writeHuggingFaceFolder(scratch, config, weights);
  const files: Record<string, Buffer> = {
    'config.json': readFileSync(join(teacher, 'config.json')),
    'model.safetensors': readFileSync(join(scratch, 'model.safetensors')),
  };
  for (const f of TOKENIZER_FILES) {
    if (existsSync(join(teacher, f))) files[f] = readFileSync(join(teacher, f));
  }
  return files;
}

/** Accuracy of a transformers.js folder on SST-2 dev with `dtype`, and its predicted labels. */
async function transformersJsAccuracy(folder: string, dtype: 'fp32' | 'q8' | 'q4'): Promise<{ accuracy: number; labels: string[] }> {
  const { env, pipeline } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = dirname(folder);
  const classify = await pipeline('text-classification', basename(folder), { dtype });
  const dev = loadSplit(getTask('SST-2'), 'dev', defaultGlueDir()).examples;
  const labels: string[] = [];
  let right = 0;
  for (const e of dev) {
    const [top] = (await classify(e.textA)) as Array<{ label: string }>;
    labels.push(top.label);
    if ((top.label === 'positive' ? 1 : 0) === Number(e.label)) right++;
  }
  await classify.dispose();
  return { accuracy: (100 * right) / dev.length, labels };
}

async function main(): Promise<void> {
  const teacher = arg('--teacher', resolve(ROOT, '../shared/teachers/sst2-L2H256'));
  const out = arg('--out', join(ROOT, 'out/hub-walkthrough'));
  // Only what this script writes is removed from --out (an earlier run's folders), never the folder itself.
  for (const made of ['checkpoint', 'hf-home', 'fp32', 'pruned-int8', 'pruned-int4']) rmSync(join(out, made), { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const hub = await serveHub();
  try {
    const commit = hub.addCommit(REPO, repoFiles(teacher, join(out, 'checkpoint')));
    const env = { ...process.env, HF_ENDPOINT: hub.baseUrl, HF_HOME: join(out, 'hf-home'), HF_HUB_OFFLINE: '' };
    const ref = `hf:${REPO}`;
    const evalJson = async (model: string | string[]) => {
      const r = JSON.parse(await compress(['eval', ...[model].flat(), '--tasks', 'SST-2', '--json'], env));
      return 100 * (r.tasks['SST-2'].metrics.accuracy as number);
    };
    const original = await evalJson(ref);
    const folders = {
      fp32: join(out, 'fp32'),
      int8: join(out, 'pruned-int8'),
      int4: join(out, 'pruned-int4'),
    };
    await compress(['export', ref, '--format', 'transformers.js', '-o', folders.fp32], env);
    await compress([ref, '--prune-heads', '0.5', '--quantize', 'int8', '--format', 'transformers.js', '-o', folders.int8], env);
    await compress([ref, '--prune-heads', '0.5', '--quantize', 'int4-block:32', '--format', 'transformers.js', '-o', folders.int4], env);
    const variants: Array<{ name: string; folder: string; file: string; dtype: 'fp32' | 'q8' | 'q4' }> = [
      { name: 'as is', folder: folders.fp32, file: 'model.onnx', dtype: 'fp32' },
      { name: 'heads −50%', folder: folders.int8, file: 'model.onnx', dtype: 'fp32' },
      { name: 'heads −50%, int8', folder: folders.int8, file: 'model_quantized.onnx', dtype: 'q8' },
      { name: 'heads −50%, int4 (blocks of 32)', folder: folders.int4, file: 'model_q4.onnx', dtype: 'q4' },
    ];
    const maxLength = String(JSON.parse(readFileSync(join(folders.fp32, 'config.json'), 'utf8')).max_length ?? 128);
    const rows: string[][] = [['hub checkpoint', '`model.safetensors`', mb(join(out, 'checkpoint/model.safetensors')), fmt(original), '', '']];
    let reference: string[] | undefined;
    for (const v of variants) {
      const file = join(v.folder, 'onnx', v.file);
      const ours = await evalJson([file, '--tokenizer', v.folder, '--max-length', maxLength]);
      const tjs = await transformersJsAccuracy(v.folder, v.dtype);
      reference ??= tjs.labels;
      const same = tjs.labels.filter((l, i) => l === reference![i]).length;
      rows.push([v.name, `\`${basename(v.folder)}/onnx/${v.file}\``, mb(file), fmt(ours), fmt(tjs.accuracy), `${same}/${tjs.labels.length}`]);
    }
    console.log(`hub repo ${REPO} @ ${commit.slice(0, 12)} served on ${hub.baseUrl} (teacher ${teacher})\n`);
    console.log('| variant | file | MB | `compress eval` SST-2 acc. | transformers.js SST-2 acc. | same label as the original |');
    console.log('|---|---|---:|---:|---:|---:|');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  } finally {
    await hub.close();
  }
}

function mb(file: string): string {
  return (statSync(file).size / 1e6).toFixed(1);
}

function fmt(v: unknown): string {
  return typeof v === 'number' ? v.toFixed(2) : String(v);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
