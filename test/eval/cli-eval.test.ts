/**
 * The eval and data commands' `run` functions, called directly (the CLI registration is done elsewhere).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dataCommand, type DataArgs } from '../../src/cli/commands/data.ts';
import { evalCommand, type EvalArgs } from '../../src/cli/commands/eval.ts';
import { GLUE_DIR, TEACHERS, hasGlue, hasTeachers } from '../helpers/paths.ts';
import { serveFiles } from '../helpers/glue-server.ts';

type RunArgs<A> = Parameters<typeof evalCommand.run>[0] & A;
const evalArgs = (a: Partial<EvalArgs> & { model: string }) =>
  ({ _: ['eval'], $0: 'compress', split: 'dev', 'include-wnli': true, json: false, ...a }) as unknown as RunArgs<EvalArgs>;

let stdout: string[];
let stderr: string[];
beforeEach(() => {
  stdout = [];
  stderr = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

describe.skipIf(!hasGlue || !hasTeachers)('eval command (needs ../shared/glue and ../shared/teachers)', () => {
  const model = join(TEACHERS, 'sst2-L4H256');

  it('--json prints the report and --out writes the same JSON', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'eval-')), 'result.json');
    const code = await evalCommand.run(evalArgs({ model, tasks: ['sst2'], 'glue-dir': GLUE_DIR, json: true, out, threads: 1 }));
    expect(code).toBe(0);
    const printed = JSON.parse(stdout.join(''));
    expect(printed).toMatchObject({ model: join(model, 'model.onnx'), split: 'dev', glueScoreIncludesWnli: false });
    expect(Object.keys(printed.tasks)).toEqual(['SST-2']);
    expect(printed.tasks['SST-2'].examples).toBe(872);
    expect(printed.tasks['SST-2'].metrics.accuracy).toBeCloseTo(0.7339, 3);
    expect(printed.glueScore).toBe(printed.tasks['SST-2'].metrics.accuracy);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(printed);
  });

  it('prints a table by default', async () => {
    await evalCommand.run(evalArgs({ model, tasks: ['SST-2'], 'glue-dir': GLUE_DIR, threads: 1 }));
    const text = stdout.join('');
    expect(text).toMatch(/SST-2\s+872\s+acc 73\.\d\d/);
    expect(text).toContain('GLUE score: 73.');
    // the folder's model file is named (a folder may hold several); a file given as is is not
    expect(stderr.join('')).toContain(`evaluated ${join(model, 'model.onnx')}\n`);
    stderr.length = 0;
    await evalCommand.run(evalArgs({ model: join(model, 'model.onnx'), tasks: ['SST-2'], 'glue-dir': GLUE_DIR, threads: 1 }));
    expect(stderr.join('')).not.toContain('evaluated');
  });
});

describe.skipIf(!hasGlue)('data command (needs ../shared/glue)', () => {
  it('downloads the diagnostic set from a --base-url mirror', async () => {
    const server = await serveFiles({ 'AX.tsv': readFileSync(join(GLUE_DIR, 'diagnostic/diagnostic.tsv')) });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'data-'));
      const args = { _: ['data'], $0: 'compress', action: 'download', tasks: ['AX'], dir, 'base-url': server.baseUrl, force: false } as unknown as Parameters<
        typeof dataCommand.run
      >[0] &
        DataArgs;
      expect(await dataCommand.run(args)).toBe(0);
      expect(readFileSync(join(dir, 'diagnostic/diagnostic.tsv')).equals(readFileSync(join(GLUE_DIR, 'diagnostic/diagnostic.tsv')))).toBe(true);
      expect(stdout.join('')).toContain('1 task installed');
    } finally {
      await server.close();
    }
  });
});
