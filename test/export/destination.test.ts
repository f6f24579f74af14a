/**
 * Where `compress` may write, checked before any work: never onto a device, a folder or one of the input's own
 * files (by real path), never into a folder holding another model's side files, and staging folders left by
 * killed runs are removed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SettingsError, UserError } from '../../src/errors.ts';
import { compressFile } from '../../src/export/compress.ts';
import { parseStagingName, removeStaleStaging } from '../../src/export/destination.ts';
import { processStartTime } from '../../src/processes.ts';
import { saveModel } from '../../src/onnx/index.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { tinyBert, writeTinyBert } from '../helpers/models.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { type CliResult, runMain } from '../helpers/cli.ts';

registerAllPasses();
const tiny = writeTinyBert({ numLayers: 1 }, { std: 0.2 });
afterAll(() => tiny.cleanup());
const FFN = [{ pass: 'prune-ffn', settings: { ratio: 0.25 } }];
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
let n = 0;
const fresh = (name: string) => {
  const dir = join(tiny.dir, `${name}-${n++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

/** A pid that no process has: one of a child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('compressFile destinations', () => {
  it('refuses a device or a folder as -o, and leaves the device a device', async () => {
    await expect(compressFile({ input: tiny.path, output: '/dev/null', steps: FFN })).rejects.toThrow(/\/dev\/null is not a regular file/);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    const dir = fresh('folder');
    await expect(compressFile({ input: tiny.path, output: dir, steps: FFN })).rejects.toThrow(/is a folder; give a file name/);
  });

  it("refuses every one of the input's files as output, by real path: model, external data, sidecar, side files, links", async () => {
    const dir = fresh('external');
    const input = join(dir, 'model.onnx');
    saveModel(tinyBert({ numLayers: 1 }, { std: 0.2 }), input, { externalData: true, externalSizeThreshold: 0 });
    writeFileSync(`${input}.json`, '{}');
    writeFileSync(join(dir, 'config.json'), '{"num_labels": 2}');
    symlinkSync(`${input}.data`, join(dir, 'link-to-data'));
    const before = sha(`${input}.data`);
    for (const output of [input, `${input}.data`, `${input}.json`, join(dir, 'link-to-data'), join(dir, '.', 'model.onnx')]) {
      const run = compressFile({ input, output, steps: FFN });
      await expect(run).rejects.toThrow(SettingsError);
      await expect(compressFile({ input, output, steps: FFN })).rejects.toThrow(/is one of the input model's files .*refusing to overwrite it/);
    }
    expect(sha(`${input}.data`)).toBe(before);
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'link-to-data', 'model.onnx', 'model.onnx.data', 'model.onnx.json']);
  });

  it('refuses an output folder that cannot be written, before any work, in one line', async () => {
    const file = join(fresh('parent-file'), 'not-a-folder');
    writeFileSync(file, 'x');
    await expect(compressFile({ input: tiny.path, output: join(file, 'out.onnx'), steps: FFN })).rejects.toThrow(/not-a-folder is a file, not a folder/);
    // /sys refuses new files even to root, whatever its permission bits say.
    const sys = compressFile({ input: tiny.path, output: '/sys/bert-compress-test.onnx', steps: FFN });
    await expect(sys).rejects.toThrow(UserError);
    await expect(compressFile({ input: tiny.path, output: '/sys/bert-compress-test.onnx', steps: FFN })).rejects.toThrow(/cannot write files in \/sys/);
  });

  it.each(['config.json', 'vocab.txt'])('refuses an output folder whose %s is a folder in one line naming it, and writes nothing there', async (name) => {
    const input = join(writeModelFolder(fresh('with-side-files'), tinyBert({ numLayers: 1 }, { std: 0.2 })), 'model.onnx');
    const out = fresh('side-file-folder');
    mkdirSync(join(out, name));
    await expect(compressFile({ input, output: join(out, 'small.onnx'), steps: FFN })).rejects.toThrow(`${join(out, name)}: cannot read it: is a folder`);
    expect(readdirSync(out)).toEqual([name]);
  });

  it('refuses a folder whose config.json or tokenizer belongs to another model, and writes nothing there', async () => {
    const a = fresh('model-a');
    const b = fresh('model-b');
    const out = fresh('shared-out');
    for (const [dir, labels] of [
      [a, { 0: 'negative', 1: 'positive' }],
      [b, { 0: 'entailment', 1: 'not_entailment' }],
    ] as const) {
      saveModel(tinyBert({ numLayers: 1 }, { std: 0.2 }), join(dir, 'model.onnx'));
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ id2label: labels }));
    }
    await compressFile({ input: join(a, 'model.onnx'), output: join(out, 'a.onnx'), steps: FFN });
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).id2label).toEqual({ 0: 'negative', 1: 'positive' }); // a's
    await expect(compressFile({ input: join(b, 'model.onnx'), output: join(out, 'b.onnx'), steps: FFN })).rejects.toThrow(
      new RegExp(`^-o ${join(out, 'b.onnx')}: ${out} already holds another model's config\\.json; write into an empty folder or pass --force$`),
    );
    expect(readdirSync(out).sort()).toEqual(['a.onnx', 'a.onnx.json', 'config.json']);
    // The same model's files are no conflict: a second output of model a goes beside the first.
    await compressFile({ input: join(a, 'model.onnx'), output: join(out, 'a2.onnx'), steps: FFN });
    expect(existsSync(join(out, 'a2.onnx'))).toBe(true);
    // --force writes over them: the config.json and tokenizer files beside the outputs are then b's
    writeFileSync(join(out, 'vocab.txt'), '[PAD]\n[UNK]\na\n');
    writeFileSync(join(b, 'vocab.txt'), '[PAD]\n[UNK]\nb\n');
    await expect(compressFile({ input: join(b, 'model.onnx'), output: join(out, 'b.onnx'), steps: FFN })).rejects.toThrow(
      /already holds another model's config\.json, vocab\.txt; write into an empty folder or pass --force$/,
    );
    const result = await compressFile({ input: join(b, 'model.onnx'), output: join(out, 'b.onnx'), steps: FFN, force: true });
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).id2label).toEqual({ 0: 'entailment', 1: 'not_entailment' });
    expect(readFileSync(join(out, 'vocab.txt'), 'utf8')).toBe('[PAD]\n[UNK]\nb\n');
    expect(result.copiedFiles).toEqual(['vocab.txt']);
    expect(result.config).toMatchObject({ path: join(out, 'config.json'), written: true });
  });

  it("refuses a folder holding a config.json when the input has none (it would stay beside the output, with another model's labels and shape)", async () => {
    const bare = fresh('bare-input');
    saveModel(tinyBert({ numLayers: 1 }, { std: 0.2 }), join(bare, 'model.onnx'));
    const out = fresh('other-model');
    const foreign = JSON.stringify({ num_hidden_layers: 12, id2label: { 0: 'a', 1: 'b', 2: 'c' } });
    writeFileSync(join(out, 'config.json'), foreign);
    await expect(compressFile({ input: join(bare, 'model.onnx'), output: join(out, 'm.onnx'), steps: FFN })).rejects.toThrow(
      /other-model-\d+ already holds another model's config\.json; write into an empty folder or pass --force$/,
    );
    expect(readdirSync(out)).toEqual(['config.json']);
    expect(readFileSync(join(out, 'config.json'), 'utf8')).toBe(foreign);
    // --force: the output is written and the other model's config.json, which would describe it, removed
    await compressFile({ input: join(bare, 'model.onnx'), output: join(out, 'm.onnx'), steps: FFN, force: true });
    expect(readdirSync(out).sort()).toEqual(['m.onnx', 'm.onnx.json']);
    // a tokenizer the input lacks may be put beside its output on purpose
    const withTokenizer = fresh('tokenizer-only');
    writeFileSync(join(withTokenizer, 'vocab.txt'), '[PAD]\n[UNK]\n');
    await compressFile({ input: join(bare, 'model.onnx'), output: join(withTokenizer, 'm.onnx'), steps: FFN });
    expect(readdirSync(withTokenizer).sort()).toEqual(['m.onnx', 'm.onnx.json', 'vocab.txt']);
  });

  it('refuses an output (or its sidecar or data file) named like a side file of the model folder, before creating anything', async () => {
    const out = fresh('side-names');
    await compressFile({ input: tiny.path, output: join(out, 'm.onnx'), steps: FFN });
    const before = readdirSync(out)
      .sort()
      .map((f) => [f, sha(join(out, f))]);
    for (const name of ['tokenizer.json', 'config.json', 'vocab.txt', 'config', 'tokenizer_config.json']) {
      await expect(compressFile({ input: tiny.path, output: join(out, name), steps: FFN })).rejects.toThrow(
        /would be named (tokenizer|config|vocab|tokenizer_config)\.(json|txt), a side file of the model folder/,
      );
    }
    expect(
      readdirSync(out)
        .sort()
        .map((f) => [f, sha(join(out, f))]),
    ).toEqual(before);
    await expect(compressFile({ input: tiny.path, output: join(out, 'new', 'config.json'), steps: FFN })).rejects.toThrow(SettingsError);
    expect(existsSync(join(out, 'new'))).toBe(false);
  });

  it('removes staging folders of dead runs on this host (and the unmarked old form), keeps live ones', async () => {
    const out = fresh('staging');
    const host = hostname().replace(/[^A-Za-z0-9.-]/g, '_');
    const dead = `.compress-${host}-${deadPid()}-abc123`;
    const live = `.compress-${host}-${process.pid}-def456`;
    const other = `.compress-elsewhere-${deadPid()}-ghi789`;
    for (const name of [dead, live, other, '.compress-Xy12zW']) mkdirSync(join(out, name));
    writeFileSync(join(out, dead, 'model.onnx'), 'half-written');
    expect(parseStagingName(dead)).toEqual({ host, pid: expect.any(Number) });
    await compressFile({ input: tiny.path, output: join(out, 'm.onnx'), steps: FFN });
    expect(
      readdirSync(out)
        .filter((f) => f.startsWith('.compress-'))
        .sort(),
    ).toEqual([live, other].sort());
    expect(removeStaleStaging(out)).toEqual([]);
  });

  it("removes a staging folder whose holder file names a live pid with another start time (the pid reused), keeps this run's", () => {
    const out = fresh('staging-reused');
    const host = hostname().replace(/[^A-Za-z0-9.-]/g, '_');
    const start = processStartTime(process.pid);
    if (start === undefined) return; // (no start times on this system: the pid alone decides, as before)
    const reused = `.compress-${host}-${process.pid}-rpid01`;
    const mine = `.compress-${host}-${process.pid}-mine01`;
    for (const name of [reused, mine]) mkdirSync(join(out, name));
    writeFileSync(join(out, reused, '.holder'), `${process.pid} ${Number(start) + 1}\n`);
    writeFileSync(join(out, mine, '.holder'), `${process.pid} ${start}\n`);
    expect(removeStaleStaging(out)).toEqual([reused]);
    expect(readdirSync(out)).toEqual([mine]);
  });
});

describe('compress (the command): write problems are one line, exit 1 (an -o given twice: a usage mistake, 2), no stack trace', () => {
  const BIN = join(__dirname, '../../bin/compress.mjs');
  // The CLI's main in this process (test/helpers/cli.ts); under /proc spawned, where a regression (Node's recursive
  // mkdir spinning for ever) would block this process past the test's timeout.
  const run = async (...args: string[]): Promise<CliResult> => {
    if (!args.some((a) => a.startsWith('/proc'))) return runMain(args);
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };

  it.each([
    [['-o', '/dev/null'], /-o \/dev\/null: \/dev\/null is not a regular file/, 1],
    [['-o', '/sys/x.onnx'], /cannot write files in \/sys: /, 1],
    [['-o', '/proc/bert-compress/x.onnx'], /cannot create folder \/proc\/bert-compress: \/proc takes no new files \(a read-only or special file system/, 1],
    [['-o', '/proc/x.onnx'], /-o \/proc\/x\.onnx: cannot write files in \/proc: the folder takes no new files \(a read-only or special file system/, 1],
    [['-o', 'a.onnx', '-o', 'b.onnx'], /-o\/--output given 2 times \(a\.onnx, b\.onnx\): give it once/, 2],
    // a bare flag given twice is named, not the flag after it
    [['--optimize', '--optimize', '-o', 'x.onnx'], /^compress: --optimize given 2 times \(without a value, without a value\): give it once$/m, 2],
  ])('%j', async (extra, re, code) => {
    const r = await run(tiny.path, '--prune-ffn', '0.25', ...(extra as string[]));
    expect(r.code).toBe(code);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(re as RegExp);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it('leaves /dev/null a device after an attempt as root', async () => {
    await run(tiny.path, '--prune-ffn', '0.25', '-o', '/dev/null');
    expect(execFileSync('stat', ['-c', '%F', '/dev/null'], { encoding: 'utf8' }).trim()).toBe('character special file');
  });
});
