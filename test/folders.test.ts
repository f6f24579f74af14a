/**
 * Every folder bert-compress makes is made one level at a time (folders.ts' ensureFolder): Node's recursive mkdir
 * never returns for a path under /proc, or under a link into it, and spins in one synchronous call that not even
 * SIGTERM ends. Each writer below made its folder that way: the atomic writer (every model, lineage, cache and
 * store file), the lock files, a Hugging Face folder, a download, a Hub snapshot link, and a sweep point's folder.
 * Each runs in a child process killed after 30 s, so that a writer that spins fails its test rather than hanging it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTinySweep } from './sweep/tiny-sweep.ts';

const ROOT = resolve(__dirname, '..');
const CLI = join(ROOT, 'bin/compress.mjs');
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const dir = mkdtempSync(join(tmpdir(), 'folders-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const intoProc = join(dir, 'into-proc'); // a link to a folder of /proc, which takes no new entries
symlinkSync('/proc/self/fdinfo', intoProc);
writeFileSync(join(dir, 'a-file'), 'x\n');
symlinkSync('loop-b', join(dir, 'loop-a'));
symlinkSync('loop-a', join(dir, 'loop-b'));

/** Runs `body` (ESM, top-level await) in a child with the sources through tsx; what it prints, its exit status. */
function inChild(imports: string, body: string) {
  const code = `${imports}\ntry { ${body}; console.log('no error'); } catch (e) { console.log(e.name + ': ' + e.message); }`;
  return spawnSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', code], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    killSignal: 'SIGKILL',
  });
}

const NO_NEW_FILES = 'takes no new files (a read-only or special file system, such as /proc)';

describe('a folder made under /proc (or a link into it) is refused in one line at once', () => {
  it('by the atomic writer (models, lineage, caches, reports)', () => {
    for (const [target, folder, parent] of [
      ['/proc/bert-compress-x/y/f.txt', '/proc/bert-compress-x', '/proc'],
      [join(intoProc, 'y', 'f.txt'), join(intoProc, 'y'), intoProc],
    ]) {
      const r = inChild(`import { writeFileAtomic } from './src/files.ts';`, `writeFileAtomic(${JSON.stringify(target)}, 'a')`);
      expect(r.signal).toBeNull(); // (not killed: it returned)
      expect(r.stdout).toBe(`UserError: ${target}: cannot create folder ${folder}: ${parent} ${NO_NEW_FILES}\n`);
    }
  });

  it('by the lock files (a download, an output folder)', () => {
    const lock = join(intoProc, 'x', '.lock');
    const r = inChild(`import { withFileLock } from './src/file-lock.ts';`, `await withFileLock(${JSON.stringify(lock)}, () => {}, async () => {})`);
    expect(r.signal).toBeNull();
    expect(r.stdout).toBe(`UserError: ${lock}: cannot create folder ${join(intoProc, 'x')}: ${intoProc} ${NO_NEW_FILES}\n`);
  });

  it('by writeHuggingFaceFolder, a GLUE download and a Hub snapshot link', () => {
    const target = join(intoProc, 'hf');
    const r = inChild(
      `import { writeHuggingFaceFolder } from './src/bert/build-hf.ts'; import { bertConfig } from './src/bert/config.ts';`,
      `writeHuggingFaceFolder(${JSON.stringify(target)}, bertConfig({ vocabSize: 8, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16, maxPositions: 8 }), new Map())`,
    );
    expect(r.signal).toBeNull();
    expect(r.stdout).toBe(`UserError: ${target}: cannot create folder ${target}: ${intoProc} ${NO_NEW_FILES}\n`);
    const dest = join(intoProc, 'SST-2', 'dev.tsv');
    // (refused before any request: the address is never fetched)
    const download = inChild(
      `import { downloadVerified } from './src/glue/download/http-file.ts';`,
      `await downloadVerified('http://127.0.0.1:9/dev.tsv', ${JSON.stringify(dest)}, { sha256: '0' })`,
    );
    expect(download.signal).toBeNull();
    expect(download.stdout).toBe(`UserError: ${dest}: cannot create folder ${join(intoProc, 'SST-2')}: ${intoProc} ${NO_NEW_FILES}\n`);
    const snapshot = join(intoProc, 'snapshots', 'abc', 'config.json');
    const link = inChild(`import { linkBlob } from './src/hub/cache.ts';`, `linkBlob(${JSON.stringify(join(dir, 'a-file'))}, ${JSON.stringify(snapshot)})`);
    expect(link.signal).toBeNull();
    expect(link.stdout).toBe(`UserError: ${snapshot}: cannot create folder ${join(intoProc, 'snapshots')}: ${intoProc} ${NO_NEW_FILES}\n`);
  });

  it('names a part of the path that is a file, or a link loop', () => {
    const underFile = join(dir, 'a-file', 'y', 'f.txt');
    const r = inChild(`import { writeFileAtomic } from './src/files.ts';`, `writeFileAtomic(${JSON.stringify(underFile)}, 'a')`);
    expect(r.stdout).toBe(`UserError: ${underFile}: ${join(dir, 'a-file')} is a file, not a folder\n`);
    const inLoop = join(dir, 'loop-a', 'f.txt');
    const loop = inChild(`import { writeFileAtomic } from './src/files.ts';`, `writeFileAtomic(${JSON.stringify(inLoop)}, 'a')`);
    expect(loop.stdout).toBe(`UserError: ${inLoop}: cannot reach ${join(dir, 'loop-a')}: a symbolic link loop (too many symbolic links)\n`);
  });
});

describe("a sweep point's folder", () => {
  it('under a link into /proc: the point fails in one line naming it, and the sweep ends', () => {
    const t = writeTinySweep({ rows: 8 });
    try {
      const sweep = join(t.root, 'one.yaml');
      writeFileSync(
        sweep,
        `name: one
glueDir: glue
models:
  - {path: models/tiny-sst2, tasks: [SST-2]}
calibration: false
bench: {batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1}
pipelines:
  - name: ffn
    steps:
      - {pass: prune-ffn, settings: {ratio: 0.5}}
`,
      );
      const work = join(t.root, 'work');
      mkdirSync(work);
      symlinkSync('/proc/self/fdinfo', join(work, 'tiny-sst2')); // the model's folder of points
      const r = spawnSync(process.execPath, [CLI, 'sweep', sweep, '--store', join(t.root, 's.sqlite'), '--work-dir', work], {
        encoding: 'utf8',
        timeout: 60_000,
        killSignal: 'SIGKILL',
      });
      expect(r.signal).toBeNull();
      expect(r.status).toBe(1);
      expect(r.stdout + r.stderr).toMatch(
        new RegExp(
          `FAILED tiny-sst2 · ffn: the point's work folder ${join(work, 'tiny-sst2')}/ffn-[0-9a-f]{8}: cannot create folder ${join(work, 'tiny-sst2')}/ffn-[0-9a-f]{8}: ${join(work, 'tiny-sst2')} takes no new files`,
        ),
      );
      expect(readdirSync(work)).toEqual(['tiny-sst2']);
      expect(existsSync(join(t.root, 's.sqlite'))).toBe(true);
    } finally {
      t.cleanup();
    }
  });
});

describe('a link to a missing folder is named so, before any work', () => {
  it("ensureFolder (every output folder: eval's --submission, train's -o): the link and its target, where it said 'already exists'", async () => {
    const { ensureFolder } = await import('../src/folders.ts');
    const link = join(dir, 'to-nothing');
    symlinkSync(join(dir, 'missing-folder'), link);
    const line = `--submission ${link}: ${link} is a link to ${join(dir, 'missing-folder')}, which does not exist; create it or give another path`;
    expect(() => ensureFolder(link, `--submission ${link}`)).toThrow(line);
    // (a part of the path: named alike)
    expect(() => ensureFolder(join(link, 'sub'), `--submission ${link}`)).toThrow(line);
    expect(existsSync(join(dir, 'missing-folder'))).toBe(false);
  });

  it("checkFolderOutputName (--format transformers.js's -o): refused before the passes, where the finished folder failed to move onto it ('a part of the path is not a folder')", async () => {
    const { checkFolderOutputName } = await import('../src/destination.ts');
    const link = join(dir, 'tjs-to-nothing');
    symlinkSync('missing-tjs', link);
    expect(() => checkFolderOutputName(link)).toThrow(`-o ${link}: ${link} is a link to missing-tjs, which does not exist; create it or give another path`);
    // a link to a folder there is written through
    mkdirSync(join(dir, 'present-tjs'));
    symlinkSync('present-tjs', join(dir, 'tjs-to-folder'));
    expect(() => checkFolderOutputName(join(dir, 'tjs-to-folder'))).not.toThrow();
  });
});
