import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EvalResult } from '../../src/eval/evaluate.ts';
import { glueScore } from '../../src/eval/glue-score.ts';
import { formatTable, reportJson, toReport, writeReport } from '../../src/eval/report.ts';
import { MNLI_M, MNLI_MM, MRPC, STSB, WNLI } from '../../src/glue/tasks.ts';

function result(includeWnli: boolean): EvalResult {
  const tasks = [
    { task: MRPC, metrics: { accuracy: 0.75, f1: 0.8 }, examples: 408, seconds: 1.23456 },
    {
      task: STSB,
      metrics: { pearson: Number.NaN, spearmanr: Number.NaN },
      undefinedMetrics: { pearson: 'constant predictions', spearmanr: 'constant predictions' },
      examples: 1500,
      seconds: 2,
    },
    { task: WNLI, metrics: { accuracy: 0.5 }, examples: 71, seconds: 0.1 },
  ].map((t) => ({
    ...t,
    split: 'dev' as const,
    file: 'f',
    ids: [],
    predictions: new Float64Array(),
    labelMapping: { outputToLabel: [], from: 'canonical' as const },
  }));
  return { model: 'm.onnx', split: 'dev', maxLength: 128, tasks, glue: glueScore(tasks, { includeWnli }), skipped: [], submissionFiles: [] };
}

describe('JSON report', () => {
  it('has the documented shape, fractions, HF metric keys, and the WNLI flag', () => {
    const r = JSON.parse(reportJson(toReport(result(false))));
    expect(r).toEqual({
      model: 'm.onnx',
      split: 'dev',
      maxLength: 128,
      tasks: {
        MRPC: { metrics: { accuracy: 0.75, f1: 0.8 }, examples: 408, seconds: 1.235 },
        'STS-B': {
          metrics: { pearson: null, spearmanr: null },
          undefinedMetrics: { pearson: 'constant predictions', spearmanr: 'constant predictions' },
          examples: 1500,
          seconds: 2,
        },
        WNLI: { metrics: { accuracy: 0.5 }, examples: 71, seconds: 0.1 },
      },
      glueScore: null,
      glueScoreUndefined: 'STS-B: Pearson and Spearman undefined (constant predictions)',
      glueScoreIncludesWnli: false,
    });
  });

  it('keeps null for "no scored task", without glueScoreUndefined', () => {
    const r = result(false);
    const wnliOnly = r.tasks.filter((t) => t.task === WNLI);
    const json = JSON.parse(reportJson(toReport({ ...r, tasks: wnliOnly, glue: glueScore(wnliOnly, { includeWnli: false }) })));
    expect(json.glueScore).toBeNull();
    expect('glueScoreUndefined' in json).toBe(false);
  });
});

describe('--out file', () => {
  it("removes the temporaries of r.json that a killed earlier run left beside it (Ctrl-C, SIGKILL), and no one else's", () => {
    const dir = mkdtempSync(join(tmpdir(), 'eval-report-'));
    const dead = 'r.json.4194305.abc123.tmp'; // (a pid above Linux's largest: no process's)
    const kept = ['r.json.4194305.fresh1.tmp', `r.json.${process.pid}.live12.tmp`, 'other.json.4194305.abc123.tmp'];
    const old = new Date(Date.now() - 10 * 60_000);
    for (const name of [dead, ...kept]) {
      writeFileSync(join(dir, name), '{"half');
      if (name !== kept[0]) utimesSync(join(dir, name), old, old);
    }
    writeReport(join(dir, 'r.json'), toReport(result(true)));
    expect(readdirSync(dir).sort()).toEqual(['r.json', ...kept].sort());
  });
});

describe('table', () => {
  it('shows metrics ×100 and whether WNLI counted', () => {
    const lines = formatTable({
      ...result(true),
      tasks: result(true).tasks.filter((t) => t.task !== STSB),
      glue: glueScore(
        result(true).tasks.filter((t) => t.task !== STSB),
        { includeWnli: true },
      ),
    });
    expect(lines.join('\n')).toContain('acc 75.00, F1 80.00');
    expect(lines.at(-1)).toBe('GLUE score: 63.75 over MRPC, WNLI (WNLI included)');
    const excluded = result(false);
    const scored = excluded.tasks.filter((t) => t.task !== STSB);
    expect(formatTable({ ...excluded, tasks: scored, glue: glueScore(scored, { includeWnli: false }) }).join('\n')).toContain('(WNLI excluded)');
    const mrpcOnly = { ...excluded, tasks: excluded.tasks.slice(0, 1), glue: glueScore(excluded.tasks.slice(0, 1), { includeWnli: true }) };
    expect(formatTable(mrpcOnly).at(-1)).toBe('GLUE score: 77.50 over MRPC (WNLI not evaluated)');
    // MNLI-mm alone is not MNLI (the mean of -m and -mm): the line names the task that counted
    const mm = [{ ...excluded.tasks[0]!, task: MNLI_MM, metrics: { accuracy: 0.8 } }];
    expect(formatTable({ ...excluded, tasks: mm, glue: glueScore(mm, { includeWnli: true }) }).at(-1)).toBe(
      'GLUE score: 80.00 over MNLI-mm (WNLI not evaluated)',
    );
    const both = [...mm, { ...mm[0]!, task: MNLI_M, metrics: { accuracy: 0.7 } }];
    expect(formatTable({ ...excluded, tasks: both, glue: glueScore(both, { includeWnli: true }) }).at(-1)).toBe(
      'GLUE score: 75.00 over MNLI (WNLI not evaluated)',
    );
  });

  it('shows why an undefined metric is undefined, and the GLUE score as undefined with the reason (not as no scored task)', () => {
    const lines = formatTable(result(true));
    expect(lines.join('\n')).toMatch(/STS-B +1500 +Pearson undefined \(constant predictions\), Spearman undefined \(constant predictions\)/);
    expect(lines.at(-1)).toBe('GLUE score: undefined: STS-B: Pearson and Spearman undefined (constant predictions)');
  });

  it('says WNLI was left out when it is the only task scored (--tasks WNLI --no-include-wnli), not that nothing was', () => {
    const wnli = result(false).tasks.filter((t) => t.task === WNLI);
    expect(formatTable({ ...result(false), tasks: wnli, glue: glueScore(wnli, { includeWnli: false }) }).at(-1)).toBe(
      'GLUE score: - (WNLI excluded, no other task scored)',
    );
    const unlabelled = wnli.map((t) => ({ ...t, split: 'test' as const, metrics: {} }));
    expect(formatTable({ ...result(false), split: 'test', tasks: unlabelled, glue: glueScore(unlabelled, { includeWnli: false }) }).at(-1)).toBe(
      'GLUE score: - (no labelled test results)',
    );
  });
});
