/** `compress eval` end to end, as a user runs it (the command is registered in src/cli/commands/index.ts). */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { GLUE_DIR, TEACHERS, hasGlue, hasTeachers } from '../helpers/paths.ts';

const run = promisify(execFile);

async function compress(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/compress.mjs', ...args], { env: { ...process.env, GLUE_DIR }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe.skipIf(!hasGlue || !hasTeachers)('compress eval (spawned) (needs ../shared/glue and ../shared/teachers)', () => {
  it('prints the JSON report and exits 0', async () => {
    const r = await compress('eval', join(TEACHERS, 'sst2-L4H256'), '--task', 'sst2', '--json', '--threads', '1');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.tasks['SST-2'].examples).toBe(872);
    expect(report.glueScoreIncludesWnli).toBe(false);
    expect(r.stderr).toBe('');
  });

  it('exits 2 (a usage mistake) with a one-line message for an unknown task', async () => {
    const r = await compress('eval', join(TEACHERS, 'sst2-L4H256'), '--task', 'rtee');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "compress: unknown task 'rtee'. Did you mean 'RTE'? Known tasks: CoLA, SST-2, MRPC, STS-B, QQP, MNLI-m, MNLI-mm, QNLI, RTE, WNLI, AX, MNLI, all\n",
    );
  });
});
