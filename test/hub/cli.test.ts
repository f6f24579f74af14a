/**
 * hf: references end to end: the CLI's main (in this process, test/helpers/cli.ts) and a sweep file, against a local
 * hub-like server through HF_ENDPOINT, with a temporary HF_HOME.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBert } from '../../src/bert/discover.ts';
import { loadModel } from '../../src/onnx/index.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { serveHub, type HubServer } from '../helpers/hub-server.ts';
import { writeGlueTask } from '../helpers/model-folder.ts';
import { tinyCheckpoint } from './repo-files.ts';
import { runMain, type CliResult } from '../helpers/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-hub-cli-'));
const glueDir = join(root, 'glue');
let hub: HubServer;
let first: string;

beforeAll(async () => {
  hub = await serveHub();
  first = hub.addCommit('org/tiny', tinyCheckpoint(2).files);
  hub.addCommit('org/private', tinyCheckpoint(2).files, { token: 'hf_secret' });
  writeGlueTask(glueDir, 'SST-2', 12, ['dev', 'train']);
});
afterAll(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

function compress(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runMain(args, { HF_HOME: join(root, 'hf'), HF_ENDPOINT: hub.baseUrl, HF_TOKEN: '', ...env }, root);
}

describe('compress with hf: models', () => {
  it('compresses, inspects and exports hf:org/tiny, then works offline', async () => {
    const out = join(root, 'out', 'm.onnx');
    const c = await compress(['hf:org/tiny', '--prune-heads', '0.5', '-o', out]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toContain('hf:org/tiny: downloading model.safetensors');
    expect(c.stderr).toContain('exported the safetensors checkpoint');
    expect(findBert(loadModel(out)).layers.reduce((a, l) => a + (l.attention?.numHeads ?? 0), 0)).toBe(4); // of 2 × 4

    const downloads = hub.fileDownloads().length;
    const i = await compress(['inspect', 'hf:org/tiny'], { HF_HUB_OFFLINE: '1' });
    expect(i.code, i.stderr).toBe(0);
    expect(i.stdout).toMatch(/2 layers × 4 heads, hidden 32/);
    const e = await compress(['export', 'hf:org/tiny', '-o', join(root, 'exported', 'model.onnx')]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/2 layers, hidden 32/);
    expect(existsSync(join(root, 'exported', 'vocab.txt'))).toBe(true);
    expect(hub.fileDownloads().length).toBe(downloads);

    const ev = await compress(['eval', `hf:org/tiny@${first}`, '--task', 'SST-2', '--glue-dir', glueDir, '--json'], { HF_HUB_OFFLINE: '1' });
    expect(ev.code, ev.stderr).toBe(0);
    const report = JSON.parse(ev.stdout);
    expect(report.tasks['SST-2'].examples).toBe(12);
    expect(report.model).toContain(join('models--org--tiny', 'bert-compress'));
  });

  it('names HF_TOKEN in one line when a private repo answers 401', async () => {
    const r = await compress(['inspect', 'hf:org/private']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'compress: hf:org/private: the hub answered 401: org/private is private or gated (set HF_TOKEN to a token with access, or write it to $HF_HOME/token) or does not exist',
    ]);
    expect((await compress(['inspect', 'hf:org/private'], { HF_TOKEN: 'hf_secret' })).code).toBe(0);
  });
});

describe('compress export with hf: models', () => {
  it('refuses a repo with only an ONNX export in one line, before downloading it', async () => {
    hub.addCommit('org/onnx-only', { 'config.json': Buffer.from('{"model_type": "bert"}'), 'onnx/model.onnx': Buffer.alloc(4096, 1) });
    const out = join(root, 'onnx-only', 'model.onnx');
    const r = await compress(['export', 'hf:org/onnx-only', '-o', out]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'compress: hf:org/onnx-only: the repo has onnx/model.onnx but no model.safetensors (nor model.safetensors.index.json) to export; it is ONNX already: give the reference to compress, eval or inspect as it is',
    ]);
    expect(hub.fileDownloads('onnx/model.onnx')).toEqual([]);
    expect(existsSync(join(root, 'onnx-only'))).toBe(false);
  });

  it('refuses a checkpoint whose config.json it cannot build in one line naming the reference, before downloading the weights (export, and any command given the reference)', async () => {
    const files = tinyCheckpoint(3).files;
    const config = { ...JSON.parse(files['config.json'].toString()), position_embedding_type: 'relative_key' };
    hub.addCommit('org/relative', { ...files, 'config.json': Buffer.from(JSON.stringify(config)) });
    const before = hub.fileDownloads('model.safetensors').length;
    for (const args of [
      ['export', 'hf:org/relative', '-o', join(root, 'relative', 'model.onnx')],
      ['inspect', 'hf:org/relative'],
    ]) {
      const r = await compress(args);
      expect(r.code).toBe(1);
      expect(
        r.stderr
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('compress:')),
      ).toEqual(['compress: hf:org/relative (config.json): position_embedding_type: expected \'absolute\' (the one supported), got string "relative_key"']);
    }
    expect(hub.fileDownloads('model.safetensors').length).toBe(before);
    expect(existsSync(join(root, 'relative'))).toBe(false);
  });
});

describe('train and distill with hf: models', () => {
  // (each a mistake of a flag the model need not be read for: refused in one line, exit 2, before any request to the hub)
  it.each([
    [['distill', '--teacher', 'hf:org/tiny', '--student', 'ever-other'], "--student 'ever-other': expected one of every-other, or a model path, "],
    [['distill', '--teacher', 'hf:org/tiny', '--student', 'bert:layers=x'], "--student 'bert:layers=x': layers 'x': expected an integer from 1"],
    [['distill', '--teacher', 'hf:org/tiny', '--student', 'bert:hidden=30,heads=4'], "--student 'bert:hidden=30,heads=4': hidden 30 is not divisible"],
    [['distill', '--teacher', 'hf:org/tiny', '--student', 'every-other', '--alpha', '1', '--temperature', '2'], '--temperature applies to'],
    [['distill', '--teacher', 'hf:org/tiny', '--student', 'every-other', '--intermediate', 'tinybert', '--layer-map', '1:x'], "--layer-map '1:x': "],
    [['distill', '--teacher', 'hf:org/tiny', '--student', 'every-other', '--pkd-weight', '0.5'], '--pkd-weight applies with --intermediate'],
    [['distill', '--teacher', 'hf:org/tiny', '--student', 'every-other', '--logit-loss', 'kl'], "--logit-loss 'kl': expected one of ce, mse"],
    [['distill', '--teacher', 'hf:org/tiny', '--student', 'every-other', '--embedding-lr', 'x'], "--embedding-lr 'x': "],
    [['train', 'hf:org/tiny', '--embedding-lr', 'x'], "--embedding-lr 'x': "],
    // (a file the run reads, not found: exit 1, as when the model is local)
    [
      ['distill', '--teacher', 'hf:org/tiny', '--student', 'every-other', '--stage', 'general', '--intermediate', 'tinybert', '--corpus', 'none.txt'],
      'none.txt: corpus file not found',
      1,
    ],
    [
      ['distill', '--teacher', 'hf:org/tiny', '--student', 'every-other', '--stage', 'general', '--intermediate', 'tinybert', '--corpus', '.'],
      '.: a folder, not a corpus file',
      1,
    ],
  ])('refuse %j before any download', async (args, line, code = 2) => {
    const before = hub.requests.length;
    const hfHome = join(root, 'hf-refused');
    const task = args.includes('general') ? [] : ['--task', 'SST-2'];
    const r = await compress([...args, ...task, '--glue-dir', glueDir, '-o', join(root, 'refused', 'm.onnx')], { HF_HOME: hfHome });
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining(`compress: ${line}`)]);
    expect(hub.requests.length).toBe(before);
    expect(existsSync(hfHome)).toBe(false);
  });
});

describe('train and distill with hf: models and GLUE data missing', () => {
  const onlyTrain = join(root, 'glue-no-dev');
  beforeAll(() => writeGlueTask(onlyTrain, 'SST-2', 12, ['train']));
  it.each([
    [['train', 'hf:org/tiny', '--task', 'CoLA'], () => join(glueDir, 'CoLA', 'train.tsv'), 'CoLA train'],
    [['distill', '--teacher', 'hf:org/tiny', '--student', 'every-other', '--task', 'CoLA'], () => join(glueDir, 'CoLA', 'train.tsv'), 'CoLA train'],
    [
      ['distill', '--teacher', 'hf:org/tiny', '--student', 'every-other', '--task', 'SST-2', '--glue-dir', onlyTrain],
      () => join(onlyTrain, 'SST-2', 'dev.tsv'),
      'SST-2 dev',
    ],
  ])('refuse %j before any download, where the model was downloaded first', async (args, file, what) => {
    const before = hub.requests.length;
    const hfHome = join(root, 'hf-no-train-data');
    const dir = args.includes('--glue-dir') ? [] : ['--glue-dir', glueDir];
    const r = await compress([...args, ...dir, '-o', join(root, 'refused', 'm.onnx')], { HF_HOME: hfHome });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([`compress: ${file()}: file not found (GLUE ${what}; set --glue-dir or GLUE_DIR)`]);
    expect(hub.requests.length).toBe(before);
    expect(existsSync(hfHome)).toBe(false);
  });
});

describe('eval with hf: models', () => {
  it.each([
    [['--task', 'CoLA', '--glue-dir', glueDir], `${join(glueDir, 'CoLA', 'dev.tsv')}: file not found (GLUE CoLA dev; set --glue-dir or GLUE_DIR)`],
    [['--task', 'all,CoLA', '--glue-dir', glueDir], `${join(glueDir, 'CoLA', 'dev.tsv')}: file not found (GLUE CoLA dev; set --glue-dir or GLUE_DIR)`],
    [['--task', 'all', '--glue-dir', join(root, 'no-glue')], `GLUE folder ${join(root, 'no-glue')} not found: set --glue-dir or GLUE_DIR`],
  ])('refuses GLUE data %j that is missing before any download, where the model was downloaded first', async (flags, line) => {
    const before = hub.requests.length;
    const hfHome = join(root, 'hf-no-data');
    const r = await compress(['eval', 'hf:org/tiny', ...flags], { HF_HOME: hfHome });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining(`compress: ${line}`)]);
    expect(hub.requests.length).toBe(before);
    expect(existsSync(hfHome)).toBe(false);
  });
});

describe('sweep files with hf: models', () => {
  it('resolve the reference, key points by its commit, resume, and see @main move', async () => {
    process.env.HF_HOME = join(root, 'hf-sweep');
    process.env.HF_ENDPOINT = hub.baseUrl;
    const file = join(root, 'hub-sweep.yaml');
    writeFileSync(
      file,
      JSON.stringify({
        models: [{ path: 'hf:org/tiny', tasks: ['SST-2'] }],
        pipelines: ['baseline', { name: 'heads50', steps: [{ pass: 'prune-heads', settings: { ratio: 0.5 } }] }],
        bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
        glueDir,
      }),
    );
    const store = join(root, 'hub-sweep.sqlite');
    const notes: string[] = [];
    const one = await runSweep({ file, store, planLog: (l) => notes.push(l) });
    expect(one).toMatchObject({ total: 2, ran: 2, failed: [] });
    expect(notes.some((l) => l.startsWith('hf:org/tiny: '))).toBe(true);
    const spec = parseSweep(
      JSON.parse(JSON.stringify({ models: [{ path: 'hf:org/tiny', tasks: ['SST-2'] }], pipelines: ['baseline'], bench: { seq: [8] } })),
      file,
    );
    expect(spec.models[0]).toMatchObject({ name: 'tiny', path: 'hf:org/tiny' });
    const [point] = await planSweep(spec, { glueDir, workDir: join(root, 'w') });
    expect(point!.model.source).toBe(`hf:org/tiny@${first}`);

    const again = await runSweep({ file, store });
    expect(again).toMatchObject({ total: 2, alreadyDone: 2, ran: 0 });

    // main moves to a new commit: new points, planned from the new snapshot.
    const second = hub.addCommit('org/tiny', tinyCheckpoint(4).files);
    const [moved] = await planSweep(spec, { glueDir, workDir: join(root, 'w') });
    expect(moved!.model.source).toBe(`hf:org/tiny@${second}`);
    expect(moved!.key).not.toBe(point!.key);
    const after = await runSweep({ file, store });
    expect(after).toMatchObject({ total: 2, alreadyDone: 0, ran: 2 });
  });

  it('resolve an hf: teacher of a distill step to the cached model', async () => {
    process.env.HF_HOME = join(root, 'hf-sweep');
    process.env.HF_ENDPOINT = hub.baseUrl;
    const doc = {
      models: [{ path: 'hf:org/tiny', tasks: ['SST-2'] }],
      pipelines: [{ name: 'kd', steps: [{ pass: 'distill', settings: { teacher: 'hf:org/tiny', student: 'every-other', epochs: 1 } }] }],
      // (the tiny model has 64 positions: the default bench length, 128, is refused when the sweep is planned)
      bench: { seq: [8] },
    };
    const spec = parseSweep(doc, join(root, 'kd.yaml'));
    const kd = (await planSweep(spec, { glueDir, workDir: join(root, 'w') })).find((p) => p.label === 'kd')!;
    const step = kd.training!.steps[0]!;
    expect(step.teacher).toBe(kd.model.onnx);
    expect(step.teacher).toContain(join('models--org--tiny', 'bert-compress'));
    expect(step.teacherSha256).toBe(kd.model.sha256);
    expect(() => parseSweep({ ...doc, models: [{ path: 'hf:org/a/b', tasks: ['SST-2'] }] }, join(root, 'kd.yaml'))).toThrow(
      /models\[0\]\.path: hf:org\/a\/b: repo 'org\/a\/b' has more than one '\/'/,
    );
  });
});
