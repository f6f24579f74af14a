/**
 * A `~` no shell expanded on the command line (a quoted "~/my models/m.onnx", a `--flag=~/…` word, where bash expands
 * no tilde) is the home folder, as the shell's unquoted `~`: it named a folder `~` in the working folder, which
 * compress made and wrote its model into.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shellTildeWord } from '../../src/environment.ts';
import { runMain } from '../helpers/cli.ts';
import { writeTinyBert } from '../helpers/models.ts';

const root = mkdtempSync(join(tmpdir(), 'tilde-words-'));
const home = join(root, 'home');
const work = join(root, 'work');
mkdirSync(home);
mkdirSync(work);
const tiny = writeTinyBert({ numLayers: 1 });
afterAll(() => {
  tiny.cleanup();
  rmSync(root, { recursive: true, force: true });
});

describe('a ~ the shell did not expand on the command line', () => {
  it("compress -o=~/… (bash expands no ~ after '=') writes into the home folder, not a folder '~' in the working folder", async () => {
    const r = await runMain([tiny.path, '--prune-heads', '0.5', '-o=~/out/pruned.onnx'], { HOME: home }, work);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(home, 'out', 'pruned.onnx'))).toBe(true);
    expect(existsSync(join(work, '~'))).toBe(false);
    expect(r.stdout).toContain(`wrote ${join(home, 'out', 'pruned.onnx')} `);
    // a quoted one as an argument ("~/out/pruned.onnx", quoted for a space a path may hold) too
    const inspected = await runMain(['inspect', '~/out/pruned.onnx'], { HOME: home }, work);
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(inspected.stdout.split('\n')[0]).toBe(join(home, 'out', 'pruned.onnx'));
  });

  it('a ~user no user database knows is kept as written, as the shell keeps it', async () => {
    const r = await runMain(['inspect', '~no-such-user-h58/m.onnx'], { HOME: home }, work);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('compress: ~no-such-user-h58/m.onnx: no such file or folder\n');
  });

  it('shellTildeWord reads a leading ~ or ~user as bash reads an unquoted one', () => {
    const env = { HOME: '/h/me/' };
    expect(shellTildeWord('~', env)).toBe('/h/me');
    expect(shellTildeWord('~/a b/m.onnx', env)).toBe('/h/me/a b/m.onnx');
    expect(shellTildeWord('~root/m.onnx', env)).toBe('/root/m.onnx'); // (/etc/passwd lists root)
    expect(shellTildeWord('~no-such-user-h58/m.onnx', env)).toBe('~no-such-user-h58/m.onnx');
    for (const kept of ['~+/m.onnx', '~-', 'a/~/m.onnx', 'm~.onnx', 'SST-2']) expect(shellTildeWord(kept, env)).toBe(kept);
  });
});
