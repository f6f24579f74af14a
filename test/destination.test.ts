/** Output destinations checked before work, and fs failures as one line (src/destination.ts). */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOutputFile, checkOutputFiles, checkOutputFolder, ensureFolder, fileSystemError, removeCreatedFolders } from '../src/destination.ts';
import { UserError } from '../src/errors.ts';
import { evalCommand } from '../src/cli/commands/eval.ts';

describe('destinations', () => {
  it('creates missing folders level by level, and leaves no probe file behind', () => {
    const root = mkdtempSync(join(tmpdir(), 'dest-'));
    checkOutputFolder(join(root, 'a', 'b', 'c'));
    expect(readdirSync(join(root, 'a', 'b', 'c'))).toEqual([]);
    checkOutputFile(join(root, 'a', 'x.onnx'));
    expect(readdirSync(join(root, 'a'))).toEqual(['b']);
  });

  it('removeCreatedFolders removes the empty folders it created, deepest first, and keeps the rest', () => {
    const root = mkdtempSync(join(tmpdir(), 'dest-'));
    removeCreatedFolders(); // forget folders made by earlier tests
    checkOutputFolder(join(root, 'a', 'b', 'c'));
    checkOutputFolder(join(root, 'kept', 'inner'));
    writeFileSync(join(root, 'kept', 'file'), 'x');
    removeCreatedFolders();
    expect(readdirSync(root)).toEqual(['kept']);
    expect(readdirSync(join(root, 'kept'))).toEqual(['file']);
    removeCreatedFolders(); // forgotten: nothing more is removed
    expect(readdirSync(root)).toEqual(['kept']);
    // inside given folders only: the others (shared with other processes) stay, listed for a later call
    checkOutputFolder(join(root, 'shared', 'own', 'inner'));
    checkOutputFolder(join(root, 'shared', 'other'));
    removeCreatedFolders([join(root, 'shared', 'own')]);
    expect(readdirSync(join(root, 'shared'))).toEqual(['other']);
    removeCreatedFolders([join(root, 'shared', 'own')]); // (own gone and forgotten: nothing more to remove)
    expect(readdirSync(join(root, 'shared'))).toEqual(['other']);
    removeCreatedFolders();
    expect(readdirSync(root)).toEqual(['kept']);
  });

  it('refuses folders, devices and paths through files, each in one line', () => {
    const root = mkdtempSync(join(tmpdir(), 'dest-'));
    writeFileSync(join(root, 'f'), 'x');
    expect(() => checkOutputFile(root, '-o')).toThrow(/-o: .* is a folder; give a file name/);
    expect(() => checkOutputFile('/dev/null', '-o')).toThrow(/is not a regular file \(a device, pipe or socket\)/);
    expect(() => checkOutputFolder(join(root, 'f'), '--out')).toThrow(/--out: .*f is a file, not a folder/);
    expect(() => checkOutputFile(join(root, 'f', 'g', 'x.onnx'), '-o')).toThrow(/f is a file, not a folder/);
  });

  it('checks several files: each one refused by type, their folders created and left empty', () => {
    const root = mkdtempSync(join(tmpdir(), 'dest-'));
    checkOutputFiles([join(root, 'a', 'x.onnx'), join(root, 'a', 'x.onnx.json'), join(root, 'b', 'y.txt')], '-o');
    expect(readdirSync(root).sort()).toEqual(['a', 'b']);
    expect(readdirSync(join(root, 'a'))).toEqual([]);
    expect(() => checkOutputFiles([join(root, 'a', 'x.onnx'), join(root, 'b')], '-o')).toThrow(/-o: .*b is a folder; give a file name/);
  });

  it('refuses a name too long to be written through its temporary name, before creating anything', () => {
    const root = mkdtempSync(join(tmpdir(), 'dest-'));
    const longest = `${'n'.repeat(229)}.onnx`; // 234 bytes: + '.<pid>.<8>.tmp' (21) = 255
    expect(() => checkOutputFiles([join(root, 'sub', `x${longest}`)], '-o X')).toThrow(/-o X: the file name …n{19}\.onnx is too long \(235 bytes; at most 234/);
    expect(readdirSync(root)).toEqual([]);
    checkOutputFiles([join(root, longest)], '-o X');
    // multi-byte names count in bytes
    expect(() => checkOutputFiles([join(root, 'é'.repeat(118))], '-o X')).toThrow(/236 bytes/);
  });

  it('returns at once under /proc, where a recursive mkdir never returns', () => {
    expect(() => ensureFolder('/proc/bert-compress-x/y', '--out')).toThrow(
      /^--out: cannot create folder \/proc\/bert-compress-x: \/proc takes no new files \(a read-only or special file system, such as \/proc\)$/,
    );
  });

  it('says a folder of a special file system takes no new files (/proc answers "no such file" to any new one, root or not)', () => {
    expect(() => checkOutputFile('/proc/bert-compress-x.onnx', '-o /proc/bert-compress-x.onnx')).toThrow(
      /^-o \/proc\/bert-compress-x\.onnx: cannot write files in \/proc: the folder takes no new files \(a read-only or special file system, such as \/proc\)$/,
    );
  });

  it('maps fs errors to one line and leaves other errors alone', () => {
    const e = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write', path: '/data/out.onnx' });
    const mapped = fileSystemError(e);
    expect(mapped).toBeInstanceOf(UserError);
    expect(mapped!.message).toBe('cannot write /data/out.onnx: no space left on the device');
    expect(fileSystemError(new TypeError('x'))).toBeUndefined();
    expect(fileSystemError(Object.assign(new Error('?'), { code: 'EWHATEVER', syscall: 'open' }))).toBeUndefined();
  });

  it('eval --out is checked before evaluating', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'dest-'));
    const args = { _: ['eval'], $0: 'compress', model: '/no/such/model', tasks: ['sst2'], split: 'dev', json: false, out: folder } as unknown as Parameters<
      typeof evalCommand.run
    >[0];
    await expect(evalCommand.run(args)).rejects.toThrow(/--out .*: .* is a folder; give a file name/);
  });
});
