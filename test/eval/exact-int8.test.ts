/**
 * `compress eval --exact-int8` (evaluate's exactInt8): an int8 model scored as CPUs with AVX-512 VNNI / AVX-VNNI score
 * it, on any CPU; without it, on an x86 CPU without VNNI (int8 products added in saturating 16-bit pairs), a warning.
 * The demo's int8 point (sst2-L4H256, per channel, embeddings too): SST-2 dev 72.94 on a VNNI Xeon (README), 73.28 on
 * this AVX2-only EPYC by default, 72.94 here with --exact-int8.
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { evalCommand, type EvalArgs } from '../../src/cli/commands/eval.ts';
import { findBert } from '../../src/bert/discover.ts';
import { evaluate } from '../../src/eval/index.ts';
import { openSession } from '../../src/runtime/session.ts';
import { loadModel, saveModel } from '../../src/onnx/index.ts';
import { parseQuantizeSettings, quantizeModel } from '../../src/quantize/index.ts';
import { GLUE_DIR, TEACHERS, hasGlue, hasTeachers } from '../helpers/paths.ts';
import { INT8_SATURATES } from '../helpers/run-model.ts';

type RunArgs = Parameters<typeof evalCommand.run>[0];
const evalArgs = (a: Partial<EvalArgs> & { model: string }) =>
  ({ _: ['eval'], $0: 'compress', split: 'dev', 'include-wnli': true, json: true, ...a }) as unknown as RunArgs;

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

describe.skipIf(!hasGlue || !hasTeachers)('eval --exact-int8 (needs ../shared/glue and ../shared/teachers)', () => {
  const teacher = join(TEACHERS, 'sst2-L4H256');
  let int8: string;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exact-int8-eval-'));
    const model = loadModel(join(teacher, 'model.onnx'));
    const q = await quantizeModel(model, findBert(model), parseQuantizeSettings({ mode: 'int8' }));
    int8 = join(dir, 'model.onnx');
    saveModel(q.model, int8);
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'])
      copyFileSync(join(teacher, f), join(dir, f));
  }, 120_000);

  const run = async (extra: Partial<EvalArgs>) => {
    expect(await evalCommand.run(evalArgs({ model: int8, tasks: ['sst2'], 'glue-dir': GLUE_DIR, threads: 1, ...extra }))).toBe(0);
    return JSON.parse(stdout.join('')) as { glueScore: number; int8Saturated?: boolean; warnings?: string[] };
  };

  it("scores the demo's int8 point as a VNNI CPU does on any CPU", async () => {
    const report = await run({ 'exact-int8': true });
    expect(report.glueScore).toBeCloseTo(0.7294, 4);
    expect(report.int8Saturated).toBe(false);
    expect(stderr.join('')).not.toContain('VNNI');
  }, 120_000);

  it('without it, says where the int8 products saturate (this CPU: 73.28), and records it', async () => {
    const report = await run({});
    const warning = stderr
      .join('')
      .split('\n')
      .filter((l) => l.includes('VNNI'));
    if (INT8_SATURATES) {
      expect(report.glueScore).toBeCloseTo(0.7328, 4);
      expect(report.int8Saturated).toBe(true);
      expect(warning).toEqual([
        `warning: ${int8}: this CPU has no AVX-512 VNNI / AVX-VNNI, so onnxruntime adds the products of the model's 26 full-range int8 weights in saturating 16-bit pairs: its scores can differ from a VNNI CPU's; --exact-int8 scores as VNNI CPUs do (slower)`,
      ]);
    } else {
      expect(report.glueScore).toBeCloseTo(0.7294, 4);
      expect(report.int8Saturated).toBe(false);
      expect(warning).toEqual([]);
    }
  }, 120_000);

  it("the library's warning names its option (exactInt8), where compress eval names the flag", async () => {
    const result = await evaluate({ model: int8, tasks: ['sst2'], glueDir: GLUE_DIR, threads: 1 });
    const warning = (result.warnings ?? []).filter((l) => l.includes('VNNI'));
    if (INT8_SATURATES) {
      expect(warning).toHaveLength(1);
      expect(warning[0]).toMatch(/its scores can differ from a VNNI CPU's; exactInt8 scores as VNNI CPUs do \(slower\)$/);
    } else expect(warning).toEqual([]);
  }, 120_000);

  it('a float model: nothing said or recorded', async () => {
    expect(await evalCommand.run(evalArgs({ model: teacher, tasks: ['sst2'], 'glue-dir': GLUE_DIR, threads: 1, 'exact-int8': true }))).toBe(0);
    const report = JSON.parse(stdout.join('')) as { glueScore: number; int8Saturated?: boolean };
    expect(report.glueScore).toBeCloseTo(0.7339, 4);
    expect(report.int8Saturated).toBeUndefined();
  }, 120_000);

  it('the library refuses exactInt8 with an opened session, naming the option', async () => {
    const session = await openSession(int8, { threads: 1 });
    try {
      await expect(evaluate({ model: session, tasks: ['sst2'], tokenizer: teacher, glueDir: GLUE_DIR, exactInt8: true })).rejects.toThrow(
        /^exactInt8 opens the model with its own session options; the model given is an opened session: give its path or bytes$/,
      );
    } finally {
      await session.release();
    }
  });
});
