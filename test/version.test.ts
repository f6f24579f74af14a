/**
 * The code fingerprint a queue worker compares with its coordinator's (codeHash) is that of the code, not of the
 * checkout's platform: a Windows checkout, its paths listed with `\` and its files checked out with CRLF line ends
 * (git's core.autocrlf), hashes as a POSIX checkout of the same code, where each of the two gave another hash and a
 * worker on one refused a coordinator on the other as running other code.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { codeHash } from '../src/version.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-code-hash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A package folder of `files` (name → text) under its src/, with `eol` line ends; its src/ folder. */
function checkout(name: string, files: Record<string, string>, eol: string): string {
  const src = join(root, name, 'src');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, '..', 'package.json'), `{${eol}  "name": "x"${eol}}${eol}`);
  for (const [file, text] of Object.entries(files)) {
    const parts = file.split('/');
    if (parts.length > 1) mkdirSync(join(src, ...parts.slice(0, -1)), { recursive: true });
    writeFileSync(join(src, ...parts), text.replaceAll('\n', eol));
  }
  return src;
}

describe('codeHash', () => {
  const code = { 'a.ts': 'export const a = 1;\nexport const b = 2;\n', 'cli/b_c.ts': 'export {};\n', 'cli-x.ts': '// x\n' };

  it('is the same for a checkout with CRLF line ends and one whose paths are listed with backslashes', () => {
    const posix = codeHash(checkout('posix', code, '\n'));
    expect(codeHash(checkout('crlf', code, '\r\n'))).toBe(posix);
    // (a name with a backslash, as Windows lists a file in a folder: here one file of that name)
    const windows = Object.fromEntries(Object.entries(code).map(([f, text]) => [f.replaceAll('/', '\\'), text]));
    expect(codeHash(checkout('windows', windows, '\r\n'))).toBe(posix);
  });

  it('differs where a file or its name differs', () => {
    const posix = codeHash(checkout('base', code, '\n'));
    expect(codeHash(checkout('edited', { ...code, 'a.ts': 'export const a = 1;\nexport const b = 3;\n' }, '\n'))).not.toBe(posix);
    expect(codeHash(checkout('renamed', { 'a.ts': code['a.ts'], 'cli/b_d.ts': 'export {};\n', 'cli-x.ts': '// x\n' }, '\n'))).not.toBe(posix);
    expect(codeHash(checkout('lone-cr', { ...code, 'a.ts': 'export const a = 1;\rexport const b = 2;\n' }, '\n'))).not.toBe(posix);
  });
});
