/** writeFileAtomic: a failed write leaves neither the target nor its temporary, and names the file it was writing. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { fileSystemError } from '../src/destination.ts';

const fail = vi.hoisted(() => ({ on: false, skip: 0 }));
vi.mock('node:fs', async (original) => {
  const fs = await original<typeof import('node:fs')>();
  const writeSync = ((...args: Parameters<typeof fs.writeSync>) => {
    if (fail.on && fail.skip-- <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    return (fs.writeSync as (...a: unknown[]) => number)(...args);
  }) as typeof fs.writeSync;
  return { ...fs, default: { ...fs, writeSync }, writeSync };
});

const {
  jsonObjectKeys,
  jsonTopLevelNumbers,
  readLines,
  READ_CHUNK_BYTES,
  removeStaleTemporaries,
  sha256File,
  sha256FileSync,
  writeFileAtomic,
  writeFilesAtomic,
} = await import('../src/files.ts');
const { saveModel } = await import('../src/onnx/save.ts');
const { tinyBert } = await import('./helpers/models.ts');

describe('writeFileAtomic on a full disk', () => {
  it('removes its temporary, keeps no target, and the error names the target in one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const target = join(dir, 'report.csv');
    fail.on = true;
    let caught: unknown;
    try {
      writeFileAtomic(target, 'a,b\n');
    } catch (e) {
      caught = e;
    } finally {
      fail.on = false;
    }
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    expect(fileSystemError(caught)?.message).toBe(`cannot write ${target}: no space left on the device`);
  });
});

describe('writeFileAtomic over a folder', () => {
  it('removes its temporary and the error names the target, not the temporary it moved', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const target = join(dir, 'report.json');
    mkdirSync(join(target, 'inside'), { recursive: true });
    let caught: unknown;
    try {
      writeFileAtomic(target, '{}');
    } catch (e) {
      caught = e;
    }
    expect(readdirSync(dir)).toEqual(['report.json']);
    expect(fileSystemError(caught, undefined, '--out')?.message).toMatch(
      new RegExp(`^--out: cannot move into ${target.replace(/[.]/g, '\\.')}: (is a folder|already exists)$`),
    );
  });
});

describe('an output written after a writer was killed', () => {
  it("removeStaleTemporaries removes the target's temporaries of dead processes left unwritten for a minute, and no other file", () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const target = join(dir, 'model.onnx');
    const dead = spawnSync(process.execPath, ['-e', '']).pid!; // exited: its pid runs nothing now
    const old = Date.now() / 1000 - 3600;
    const file = (name: string, mtime?: number) => {
      writeFileSync(join(dir, name), 'x');
      if (mtime !== undefined) utimesSync(join(dir, name), mtime, mtime);
      return name;
    };
    const stale = file(`model.onnx.${dead}.abcdefgh.tmp`, old);
    const fresh = file(`model.onnx.${dead}.ijklmnop.tmp`); // perhaps a live writer on another host
    const live = file(`model.onnx.${process.pid}.qrstuvwx.tmp`, old);
    const other = file(`other.onnx.${dead}.abcdefgh.tmp`, old);
    writeFileAtomic(target, 'model');
    expect(existsSync(join(dir, stale)), 'not on every atomic write (cache folders)').toBe(true);
    removeStaleTemporaries(target);
    expect(existsSync(join(dir, stale))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual([fresh, live, 'model.onnx', other].sort());
  });
});

describe('writeFilesAtomic', () => {
  it('writes all files or none: the disk filling at the second leaves the first as it was, and no temporary', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    writeFileAtomic(join(dir, 'report.md'), 'old table');
    fail.on = true;
    fail.skip = 1; // the first file's write goes through
    try {
      expect(() =>
        writeFilesAtomic([
          [join(dir, 'report.md'), 'new table'],
          [join(dir, 'report.csv'), 'a,b'],
        ]),
      ).toThrow(/ENOSPC/);
    } finally {
      fail.on = false;
      fail.skip = 0;
    }
    expect(readdirSync(dir)).toEqual(['report.md']);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toBe('old table');
    writeFilesAtomic([
      [join(dir, 'report.md'), 'new table'],
      [join(dir, 'report.csv'), 'a,b'],
    ]);
    expect(readdirSync(dir).sort()).toEqual(['report.csv', 'report.md']);
  });
});

describe('writeFileAtomic from pieces (a file too large to be one string)', () => {
  it('writes the chunks of an iterable in order as it yields them, never the whole at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const target = join(dir, 'cache.jsonl');
    const written: number[] = [];
    function* pieces(): Generator<Uint8Array> {
      for (const text of ['{"a":1}\n', '{"b":"café"}\n', '{"c":3}\n']) {
        yield Buffer.from(text);
        // what the temporary holds when the next piece is asked for
        const tmp = readdirSync(dir).find((n) => n.endsWith('.tmp'))!;
        written.push(statSync(join(dir, tmp)).size);
      }
    }
    writeFileAtomic(target, pieces());
    expect(written).toEqual([8, 8 + 14, 8 + 14 + 8]);
    expect(readFileSync(target, 'utf8')).toBe('{"a":1}\n{"b":"café"}\n{"c":3}\n');
    expect(readdirSync(dir)).toEqual(['cache.jsonl']);
  });

  it('an iterable that throws part way leaves the target as it was and no temporary', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const target = join(dir, 'cache.jsonl');
    writeFileAtomic(target, 'old\n');
    function* failing(): Generator<Uint8Array> {
      yield Buffer.from('new\n');
      throw new RangeError('Invalid string length');
    }
    expect(() => writeFileAtomic(target, failing())).toThrow('Invalid string length');
    expect(readdirSync(dir)).toEqual(['cache.jsonl']);
    expect(readFileSync(target, 'utf8')).toBe('old\n');
  });
});

describe('readLines', () => {
  it("gives a file's lines as split('\\n') does (no last empty line), whatever the chunk size: lines and UTF-8 characters split across chunks", () => {
    const dir = mkdtempSync(join(tmpdir(), 'lines-'));
    const texts = ['', '\n', 'one', 'one\n', 'one\ntwo', 'one\n\ntwo\n', '\n\nx\n\n', 'café 🙂 naïve\nπ≈3.14\n🙂🙂🙂\n', `${'long line '.repeat(50)}\nshort\n`];
    for (const [i, text] of texts.entries()) {
      const file = join(dir, `f${i}.txt`);
      writeFileSync(file, text);
      const expected = text.split('\n');
      if (expected.at(-1) === '') expected.pop();
      for (const chunkBytes of [1, 2, 3, 5, 7, 64, 1 << 20])
        expect([...readLines(file, chunkBytes)], `${JSON.stringify(text)} at ${chunkBytes}`).toEqual(expected);
    }
  });

  it('refuses a chunk size that is not a positive integer', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lines-')), 'f.txt');
    writeFileSync(file, 'x\n');
    expect(() => [...readLines(file, 0)]).toThrow(RangeError);
  });
});

describe('jsonObjectKeys', () => {
  it("gives an object's keys in the file's order (JSON.parse puts '1' before '-1'), each once at its first place, under the last of a repeated key", () => {
    expect(Object.keys(JSON.parse('{"-1": 0, "1": 0}'))).toEqual(['1', '-1']);
    expect(jsonObjectKeys('{"a": [1, {"k": "}"}], "k": {"-1": 0, "1": {"x": [2]}, "01": "\\"}", "-1": 3}}', 'k')).toEqual(['-1', '1', '01']);
    expect(jsonObjectKeys('\ufeff {"k": {"b": 1}, "k": {"z": true, "y": null, "z": -1.5e3}}', 'k')).toEqual(['z', 'y']);
    expect(jsonObjectKeys('{"k": {}}', 'k')).toEqual([]);
    expect(jsonObjectKeys('{"k": {"a": 1}, "k": [1]}', 'k')).toBeUndefined();
    expect(jsonObjectKeys('{"k": 1, "j": {"a": 1}}', 'k')).toBeUndefined();
    expect(jsonObjectKeys('{"j": {"k": {"a": 1}}}', 'k')).toBeUndefined();
    expect(jsonObjectKeys('[{"k": {"a": 1}}]', 'k')).toBeUndefined();
    expect(jsonObjectKeys('{"\\u006b": {"a": 1}}', 'k')).toEqual(['a']);
  });
});

describe('jsonTopLevelNumbers', () => {
  it("gives the top-level object's numbers as written (JSON.parse reads 1.0 as 1), a repeated key's last, and none of other values", () => {
    expect(JSON.parse('{"a": 1.0}')).toEqual({ a: 1 });
    const text = '\ufeff {"a": 1.0, "b": [2.0], "c": -0, "d": 1E+2, "\\"e: 3.0": "4.0", "f": {"g": 5.0}, "h": 7, "h": 7.5, "i": 1, "i": null}';
    expect([...jsonTopLevelNumbers(text)]).toEqual([
      ['a', '1.0'],
      ['c', '-0'],
      ['d', '1E+2'],
      ['h', '7.5'],
    ]);
    expect(jsonTopLevelNumbers('[1.0]').size).toBe(0);
    expect(jsonTopLevelNumbers('{}').size).toBe(0);
  });
});

describe('sha256FileSync', () => {
  it('gives what sha256File gives, for an empty file, a small one and one of several read chunks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sha-'));
    for (const [i, bytes] of [0, 5, 2 * READ_CHUNK_BYTES + 3].entries()) {
      const file = join(dir, `f${i}`);
      writeFileSync(file, Buffer.alloc(bytes, i + 1));
      expect(sha256FileSync(file)).toBe(await sha256File(file));
    }
    expect(sha256FileSync(join(dir, 'f0'))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('saveModel', () => {
  it("removes a killed earlier writer's temporary beside the model it writes", () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const stale = join(dir, `model.onnx.${dead}.abcdefgh.tmp`);
    writeFileSync(stale, 'x');
    utimesSync(stale, Date.now() / 1000 - 3600, Date.now() / 1000 - 3600);
    saveModel(tinyBert(), join(dir, 'model.onnx'));
    expect(readdirSync(dir)).toEqual(['model.onnx']);
  });
});
