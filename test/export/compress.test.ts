/** compressFile stages the output beside its destination, checks it there, then moves it into place. */
import { describe, expect, it, afterAll } from 'vitest';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadModel, saveModel } from '../../src/onnx/index.ts';
import { findBert } from '../../src/bert/discover.ts';
import { OUTPUT_LOCK, compressFile } from '../../src/export/compress.ts';
import { holderText, withFileLock } from '../../src/file-lock.ts';
import { processStartTime } from '../../src/processes.ts';
import { spawn } from 'node:child_process';
import { sha256File } from '../../src/files.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { tinyBert, writeTinyBert } from '../helpers/models.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { runMain } from '../helpers/cli.ts';

registerAllPasses();
const tiny = writeTinyBert({ numLayers: 2 }, { std: 0.2 });
afterAll(() => tiny.cleanup());

describe('compressFile', () => {
  it('with external data: model and data file at their final names, checked, nothing staged left behind', async () => {
    const out = join(tiny.dir, 'out', 'small.onnx');
    const lineage = await compressFile({ input: tiny.path, output: out, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }], externalData: true });
    expect(lineage.output.dataFile).toBe(join(tiny.dir, 'out', 'small.onnx.data'));
    expect(readdirSync(join(tiny.dir, 'out')).sort()).toEqual(['small.onnx', 'small.onnx.data', 'small.onnx.json']);
    expect(lineage.check.drift[0].maxAbsDiff).toBeGreaterThan(0);
    expect(findBert(loadModel(out)).layers.map((l) => l.ffn.intermediateSize)).toEqual([32, 32]);
  });

  it("rewriting an output without external data removes the data file of the model it replaces (not someone else's)", async () => {
    const dir = join(tiny.dir, 'rewrite');
    const out = join(dir, 'model.onnx');
    const steps = [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }];
    await compressFile({ input: tiny.path, output: out, steps, externalData: true });
    expect(readdirSync(dir)).toContain('model.onnx.data');
    await compressFile({ input: tiny.path, output: out, steps });
    expect(readdirSync(dir)).not.toContain('model.onnx.data');
    expect(findBert(loadModel(out)).layers.map((l) => l.ffn.intermediateSize)).toEqual([32, 32]);
    // a file of that name the model there does not read stays
    writeFileSync(join(dir, 'model.onnx.data'), 'not ours');
    await compressFile({ input: tiny.path, output: out, steps });
    expect(readFileSync(join(dir, 'model.onnx.data'), 'utf8')).toBe('not ours');
    // saveModel (train and export write through it) does the same
    saveModel(loadModel(tiny.path), out, { externalData: true });
    saveModel(loadModel(tiny.path), out);
    expect(readdirSync(dir)).not.toContain('model.onnx.data');
  });

  it("side files copied from a read-only model folder are the user's to replace (not read-only)", async () => {
    const src = mkdtempSync(join(tmpdir(), 'read-only-model-'));
    copyFileSync(tiny.path, join(src, 'model.onnx'));
    writeFileSync(join(src, 'config.json'), JSON.stringify({ num_labels: 2 }));
    chmodSync(join(src, 'config.json'), 0o444);
    const out = join(tiny.dir, 'from-read-only', 'model.onnx');
    await compressFile({ input: join(src, 'model.onnx'), output: out, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] });
    expect(statSync(join(dirname(out), 'config.json')).mode & 0o200).toBe(0o200);
    rmSync(src, { recursive: true, force: true });
  });

  it('a pass with no effect drifts by less than 1e-5', async () => {
    const out = join(tiny.dir, 'noop.onnx');
    const lineage = await compressFile({ input: tiny.path, output: out, steps: [{ pass: 'prune-heads', settings: { ratio: 0 } }] });
    expect(lineage.check.drift.every((d) => d.maxAbsDiff < 1e-5)).toBe(true);
    expect(readdirSync(tiny.dir).filter((f) => f.startsWith('.compress-'))).toEqual([]);
  });
});

describe('compressFile beside another run writing the same output', () => {
  it("waits for the other run's lock before putting its files in place, so the folder never mixes the two runs' files", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'output-lock-'));
    const out = join(dir, 'model.onnx');
    const lines: string[] = [];
    let running: Promise<Awaited<ReturnType<typeof compressFile>>> | undefined;
    try {
      // The other run: holds the output folder's lock, as a run putting its files in place does.
      await withFileLock(
        join(dir, OUTPUT_LOCK),
        () => {},
        async () => {
          running = compressFile({
            input: tiny.path,
            output: out,
            steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }],
            context: { log: (l) => lines.push(l) },
          });
          running.catch(() => {}); // (awaited below)
          const deadline = Date.now() + 60_000;
          while (!lines.some((l) => l.includes('waiting for process')) && !existsSync(out) && Date.now() < deadline)
            await new Promise((r) => setTimeout(r, 20));
          expect(lines.filter((l) => l.includes('waiting'))).toEqual([
            `-o ${out}: waiting for process ${process.pid}, which is writing its output into ${dir}`,
          ]);
          expect(existsSync(out)).toBe(false);
          expect(existsSync(`${out}.json`)).toBe(false);
        },
      );
      const lineage = await running!;
      expect(lineage.output.sha256).toBe(await sha256File(out));
      expect(JSON.parse(readFileSync(`${out}.json`, 'utf8')).output.sha256).toBe(lineage.output.sha256);
      expect(readdirSync(dir)).not.toContain(OUTPUT_LOCK);
    } finally {
      await running?.catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes over the lock a run killed with SIGKILL in its locked step left behind, without waiting, and removes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'output-lock-killed-'));
    const out = join(dir, 'model.onnx');
    const lines: string[] = [];
    try {
      // The killed run: a live process named in the lock as withFileLock names its holder (pid and start time), then kill -9.
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      const pid = child.pid!;
      writeFileSync(join(dir, OUTPUT_LOCK), `${holderText({ pid, ...(processStartTime(pid) ? { start: processStartTime(pid)! } : {}) })}\n`);
      await new Promise((r) => {
        child.once('exit', r);
        child.kill('SIGKILL');
      });
      const lineage = await compressFile({
        input: tiny.path,
        output: out,
        steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }],
        context: { log: (l) => lines.push(l) },
      });
      expect(lineage.output.sha256).toBe(await sha256File(out));
      expect(lines.filter((l) => l.includes('waiting'))).toEqual([]);
      expect(readdirSync(dir)).not.toContain(OUTPUT_LOCK);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('an output folder whose lock path holds no lock file', () => {
  // (a folder, or a symbolic link to nothing, at the lock's path: compress failed with an internal error and its stack, exit 70)
  it.each([
    ['a folder', (lock: string) => mkdirSync(lock), 'is a folder'],
    ['a symbolic link to nothing', (lock: string) => symlinkSync(`${lock}-nowhere`, lock), 'a symbolic link to nothing'],
  ])('%s: compress says so in one line, exit 1, and leaves it', async (_, make, reason) => {
    const dir = mkdtempSync(join(tmpdir(), 'output-lock-path-'));
    try {
      const lock = join(dir, OUTPUT_LOCK);
      make(lock);
      const run = await runMain([tiny.path, '--prune-ffn', '0.5', '-o', join(dir, 'model.onnx')]);
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 1, stderr: `compress: cannot write ${lock}: ${reason}\n` });
      expect(readdirSync(dir)).toEqual([OUTPUT_LOCK]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('compressFile and compressToTransformersJs on DIR/onnx/model.onnx (Optimum, transformers.js)', () => {
  const root = mkdtempSync(join(tmpdir(), 'bc-onnx-layout-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const layout = join(root, 'in');
  writeModelFolder(layout, tinyBert({ numLayers: 2 }));
  mkdirSync(join(layout, 'onnx'));
  renameSync(join(layout, 'model.onnx'), join(layout, 'onnx', 'model.onnx'));
  const steps = [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }];

  it('compressFile copies config.json and the tokenizer from DIR, the folder above onnx/', async () => {
    const out = join(root, 'plain', 'model.onnx');
    const lineage = await compressFile({ input: join(layout, 'onnx', 'model.onnx'), output: out, steps });
    expect(lineage.copiedFiles).toEqual(expect.arrayContaining(['vocab.txt']));
    expect(readdirSync(dirname(out))).toEqual(expect.arrayContaining(['config.json', 'vocab.txt']));
  });

  it('compressToTransformersJs writes the config and tokenizer of DIR', async () => {
    const out = join(root, 'tjs');
    await compressToTransformersJs({ input: join(layout, 'onnx', 'model.onnx'), output: out, steps });
    expect(readdirSync(out)).toEqual(expect.arrayContaining(['config.json', 'tokenizer.json', 'onnx']));
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).id2label).toEqual({ 0: 'negative', 1: 'positive' });
  });

  it.each([
    ['float16', 'model_fp16.onnx'],
    ['int8', 'model_quantized.onnx'],
    ['int4-block:32', 'model_q4.onnx'],
  ])(
    "compressFile refuses -o into a transformers.js folder's onnx/ (--quantize %s), where it wrote config.json and the tokenizer into onnx/ and left the folder's dtype alone",
    async (mode, name) => {
      const out = join(root, 'tjs');
      const before = readdirSync(join(out, 'onnx')).sort();
      const config = readFileSync(join(out, 'config.json'), 'utf8');
      for (const input of [join(out, 'onnx', 'model.onnx'), join(layout, 'onnx', 'model.onnx')]) {
        await expect(compressFile({ input, output: join(out, 'onnx', name), steps: [{ pass: 'quantize', settings: { mode } }] })).rejects.toThrow(
          `-o ${join(out, 'onnx', name)}: ${out} is a transformers.js folder (config.json and the tokenizer above onnx/, naming its models' dtypes), which bert-compress writes whole: write the .onnx file elsewhere, or a new folder with compress --format transformers.js -o NEW_FOLDER`,
        );
      }
      expect(readdirSync(join(out, 'onnx')).sort()).toEqual(before);
      expect(readFileSync(join(out, 'config.json'), 'utf8')).toBe(config);
    },
  );

  it("compressFile refuses a float model into a transformers.js folder's onnx/, made or not, leaving no folder behind", async () => {
    const out = join(root, 'tjs-fp32');
    await compressToTransformersJs({ input: join(layout, 'onnx', 'model.onnx'), output: out, steps });
    rmSync(join(out, 'onnx'), { recursive: true });
    await expect(compressFile({ input: join(layout, 'onnx', 'model.onnx'), output: join(out, 'onnx', 'model.onnx'), steps })).rejects.toThrow(
      /is a transformers.js folder/,
    );
    expect(readdirSync(out).sort()).toEqual(
      ['config.json', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json'].filter((f) => existsSync(join(out, f))),
    );
    expect(existsSync(join(out, 'onnx'))).toBe(false);
    // an onnx/ with its own config.json is a model folder of its own (compress export … -o DIR/onnx/model.onnx)
    await compressFile({ input: join(layout, 'onnx', 'model.onnx'), output: join(root, 'own', 'onnx', 'model.onnx'), steps });
    await compressFile({
      input: join(root, 'own', 'onnx', 'model.onnx'),
      output: join(root, 'own', 'onnx', 'model_quantized.onnx'),
      steps: [{ pass: 'quantize', settings: { mode: 'int8' } }],
    });
  });
});
