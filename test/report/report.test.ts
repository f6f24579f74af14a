import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../src/report/rows.ts';
import { describeMachine } from '../../src/bench/machine.ts';
import { timingWithLoad } from '../../src/bench/timing-lock.ts';
import {
  FAILED_NOTE,
  FAILED_REFUSED_NOTE,
  FAILED_STALE_NOTE,
  SIZE_NOTE,
  displayTable,
  toCsv,
  toJson,
  toMarkdown,
  formatMetrics,
  mdCell,
} from '../../src/report/table.ts';
import { LABEL_LIMIT, PANEL_WIDTH, chartPoints, chartSpec, renderCharts, sansTextWidth } from '../../src/report/charts.ts';
import { escapeHtml } from '../../src/report/html.ts';
import { REPORT_RECORD, writeReportFiles, type EarlierReportFile } from '../../src/report/write.ts';
import { markContended } from '../../src/sweep/contention.ts';
import Database from 'better-sqlite3';
import { SettingsError, UserError } from '../../src/errors.ts';
import { loadReport } from '../../src/report/write.ts';
import { dataChange, findStale, staleChange } from '../../src/sweep/stale.ts';
import { fileStamps } from '../../src/files.ts';
import { SweepStore, type StoredPoint } from '../../src/sweep/store.ts';
import { currentVersions, pointKey, toolVersion, type PointVersions } from '../../src/sweep/key.ts';
import type { SweepPoint } from '../../src/sweep/plan.ts';
import { getPass } from '../../src/pass/registry.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { fakePoint, posterPoints, storePoints } from './points.ts';

/** A CSV cell as toCsv quotes a text with commas. */
const csvQuoted = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** The report.html `writeReportFiles` writes for `data` (into a folder removed afterwards). */
async function writtenHtml(data: ReturnType<typeof buildReport>, store: string): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'report-html-'));
  try {
    await writeReportFiles(data, out, ['html'], store);
    return readFileSync(join(out, 'report.html'), 'utf8');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
describe('report rows', () => {
  const data = buildReport(posterPoints());
  const row = (model: string, label: string) => data.rows.find((r) => r.model === model && r.label === label)!;

  it('orders rows by model, baseline first, and relates each to its own baseline', () => {
    expect(data.rows.map((r) => `${r.model}/${r.label}`)).toEqual([
      'sst2/baseline',
      'sst2/combined',
      'sst2/factorized',
      'sst2/heads-40%',
      'sst2/int8',
      'stsb/baseline',
      'stsb/broken',
      'stsb/int8',
    ]);
    expect(row('sst2', 'int8').bytesOfOriginal).toBeCloseTo(11.4 / 44.7, 6);
    expect(row('sst2', 'int8').glueOfOriginal).toBeCloseTo(0.731 / 0.734, 6);
    expect(row('stsb', 'int8').glueOfOriginal).toBeCloseTo(0.17 / 0.176, 6);
    expect(row('stsb', 'broken').glueOfOriginal).toBeNull();
    expect(data.tasks).toEqual(['SST-2', 'STS-B']);
  });

  it('marks the per-model fronts of GLUE vs bytes and vs latency', () => {
    const front = (kind: 'frontBytes' | 'frontLatency') => data.rows.filter((r) => r[kind]).map((r) => `${r.model}/${r.label}`);
    expect(front('frontBytes')).toEqual(['sst2/baseline', 'sst2/combined', 'sst2/int8', 'stsb/baseline', 'stsb/int8']);
    // Latency of a variant = its baseline's p50 (10 ms) / its speed-up: combined 4.3 ms, int8 5.6, heads 8.3, factorized 10.
    expect(row('sst2', 'combined').latencyMs).toBeCloseTo(10 / 2.3, 6);
    expect(front('frontLatency')).toEqual(['sst2/baseline', 'sst2/combined', 'sst2/int8', 'stsb/baseline', 'stsb/int8']);
  });

  it('describes pipelines by their settings', () => {
    expect(row('sst2', 'int8').parameters).toBe('quantize mode=int8');
    expect(row('sst2', 'baseline').parameters).toBe('');
  });

  it('says why % of original is - for a model whose baseline scores 0 or below (a CoLA MCC), in Markdown and HTML', async () => {
    const cola = [
      fakePoint({ model: 'cola', label: 'baseline', bytes: 4e7, glue: -0.0309, task: 'CoLA', metrics: { matthews_correlation: -0.0309 } }, 1),
      fakePoint({ model: 'cola', label: 'eo', bytes: 3e7, glue: 0.0392, task: 'CoLA', metrics: { matthews_correlation: 0.0392 } }, 2),
    ];
    const note =
      "% of original is - for cola: its baseline's GLUE score is 0 or below (a correlation can be: CoLA's Matthews, STS-B's Pearson and Spearman), of which no share means anything; compare the GLUE scores.";
    const withCola = buildReport([...posterPoints(), ...cola]);
    expect(withCola.rows.find((r) => r.model === 'cola' && r.label === 'eo')!.glueOfOriginal).toBeNull();
    expect(toMarkdown(withCola).split('\n')).toContain(note);
    expect(toMarkdown(data)).not.toContain('% of original is -');
    expect(await writtenHtml(withCola, 'cola.sqlite')).toContain(escapeHtml(note));
    // an STS-B baseline's negative Pearson and Spearman too, the models named together, where it named a Matthews correlation alone
    const stsb = [
      fakePoint({ model: 'weak-stsb', label: 'baseline', bytes: 4e7, glue: -0.04, task: 'STS-B', metrics: { pearson: -0.05, spearmanr: -0.03 } }, 3),
      fakePoint({ model: 'weak-stsb', label: 'eo', bytes: 3e7, glue: 0.02, task: 'STS-B', metrics: { pearson: 0.01, spearmanr: 0.03 } }, 4),
    ];
    expect(toMarkdown(buildReport([...cola, ...stsb])).split('\n')).toContain(
      "% of original is - for cola, weak-stsb: their baselines' GLUE scores are 0 or below (a correlation can be: CoLA's Matthews, STS-B's Pearson and Spearman), of which no share means anything; compare the GLUE scores.",
    );
  });

  it('shows size - and says why for a model whose baseline has no initializers (0 bytes of weights), not NaN% or Infinity%', async () => {
    const constants = [
      fakePoint({ model: 'consts', label: 'baseline', bytes: 0, glue: 0.8 }, 1),
      fakePoint({ model: 'consts', label: 'pruned', bytes: 0, glue: 0.7 }, 2),
      fakePoint({ model: 'consts', label: 'grown', bytes: 1000, glue: 0.7, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] }, 3),
    ];
    const withConstants = buildReport([...posterPoints(), ...constants]);
    const rows = withConstants.rows.filter((r) => r.model === 'consts');
    expect(rows.map((r) => r.bytesOfOriginal)).toEqual([null, null, null]);
    const md = toMarkdown(withConstants);
    expect(md).not.toMatch(/NaN|Infinity/);
    const note = 'size is - for consts: its baseline row has no initializers (0 bytes of weights), of which no share means anything; compare the weights MB.';
    expect(md.split('\n')).toContain(note);
    expect(md).not.toContain('the report holds no baseline row'); // (it holds one)
    expect(toMarkdown(data)).not.toContain('size is -');
    expect(await writtenHtml(withConstants, 'consts.sqlite')).toContain(escapeHtml(note));
  });

  it('says why size and % of original are - for a model whose baseline point failed, in Markdown and HTML', async () => {
    const orphan = fakePoint({ model: 'cola', label: 'eo', bytes: 3e7, glue: 0.0392, task: 'CoLA', metrics: { matthews_correlation: 0.0392 } }, 2);
    const withOrphan = buildReport([...posterPoints(), orphan], [{ model: 'cola', label: 'baseline', error: 'out of memory' }]);
    const row = withOrphan.rows.find((r) => r.model === 'cola')!;
    expect([row.bytesOfOriginal, row.glueOfOriginal]).toEqual([null, null]);
    const note =
      'size and % of original are - for cola: the report holds no baseline row of that model (the same file, scored on the same tasks and data at the same max length) to compare with: its baseline point failed (see Failed) or did not finish; a rerun of the sweep runs it.';
    expect(toMarkdown(withOrphan).split('\n')).toContain(note);
    expect(toMarkdown(data)).not.toContain('no baseline row');
    expect(await writtenHtml(withOrphan, 'cola.sqlite')).toContain(escapeHtml(note));
  });

  it('says why size and % of original are - for a student evaluated at its training max length, not that its baseline failed', async () => {
    const baseline = fakePoint({ model: 'cola', label: 'baseline', bytes: 4e7, glue: 0.2, task: 'CoLA', metrics: { matthews_correlation: 0.2 } }, 1);
    const student = fakePoint({ model: 'cola', label: 'distil', bytes: 2e7, glue: 0.1, task: 'CoLA', metrics: { matthews_correlation: 0.1 } }, 2);
    student.result.eval.maxLength = 32; // a distill step's maxLength, kept by its student
    const withStudent = buildReport([...posterPoints(), baseline, student]);
    const row = withStudent.rows.find((r) => r.model === 'cola' && r.label === 'distil')!;
    expect([row.bytesOfOriginal, row.glueOfOriginal]).toEqual([null, null]);
    expect(row).toMatchObject({ baselineAtOtherLength: true, baselineOnOtherData: false });
    expect(withStudent.rows.find((r) => r.model === 'cola' && r.label === 'baseline')).toMatchObject({ baselineAtOtherLength: false });
    const note =
      "those rows of that model were evaluated at another max length than its baseline row (a train or distill step's maxLength is its student's max_length, at which a sweep file without eval.maxLength evaluates it), so a share of its baseline row is no share of the original; give the sweep file eval.maxLength to evaluate every point at one length.";
    const md = toMarkdown(withStudent);
    expect(md.split('\n').filter((l) => l.startsWith('size and % of original are - for cola'))).toEqual([
      expect.stringMatching(/^size and % of original are - for cola \([^)]*\): those rows/),
    ]);
    expect(md).toContain(note);
    expect(md).not.toContain('no baseline row');
    expect(await writtenHtml(withStudent, 'cola.sqlite')).toContain(escapeHtml(note));
  });

  it("names a model's two fronts by max length when a student evaluated at its training maxLength is on one (not one name for both)", () => {
    const baseline = fakePoint({ model: 'cola', label: 'baseline', bytes: 4e7, glue: 0.2, task: 'CoLA', metrics: { matthews_correlation: 0.2 } }, 1);
    const int8 = fakePoint({ model: 'cola', label: 'int8', bytes: 1e7, glue: 0.19, task: 'CoLA', metrics: { matthews_correlation: 0.19 } }, 2);
    const student = fakePoint({ model: 'cola', label: 'distil', bytes: 2e7, glue: 0.1, task: 'CoLA', metrics: { matthews_correlation: 0.1 } }, 3);
    student.result.eval.maxLength = 32; // a distill step's maxLength, kept by its student
    const data = buildReport([...posterPoints(), baseline, int8, student]);
    const groups = data.rows.filter((r) => r.model === 'cola').map((r) => `${r.label}: ${r.group}`);
    expect(groups).toEqual(['distil: cola (max length 32)', 'baseline: cola (max length 64)', 'int8: cola (max length 64)']);
    expect(toMarkdown(data)).toContain('size and % of original are - for cola (max length 32): those rows');
    // one front per name: the other models keep their bare names
    expect(data.rows.filter((r) => r.model === 'sst2').every((r) => r.group === 'sst2')).toBe(true);
  });

  it('shows both the weights and the file on disk in MB, and says which is which (HTML too)', async () => {
    expect(row('sst2', 'int8').fileBytes).toBe(11.7e6);
    const html = await writtenHtml(data, 'poster.sqlite');
    expect(html).toContain('<th>weights MB</th><th>file MB</th>');
    expect(html).toContain(escapeHtml(SIZE_NOTE));
  });

  it('shows an undefined task metric and GLUE score as undefined, with why, in every format (not as no scored task)', async () => {
    const constant = fakePoint(
      { model: 'stsb', label: 'constant', bytes: 20e6, glue: null, speedup: 1.5, task: 'STS-B', metrics: { pearson: NaN, spearmanr: NaN } },
      12,
    );
    const why = 'STS-B: Pearson and Spearman undefined (constant predictions)';
    constant.result.eval.tasks['STS-B']!.undefinedMetrics = { pearson: 'constant predictions', spearmanr: 'constant predictions' };
    constant.result.eval.glueScoreUndefined = why;
    const withConstant = buildReport([...posterPoints(), JSON.parse(JSON.stringify(constant))]);
    const r = withConstant.rows.find((x) => x.label === 'constant')!;
    expect([r.glue, r.glueUndefined]).toEqual([null, why]);
    expect(withConstant.rows.find((x) => x.label === 'broken')!.glueUndefined).toBeNull();
    const md = toMarkdown(withConstant);
    expect(md).toContain('| STS-B Pearson undefined (constant predictions) / Spearman undefined (constant predictions) | undefined | - |');
    expect(md).toMatch(/\| stsb \| broken \|.*\| STS-B - \| - \|/); // no scored task: still -
    const note = `GLUE undefined: stsb · constant (${why}). A task whose metric is undefined leaves its row's GLUE score undefined: it is not dropped from the mean nor counted as 0.`;
    expect(md.split('\n')).toContain(note);
    expect(toMarkdown(data)).not.toContain('GLUE undefined');
    const csv = toCsv(withConstant).trim().split('\n');
    expect(csv.find((l) => l.startsWith('test,stsb,constant,'))).toContain(`,${why},`);
    expect(JSON.parse(toJson(withConstant)).rows.find((x: { label: string }) => x.label === 'constant')).toMatchObject({
      glue: null,
      glueUndefined: why,
      undefinedMetrics: { 'STS-B': { pearson: 'constant predictions' } },
    });
    expect(await writtenHtml(withConstant, 'poster.sqlite')).toContain(escapeHtml(note));
  });

  it("counts the HTML page's rows as baselines and variants, where it called every row, the baselines too, a variant", async () => {
    const html = await writtenHtml(buildReport(posterPoints()), 'poster.sqlite');
    expect(html).toMatch(/<div class="meta">8 rows \(2 baselines, 6 variants\) from .*poster\.sqlite · /);
    const one = await writtenHtml(buildReport(posterPoints().slice(0, 2)), 'one.sqlite');
    expect(one).toContain('<div class="meta">2 rows (1 baseline, 1 variant) from ');
  });

  it('writes a Markdown table with scores ×100 and a CSV with raw numbers', () => {
    const md = toMarkdown(data);
    expect(md.split('\n')[0]).toBe(
      '| model | pipeline | parameters | params | weights MB | file MB | size | speed-up | p50 ms | task metrics | GLUE | % of original | front |',
    );
    expect(md).toContain('| sst2 | int8 | quantize mode=int8 | 2.85M | 11.4 | 11.7 | 25.5% | ×1.80 | 5.56 | SST-2 acc 73.10 | 73.10 | 99.6% | size, latency |');
    expect(md.split('\n')).toContain(SIZE_NOTE);
    expect(md).toContain('STS-B Pearson 17.35 / Spearman 17.80');
    const csv = toCsv(data).trim().split('\n');
    expect(csv[0]).toBe(
      'sweep,model,pipeline,group,parameters,teacher,teacher_params,teacher_key,params,bytes,file_bytes,bytes_of_original,speedup,latency_ms,measured_latency_ms,latency_batch,latency_seq,SST-2.accuracy,STS-B.pearson,STS-B.spearmanr,glue,glue_of_original,baseline_key,glue_undefined,front_bytes,front_latency,machine,int8_saturated,timing_exclusive,key,stale',
    );
    expect(csv).toHaveLength(9);
    expect(csv[1]!.startsWith(`test,sst2,baseline,sst2,,,,,11175000,44700000,45000000,1,1,10,10,1,64,0.734,,,0.734,1,${data.rows[0]!.key},,true,true,`)).toBe(
      true,
    );
  });

  it("tells a CSV row's front and baseline apart (group, baseline_key) where model and pipeline are alike: one sweep run on two GLUE folders", () => {
    const points = [0, 1, 2, 3].map((i) =>
      fakePoint(
        i % 2 === 0
          ? { model: 'sst2', label: 'baseline', bytes: 4e7, glue: i < 2 ? 0.8 : 0.6 }
          : { model: 'sst2', label: 'int8', bytes: 1e7, glue: i < 2 ? 0.79 : 0.5, speedup: 2 },
        i,
      ),
    );
    const reads = new Map(points.map((p, i) => [p.key, { glueDir: i < 2 ? '/glue/a' : '/glue/b' }]));
    const data = buildReport(points, [], new Map(), reads);
    // (RFC 4180: a cell with a comma is quoted; none here holds a quote or a line break)
    const split = (line: string) => [...line.matchAll(/(?:^|,)("[^"]*"|[^,]*)/g)].map((m) => m[1]!.replace(/^"(.*)"$/, '$1'));
    const lines = toCsv(data).trim().split('\n');
    const header = split(lines[0]!);
    const cells = lines.slice(1).map((l) => Object.fromEntries(split(l).map((c, i) => [header[i], c])));
    // the Markdown table's model cell is the group: each CSV row says which it is, and which row it is compared with
    expect(cells.map((c) => c.group)).toEqual(displayTable(data).rows.map((r) => r[0]));
    expect(new Set(cells.map((c) => c.group)).size).toBe(2);
    const byKey = new Map(cells.map((c) => [c.key, c]));
    for (const c of cells.filter((c) => c.pipeline === 'int8')) {
      const base = byKey.get(c.baseline_key!)!;
      expect([base.pipeline, base.group]).toEqual(['baseline', c.group]);
      expect(Number(c.glue_of_original)).toBeCloseTo(Number(c.glue) / Number(base.glue), 12);
    }
  });

  it('names every machine (and thread setting) the rows were benchmarked on, with their row counts, where it named the first only', async () => {
    const points = posterPoints();
    const one = toMarkdown(buildReport(points));
    expect(one).toContain('\nMachine: Test CPU (2 cores; avx2), onnxruntime 1.30.0, 1 thread.\n');
    expect(one).not.toContain('Machines:');
    // a point timed by a queue worker on another machine, one with other threads (another --jobs)
    const elsewhere = (p: StoredPoint, model: string, threads: number): StoredPoint => ({
      ...p,
      result: { ...p.result, bench: { ...p.result.bench, machine: { ...p.result.bench.machine, cpu: { ...p.result.bench.machine.cpu, model }, threads } } },
    });
    const mixed = points.map((p, i) => (i === 1 ? elsewhere(p, 'Other CPU', 1) : i === 2 ? elsewhere(p, 'Test CPU', 2) : p));
    const data = buildReport(mixed);
    expect(data.machines.map((m) => m.rows)).toEqual([points.length - 2, 1, 1]);
    const md = toMarkdown(data);
    expect(md).not.toContain('\nMachine: ');
    expect(md).toContain(
      `\nMachines: the rows were benchmarked on 3 machines or thread settings, so p50 ms compares only between rows of one (each speed-up was timed against its baseline on one): Test CPU (2 cores; avx2), onnxruntime 1.30.0, 1 thread (${points.length - 2} rows); Other CPU (2 cores; avx2), onnxruntime 1.30.0, 1 thread (1 row); Test CPU (2 cores; avx2), onnxruntime 1.30.0, 2 threads (1 row).\n`,
    );
    expect(await writtenHtml(data, 'mixed.sqlite')).toContain('Machines: the rows were benchmarked on 3 machines');
  });

  it('names the int8 rows scored on a CPU that can saturate int8 products where other int8 rows were scored on one with VNNI, where it mixed their scores silently', () => {
    const points = posterPoints(); // (on 'Test CPU': AVX2 without VNNI; sst2 · int8 quantizes with full-range weights)
    const onVnni = (p: StoredPoint): StoredPoint => {
      const machine = p.result.bench.machine;
      return {
        ...p,
        result: { ...p.result, bench: { ...p.result.bench, machine: { ...machine, cpu: { ...machine.cpu, flags: { ...machine.cpu.flags, vnni: true } } } } },
      };
    };
    const int8 = (label: string, settings: Record<string, unknown>, i: number) =>
      fakePoint({ model: 'sst2', label, bytes: 11.4e6, glue: 0.72, speedup: 1.8, steps: [{ pass: 'quantize', settings }] }, i);
    // alone on one kind of CPU (and a reduced-range or float16 row, whose scores do not depend on it): said too, as
    // this CPU's scores, with the settings that give every CPU's
    const oneKind = [...points, onVnni(int8('int8-rr', { mode: 'int8', reduceRange: true }, 30)), onVnni(int8('fp16', { mode: 'float16' }, 31))];
    const independent =
      'eval: {exactInt8: true} in the sweep file scores int8 points as VNNI CPUs do, on any CPU (slower), and quantizing with reduceRange: true (7-bit weights) gives int8 scores that do not depend on the CPU.';
    const alone = toMarkdown(buildReport(oneKind));
    expect(alone).not.toContain('Int8 scores by CPU');
    expect(alone).toContain(
      '\nInt8 scores of this CPU: sst2 · int8 was scored on a CPU without AVX-512 VNNI / AVX-VNNI, whose int8 kernels add products in saturating 16-bit pairs: ' +
        `a CPU with VNNI can score it otherwise. ${independent}\n`,
    );
    const data = buildReport([...oneKind, onVnni(int8('int8-group', { mode: 'int8-group:32' }, 32)), int8('int8-static', { mode: 'int8-static' }, 33)]);
    expect(data.rows.filter((r) => r.int8Saturated !== null).map((r) => [r.label, r.int8Saturated])).toEqual([
      ['int8', true],
      ['int8-group', false],
      ['int8-static', true],
    ]);
    const note =
      'Int8 scores by CPU: sst2 · int8, sst2 · int8-static were scored on a CPU without AVX-512 VNNI / AVX-VNNI, whose int8 kernels can saturate full-range int8 products, ' +
      'and other int8 rows on CPUs without that limit (or with eval.exactInt8; see the machines): these scores may differ from what the same points score there. ' +
      `E${independent.slice(1)}`;
    expect(toMarkdown(data)).toContain(`\n${note}\n`);
    // each row's machine, its CPU flags among its words, and whether its int8 products saturated, in the CSV and JSON
    const csv = toCsv(data).split('\n');
    const int8Row = csv.find((l) => l.includes(',int8,'))!;
    expect(int8Row).toContain(',"Test CPU (2 cores; avx2), onnxruntime 1.30.0, 1 thread",true,');
    expect(csv.find((l) => l.includes(',int8-group,'))).toContain(',"Test CPU (2 cores; avx2 vnni), onnxruntime 1.30.0, 1 thread",false,');
    expect(data.rows.find((r) => r.label === 'int8')!.machine).toBe('Test CPU (2 cores; avx2), onnxruntime 1.30.0, 1 thread');
  });

  it("reads whether a row's int8 products saturated as its evaluation recorded it (eval.exactInt8: not; a VNNI CPU: not), before its steps and CPU", () => {
    const points = posterPoints(); // (sst2 · int8 on 'Test CPU', AVX2 without VNNI)
    const recorded = (p: StoredPoint, int8Saturated: boolean): StoredPoint => ({ ...p, result: { ...p.result, eval: { ...p.result.eval, int8Saturated } } });
    const exact = points.map((p) => (p.label === 'int8' && p.model.startsWith('sst2') ? recorded(p, false) : p));
    const data = buildReport(exact);
    expect(data.rows.find((r) => r.label === 'int8' && r.model === 'sst2')!.int8Saturated).toBe(false);
    expect(toMarkdown(data)).not.toContain('Int8 scores');
  });

  it('names a machine with AMX once where some of its rows were timed before AMX was read (their records without it), where it named two machines', () => {
    const points = posterPoints();
    const cpu = (p: StoredPoint, amx: boolean | undefined): StoredPoint => {
      const machine = p.result.bench.machine;
      const { amx: _amx, ...flags } = machine.cpu.flags;
      return {
        ...p,
        result: {
          ...p.result,
          bench: { ...p.result.bench, machine: { ...machine, cpu: { ...machine.cpu, flags: amx === undefined ? flags : { ...flags, amx } } } },
        },
      };
    };
    // rows of earlier code (no amx in their records), then rows this code timed on that machine (amx true)
    const mixed = points.map((p, i) => cpu(p, i < 2 ? undefined : true));
    const data = buildReport(mixed);
    expect(data.machines.map((m) => [describeMachine(m.machine), m.rows])).toEqual([
      ['Test CPU (2 cores; avx2 amx), onnxruntime 1.30.0, 1 thread', points.length],
    ]);
    expect(toMarkdown(data)).toContain('\nMachine: Test CPU (2 cores; avx2 amx), onnxruntime 1.30.0, 1 thread.\n');
    // records that say otherwise of the same line (AMX hidden from one VM) stay apart, and so do the old ones
    const apart = buildReport(points.map((p, i) => cpu(p, i === 0 ? undefined : i !== 1)));
    expect(apart.machines.map((m) => m.rows)).toEqual([2, points.length - 2]);
  });

  it('marks a speed-up timed without the machine to itself, and says what the mark means', async () => {
    const points = posterPoints();
    const shared = fakePoint({ model: 'sst2', label: 'ffn-30%', bytes: 42.2e6, glue: 0.734, speedup: 2.95, timingExclusive: false }, 9);
    const alone = fakePoint({ model: 'sst2', label: 'ffn-20%', bytes: 43e6, glue: 0.734, speedup: 1.1, timingExclusive: true }, 10);
    const md = toMarkdown(buildReport([...points, shared, alone]));
    expect(md).toMatch(/\| sst2 \| ffn-30% \|[^\n]*\| ×2\.95† \|/);
    expect(md).toMatch(/\| sst2 \| ffn-20% \|[^\n]*\| ×1\.10 \|/);
    expect(md).toContain('† Timed without the machine to itself (another benchmark held the machine-wide timing lock, or another point was compressing');
    expect(md).toContain('a test suite; overlapped: another benchmark): the speed-up');
    // a sweep's point timed while other points trained and evaluated (sweep/contention.ts)
    const p40 = fakePoint({ model: 'sst2', label: 'ffn-40%', bytes: 41e6, glue: 0.73, speedup: 3, timingExclusive: true }, 11);
    const trained = { ...p40, result: markContended(p40.result, ['sst2 · kd (eval)', 'sst2 · kd (train, pid 7)']) };
    const withTrained = toMarkdown(buildReport([...points, shared, trained]));
    expect(withTrained).toContain('a test suite; overlapped: another benchmark, train, eval): the speed-up');
    // ... and one timed while other programs loaded the machine (bench/machine-load.ts)
    const loaded = {
      ...p40,
      result: {
        ...p40.result,
        bench: { ...p40.result.bench, timing: timingWithLoad({ exclusive: true, waitedSeconds: 0 }, { otherCpus: 1.6, cpus: 2, seconds: 3 }) },
      },
    };
    const withLoad = toMarkdown(buildReport([...points, loaded]));
    expect(withLoad).toMatch(/\| sst2 \| ffn-40% \|[^\n]*\| ×3\.00† \|/);
    expect(withLoad).toContain('a test suite; overlapped: other programs): the speed-up');
    expect(toMarkdown(buildReport(points))).not.toContain('†');
    // the HTML page says it too, in the same words (before, it showed the mark with no note)
    const note = md.split('\n').find((l) => l.startsWith('† '))!;
    const html = await writtenHtml(buildReport([...points, shared, alone]), 'shared.sqlite');
    expect(html).toMatch(/<td>ffn-30%<\/td>.*<td class="r">×2\.95†<\/td>/);
    expect(html).toContain(`<p class="note">${escapeHtml(note)}</p>`);
    expect(await writtenHtml(buildReport(points), 'alone.sqlite')).not.toContain('†');
    const csv = toCsv(buildReport([shared, alone]))
      .trim()
      .split('\n');
    expect(Object.fromEntries(csv.slice(1).map((l) => [l.split(',')[2], l.split(',').at(-3)]))).toEqual({ 'ffn-30%': 'false', 'ffn-20%': 'true' });
  });

  it('relates a model file listed twice with other tasks to the baseline on the same tasks, fronts apart', () => {
    // One checkpoint fine-tuned per task is two models: g-cola (CoLA MCC 0.08) and g-sst2 (SST-2 accuracy 0.49).
    const entry = (model: string, label: string, task: string, glue: number, bytes: number, i: number) => ({
      ...fakePoint({ model, label, task, glue, bytes, speedup: label === 'baseline' ? 1 : 1.5 }, i),
      modelSha256: 'sha-same-file',
    });
    const data = buildReport([
      entry('g-cola', 'baseline', 'CoLA', 0.08, 10e6, 1),
      entry('g-sst2', 'baseline', 'SST-2', 0.49, 10e6, 2),
      entry('g-cola', 'int8', 'CoLA', 0.07, 3e6, 3),
      entry('g-sst2', 'int8', 'SST-2', 0.49, 3e6, 4),
    ]);
    const at = (model: string, label: string) => data.rows.find((r) => r.model === model && r.label === label)!;
    expect(at('g-sst2', 'baseline').glueOfOriginal).toBe(1);
    expect(at('g-sst2', 'int8').glueOfOriginal).toBe(1);
    expect(at('g-cola', 'int8').glueOfOriginal).toBeCloseTo(0.07 / 0.08, 9);
    // g-cola's int8 is its smallest row: on its front, not dominated by g-sst2's higher SST-2 accuracy.
    expect(at('g-cola', 'int8').frontBytes).toBe(true);
    expect(at('g-cola', 'baseline').frontBytes).toBe(true);
  });

  it('keeps the fronts of one model name in two sweeps apart in the table and the charts, naming each sweep', () => {
    // sweep a: baseline 10 MB 80.0, int8 5 MB 78.0; sweep b (other settings, other points): baseline 10 MB 80.0,
    // ffn 4 MB 79.0. Each sweep has its own front: a's int8 is on a's, although b's ffn is smaller and better.
    const inSweep = (sweep: string, label: string, bytes: number, glue: number, i: number) => ({
      ...fakePoint({ model: 'sst2', label, bytes, glue, speedup: label === 'baseline' ? 1 : 2 }, i),
      sweep,
    });
    const data = buildReport([
      inSweep('a', 'baseline', 10e6, 0.8, 1),
      inSweep('a', 'int8', 5e6, 0.78, 2),
      inSweep('b', 'baseline', 10e6, 0.8, 3),
      inSweep('b', 'ffn', 4e6, 0.79, 4),
    ]);
    expect(data.rows.map((r) => `${r.group}/${r.label}/${r.frontBytes}`)).toEqual([
      'sst2 (sweep a)/baseline/true',
      'sst2 (sweep a)/int8/true',
      'sst2 (sweep b)/baseline/true',
      'sst2 (sweep b)/ffn/true',
    ]);
    expect(toMarkdown(data)).toContain('| sst2 (sweep a) | int8 |');
    // each chart panel holds one sweep's points, its front line through its own front only
    const pts = chartPoints(data, 'bytes');
    const panel = (name: string) =>
      pts
        .filter((p) => p.model === name)
        .sort((a, b) => a.order - b.order)
        .map((p) => `${p.label}@${p.order}`);
    expect(panel('sst2 (sweep a)')).toEqual(['int8@0', 'baseline@1']);
    expect(panel('sst2 (sweep b)')).toEqual(['ffn@0', 'baseline@1']);
    // one sweep alone: the model's name as before
    expect(buildReport([inSweep('a', 'baseline', 10e6, 0.8, 1)]).rows[0]!.group).toBe('sst2');
    // one sweep run again after its model file changed: two fronts, told apart by the file
    const retrained = { ...inSweep('a', 'baseline', 10e6, 0.82, 5), modelSha256: '3f2a9c1b'.padEnd(64, '0') };
    expect(buildReport([inSweep('a', 'baseline', 10e6, 0.8, 1), retrained]).rows.map((r) => r.group)).toEqual([
      'sst2 (sweep a, file 3f2a9c1b)',
      'sst2 (sweep a, file sha-sst2)',
    ]);
  });

  it('says how a GLUE score over several tasks is made, and that WNLI counts in it, in Markdown and HTML', async () => {
    const rteWnli = (label: string, rte: number, wnli: number, i: number) => {
      const p = fakePoint({ model: 'nli', label, bytes: 1e7, glue: (rte + wnli) / 2, task: 'RTE', metrics: { accuracy: rte } }, i);
      p.tasks = ['RTE', 'WNLI'];
      p.result.eval.tasks.WNLI = { metrics: { accuracy: wnli }, examples: 71, seconds: 1 };
      p.result.eval.glueScoreIncludesWnli = true;
      return p;
    };
    const note =
      "GLUE: a row's unweighted mean over its tasks of each task's score (the mean of its metrics; MNLI-m and MNLI-mm count as one task, MNLI), WNLI included (nli), as the GLUE leaderboard counts it (the BERT paper leaves WNLI out).";
    const data = buildReport([rteWnli('baseline', 0.6, 0.56, 1), rteWnli('int8', 0.58, 0.56, 2)]);
    expect(toMarkdown(data).split('\n')).toContain(note);
    // one task per row, no WNLI: nothing to say
    expect(toMarkdown(buildReport(posterPoints()))).not.toContain('GLUE: ');
    expect(await writtenHtml(data, 'nli.sqlite')).toContain(escapeHtml(note));
  });

  it("names the bench shape of each model's p50 (batch and tokens), in the Markdown and HTML notes and the latency chart", async () => {
    // as examples/poster.yaml runs: each model benchmarked at its own max_length (SST-2 64 tokens, STS-B 128)
    const points = posterPoints().map((p) => {
      if (p.model !== 'stsb') return p;
      const shapes = p.result.bench.shapes.map((s) => ({ ...s, seq: 128 }));
      return { ...p, result: { ...p.result, bench: { ...p.result.bench, shapes } } };
    });
    const data = buildReport(points);
    expect(toMarkdown(data)).toContain('p50 ms: as measured at the first bench shape (batch 1 × 64 tokens: sst2; batch 1 × 128 tokens: stsb).');
    expect(JSON.stringify(chartSpec(data, 'latency'))).toContain('p50 at batch 1 × 64 tokens: sst2; batch 1 × 128 tokens: stsb');
    // one shape for every row: said once
    expect(toMarkdown(buildReport(posterPoints()))).toContain('p50 ms: as measured at the first bench shape (batch 1 × 64 tokens).');
    expect(await writtenHtml(data, 'poster.sqlite')).toContain(
      'p50 ms: as measured at the first bench shape (batch 1 × 64 tokens: sst2; batch 1 × 128 tokens: stsb).',
    );
  });

  it("relates a variant of a sweep without a baseline to another sweep's baseline only when evaluated at the same max length", () => {
    const at = (sweep: string, label: string, glue: number, maxLength: number, i: number) => {
      const p = { ...fakePoint({ model: 'sst2', label, bytes: label === 'baseline' ? 10e6 : 5e6, glue, speedup: 1.5 }, i), sweep };
      p.result.eval.maxLength = maxLength;
      return p;
    };
    const data = buildReport([at('a', 'baseline', 0.8, 128, 1), at('b', 'int8', 0.7, 64, 2), at('c', 'ffn', 0.76, 128, 3)]);
    const row = (sweep: string) => data.rows.find((r) => r.sweep === sweep)!;
    // b scored its examples cut at 64 tokens, a's baseline at 128: no share of a score measured otherwise
    expect(row('b').glueOfOriginal).toBeNull();
    expect(row('b').bytesOfOriginal).toBeNull();
    expect(row('c').glueOfOriginal).toBeCloseTo(0.76 / 0.8, 12);
  });

  it('leaves % of original blank, saying why, for a variant whose GLUE score averages other tasks than its baseline (a partial or edited result)', async () => {
    /** A point planned on SST-2 and STS-B, with the STS-B score when it has one (else scored on SST-2 alone). */
    const point = (label: string, sst2: number, stsb: number | null, i: number) => {
      const p = fakePoint({ model: 'm', label, bytes: label === 'baseline' ? 4e7 : 1e7, glue: sst2, speedup: 1.5 }, i);
      p.tasks = ['SST-2', 'STS-B'];
      if (stsb !== null) {
        p.result.eval.tasks['STS-B'] = { metrics: { pearson: stsb, spearmanr: stsb }, examples: 100, seconds: 1 };
        p.result.glue = p.result.eval.glueScore = (sst2 + stsb) / 2;
      }
      return p;
    };
    const withAx = point('ax', 0.78, 0.38, 4); // AX is no part of a GLUE score: it changes nothing
    withAx.result.eval.tasks.AX = { metrics: {}, examples: 1104, seconds: 1 };
    const data = buildReport([point('baseline', 0.8, 0.4, 1), point('full', 0.78, 0.38, 2), point('partial', 0.79, null, 3), withAx]);
    const row = (label: string) => data.rows.find((r) => r.label === label)!;
    expect(row('full').glueOfOriginal).toBeCloseTo(0.58 / 0.6, 12);
    expect(row('ax').glueOfOriginal).toBeCloseTo(0.58 / 0.6, 12);
    // 0.79 (SST-2 alone) over 0.6 (SST-2 and STS-B) would read 131.7% of original
    expect(row('partial').glueOfOriginal).toBeNull();
    expect(row('partial').glueTaskMismatch).toEqual({ tasks: ['SST-2'], baseline: ['SST-2', 'STS-B'] });
    expect(row('full').glueTaskMismatch).toBeNull();
    const md = toMarkdown(data);
    expect(md).toMatch(/^\| m \| partial \|[^\n]*\| 79\.00 \| - \|/m);
    expect(md).not.toContain('131.');
    const note =
      "% of original is - for m · partial (GLUE over SST-2; its baseline's over SST-2, STS-B): a GLUE score is a mean over tasks, and these are over other tasks than their baseline's (a partial or edited result), so their ratio is no share of the original; compare the task metrics.";
    expect(md.split('\n')).toContain(note);
    expect(await writtenHtml(data, 'm.sqlite')).toContain(`<p class="note">${escapeHtml(note)}</p>`);
    expect(JSON.parse(toJson(data)).rows.find((r: { label: string }) => r.label === 'partial')).toMatchObject({
      glueOfOriginal: null,
      glueTaskMismatch: { tasks: ['SST-2'], baseline: ['SST-2', 'STS-B'] },
    });
    expect(toMarkdown(buildReport([point('baseline', 0.8, 0.4, 1), point('full', 0.78, 0.38, 2)]))).not.toContain('% of original is -');
  });

  it('leaves a row scored on fewer tasks than its sweep planned out of the Pareto fronts and charts, saying so', async () => {
    /** A point planned on SST-2 and STS-B, with the STS-B score when it has one (else scored on SST-2 alone). */
    const point = (label: string, bytes: number, sst2: number, stsb: number | null, i: number) => {
      const p = fakePoint({ model: 'm', label, bytes, glue: sst2, speedup: 4e7 / bytes }, i);
      p.tasks = ['SST-2', 'STS-B', 'AX']; // AX is no part of a GLUE score: never missing
      if (stsb !== null) {
        p.result.eval.tasks['STS-B'] = { metrics: { pearson: stsb, spearmanr: stsb }, examples: 100, seconds: 1 };
        p.result.glue = p.result.eval.glueScore = (sst2 + stsb) / 2;
      }
      return p;
    };
    // 'partial' (0.79, SST-2 alone) is smaller and faster than 'full' and would dominate it, and every other variant
    const data = buildReport([point('baseline', 4e7, 0.8, 0.4, 1), point('full', 2e7, 0.78, 0.38, 2), point('partial', 1e7, 0.79, null, 3)]);
    const row = (label: string) => data.rows.find((r) => r.label === label)!;
    expect(row('partial').missingTasks).toEqual(['STS-B']);
    expect(row('full').missingTasks).toEqual([]);
    expect(data.rows.map((r) => `${r.label} ${r.frontBytes} ${r.frontLatency}`)).toEqual(['baseline true true', 'full true true', 'partial false false']);
    for (const kind of ['bytes', 'latency'] as const) {
      expect(chartPoints(data, kind).map((p) => p.label)).toEqual(['baseline', 'full']);
      const spec = chartSpec(data, kind) as unknown as { title: { subtitle: string[] } };
      expect(spec.title.subtitle).toContain('left out (GLUE over fewer tasks than planned): m · partial (no STS-B)');
    }
    const note =
      "Not on the Pareto fronts nor in the charts: m · partial (no STS-B score): a result without a task its sweep planned (a partial or edited result) has a GLUE score over fewer tasks than its model's other variants, which does not compare with theirs; compare the task metrics.";
    expect(toMarkdown(data).split('\n')).toContain(note);
    expect(await writtenHtml(data, 'm.sqlite')).toContain(`<p class="note">${escapeHtml(note)}</p>`);
    expect(JSON.parse(toJson(data)).rows.find((r: { label: string }) => r.label === 'partial')).toMatchObject({ missingTasks: ['STS-B'], frontBytes: false });
    // a partial baseline is off the fronts too; its variants scored on every task rank among themselves
    const partialBase = buildReport([point('baseline', 4e7, 0.8, null, 1), point('full', 2e7, 0.78, 0.38, 2), point('big', 3e7, 0.7, 0.3, 3)]);
    expect(partialBase.rows.map((r) => `${r.label} ${r.frontBytes}`)).toEqual(['baseline false', 'big false', 'full true']);
    // nothing missing: no note, nothing left out
    const whole = buildReport([point('baseline', 4e7, 0.8, 0.4, 1), point('full', 2e7, 0.78, 0.38, 2)]);
    expect(toMarkdown(whole)).not.toContain('Not on the Pareto fronts');
    expect(JSON.stringify(chartSpec(whole, 'bytes'))).not.toContain('left out');
  });

  it('formats metrics and escapes HTML', () => {
    expect(formatMetrics({ pearson: 0.1735, spearmanr: 0.178 })).toBe('Pearson 17.35 / Spearman 17.80');
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('keeps a Markdown row on one line and its cells as named: line breaks, backslashes, pipes and raw HTML in names escaped', () => {
    const model = 'back\\|slash\n<b>bold</b>';
    const md = toMarkdown(
      buildReport([fakePoint({ model, label: 'baseline', bytes: 4e8, glue: 0.9 }, 0), fakePoint({ model, label: 'a|b\r\nc', bytes: 2e8, glue: 0.8 }, 1)]),
    ).split('\n');
    const rows = md.filter((l) => l.startsWith('| back'));
    expect(rows).toHaveLength(2);
    // GFM splits the row at each | not preceded by a backslash, then reads \\, \| and \< as \, | and <
    const cells = (line: string) => line.slice(2, -2).split(/(?<!\\) \| /);
    for (const line of rows) expect(cells(line)).toHaveLength(13);
    expect(cells(rows[0]!)[0]).toBe('back\\\\\\|slash \\<b>bold\\</b>');
    expect(cells(rows[1]!)[1]).toBe('a\\|b c');
    expect(mdCell(cells(rows[1]!)[1]!.replace(/\\(.)/g, '$1'))).toBe(cells(rows[1]!)[1]);
  });

  it('escapes the characters Markdown reads as emphasis, code, strikethrough, an entity or a link in names, not an underscore inside a word', () => {
    const escaped: Array<[string, string]> = [
      ['*q*', '\\*q\\*'],
      ['_tmp_', '\\_tmp\\_'],
      ['bert_base_uncased', 'bert_base_uncased'],
      ['sst2__x', 'sst2\\_\\_x'],
      ['`int8`', '\\`int8\\`'],
      ['~~old~~', '\\~\\~old\\~\\~'],
      ['&amp; &#38; & a&b', '\\&amp; \\&#38; & a&b'],
      ['[x](http://y) [0,2]', '[x\\](http://y) [0,2]'],
      ['ünï_中', 'ünï_中'],
    ];
    for (const [name, cell] of escaped) {
      expect(mdCell(name)).toBe(cell);
      expect(cell.replace(/\\(.)/g, '$1')).toBe(name);
    }
    const md = toMarkdown(
      buildReport([
        fakePoint({ model: '*m*', label: 'baseline', bytes: 4e7, glue: 0.9 }, 0),
        fakePoint({ model: '*m*', label: '`q`', bytes: 2e7, glue: 0.8 }, 1),
      ]),
    );
    expect(md).toContain('| \\*m\\* | \\`q\\` | prune-heads ratio=0.4 |');
  });

  it('escapes names and errors in the notes and the Failed list under the Markdown table as in its cells: each on its line, no raw HTML', () => {
    const model = '<b>m|x';
    const points = [
      fakePoint({ model, label: 'baseline', bytes: 4e7, glue: 0.7, task: 'STS-B', metrics: { pearson: 0.7, spearmanr: 0.7 } }, 0),
      fakePoint({ model, label: 'l<i>', bytes: 3e7, glue: null, speedup: 1.2, task: 'STS-B', metrics: {} }, 1),
    ];
    points[1]!.result.eval.glueScoreUndefined = 'STS-B: Pearson and Spearman undefined (constant predictions)';
    const md = toMarkdown(buildReport(points, [{ model, label: 'int8\n<u>', error: 'Error: <script>alert(1)</script> at a|b' }])).split('\n');
    expect(md).toContain(
      `GLUE undefined: \\<b>m\\|x · l\\<i> (STS-B: Pearson and Spearman undefined (constant predictions)). A task whose metric is undefined leaves its row's GLUE score undefined: it is not dropped from the mean nor counted as 0.`,
    );
    const failed = md.indexOf(FAILED_NOTE);
    expect(failed).toBeGreaterThan(0);
    expect(md.slice(failed + 1, failed + 3)).toEqual(['- \\<b>m\\|x · int8 \\<u>: Error: \\<script>alert(1)\\</script> at a\\|b', '']);
    expect(md.filter((l) => /(?<!\\)</.test(l))).toEqual([]);
  });

  it('escapes a Failed item whose model starts as a Markdown block would (#, >, -, 1., [x], indent), so each stays one plain item', () => {
    const failed = ['# big', '> quoted', '- dash', '+ plus', '---', '1. first', '12) twelfth', '[x] done', '[a]: http://x', '    indented', '1.5x', '-x'].map(
      (model) => ({
        model,
        label: 'int8',
        error: 'out of memory',
      }),
    );
    const md = toMarkdown(buildReport([fakePoint({ model: 'm', label: 'baseline', bytes: 4e7, glue: 0.9 }, 0)], failed)).split('\n');
    const at = md.indexOf(FAILED_NOTE);
    expect(md.slice(at + 1, at + 1 + failed.length)).toEqual(
      [
        '\\# big',
        '\\> quoted',
        '\\- dash',
        '\\+ plus',
        '---', // (not a rule: more follows on its line)
        '1\\. first',
        '12\\) twelfth',
        '\\[x] done',
        '\\[a]: http://x',
        '&#32;&#32;&#32;&#32;indented',
        '1.5x',
        '-x',
      ].map((m) => `- ${m} · int8: out of memory`),
    );
  });

  it("shows a tiny model's parameters, MB and p50 in digits that tell them apart, not 0.00M / 0.0 / 0.00", () => {
    const tiny = buildReport([
      fakePoint({ model: 'toy', label: 'baseline', bytes: 149_600, glue: 0.6, p50: 0.042 }, 0),
      fakePoint({ model: 'toy', label: 'int8', bytes: 37_600, glue: 0.58, speedup: 1.5, p50: 0.028 }, 1),
      fakePoint({ model: 'toy', label: 'heads-90%', bytes: 3_200, glue: 0.5, speedup: 2, p50: 0.021 }, 2),
    ]);
    const cells = Object.fromEntries(displayTable(tiny).rows.map((r) => [r[1], r.slice(3, 9)]));
    expect(cells).toEqual({
      baseline: ['37.4K', '0.15', '0.45', '100.0%', '×1.00', '0.042'],
      'heads-90%': ['800', '0.0032', '0.30', '2.1%', '×2.00', '0.021'],
      int8: ['9.4K', '0.038', '0.34', '25.1%', '×1.50', '0.028'],
    });
  });

  it("measures the charts' text as a sans-serif font draws it, so the SVG is as wide as its panels need, where vega's guess (0.8 em a character) widened it by half", async () => {
    expect(sansTextWidth('Wi', 10)).toBeCloseTo(12.67, 6); // DejaVu Sans: W 0.989 em, i 0.278
    expect(sansTextWidth('Wi', 10, true)).toBeCloseTo(13.937, 6);
    expect(sansTextWidth('中é', 10)).toBeCloseTo(17, 6);
    const vega = (await import('vega')) as unknown as { textMetrics: { width: unknown } };
    const before = vega.textMetrics.width;
    const charts = await renderCharts(data);
    expect(vega.textMetrics.width).toBe(before);
    for (const svg of [charts.bytes, charts.latency]) {
      // a 440 px panel, its axes, and the subtitle's longest line (11 px: about 500 px in DejaVu Sans)
      const width = Number(/<svg[^>]* width="(\d+)"/.exec(svg)![1]);
      expect(width).toBeGreaterThan(440);
      expect(width).toBeLessThan(640);
    }
  });

  it("places the points' labels apart (vega's label transform), leaving out and naming in the subtitle those that fit nowhere, where labels of points on one spot were drawn over each other", async () => {
    /** Each point label's text, whether drawn, and its box as the SVG places it (the text's baseline at y, 11 px). */
    const labels = (svg: string) =>
      [
        ...svg.matchAll(
          /<text aria-label="[^"]*shown: [^"]*"[^>]*text-anchor="(\w+)" transform="translate\(([-\d.e]+),([-\d.e]+)\)"[^>]*font-weight="(\w+)"[^>]*?(?: opacity="([\d.]+)")?>([^<]*)<\/text>/g,
        ),
      ].map(([, anchor, x, y, weight, opacity, text]) => {
        const w = sansTextWidth(text!, 11, weight === 'bold');
        const x1 = Number(x) - (anchor === 'end' ? w : anchor === 'middle' ? w / 2 : 0);
        return { text: text!, drawn: opacity !== '0', box: [x1, Number(y) - 9, x1 + w, Number(y) + 2] as const };
      });
    const overlapping = (list: ReturnType<typeof labels>) =>
      list.flatMap((a, i) =>
        list
          .slice(i + 1)
          .flatMap((b) => (a.box[0] < b.box[2] - 1 && b.box[0] < a.box[2] - 1 && a.box[1] < b.box[3] - 1 && b.box[1] < a.box[3] - 1 ? [[a.text, b.text]] : [])),
      );
    // two pipelines on one spot: both labelled, apart (they were drawn at one place, one over the other)
    const two = buildReport([
      fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.8 }, 0),
      fakePoint({ model: 'sst2', label: 'int8', bytes: 1e7, glue: 0.79, speedup: 2 }, 1),
      fakePoint({ model: 'sst2', label: 'int8-static', bytes: 1e7, glue: 0.79, speedup: 2 }, 2),
    ]);
    for (const svg of Object.values(await renderCharts(two))) {
      const drawn = labels(svg);
      expect(drawn.map((l) => [l.text, l.drawn])).toEqual([
        ['baseline', true],
        ['int8', true],
        ['int8-static', true],
      ]);
      expect(overlapping(drawn)).toEqual([]);
      expect(svg).not.toContain('without a label');
    }
    // two points one above the other, closer than a label's height: each label beside its own point, at its height (the
    // first place was above-right, beside the point above: heads-a seemed to name the point of heads-b)
    const close = buildReport([
      fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.8 }, 0),
      fakePoint({ model: 'sst2', label: 'heads-a', bytes: 3e7, glue: 0.78, speedup: 1.2 }, 1),
      fakePoint({ model: 'sst2', label: 'heads-b', bytes: 3e7, glue: 0.781, speedup: 1.25 }, 2),
      fakePoint({ model: 'sst2', label: 'int8', bytes: 1e7, glue: 0.79, speedup: 2 }, 3), // (both heads off the front: heads-a placed first)
    ]);
    const { bytes } = await renderCharts(close);
    const points = [...bytes.matchAll(/<path aria-label="[^"]*pipeline: ([^;"]*);[^"]*"[^>]*transform="translate\(([-\d.e]+),([-\d.e]+)\)"/g)].map(
      ([, text, x, y]) => ({ text: text!, x: Number(x), y: Number(y) }),
    );
    for (const label of labels(bytes)) {
      const [x1, y1, x2, y2] = label.box;
      const distance = (p: (typeof points)[number]) => Math.hypot(Math.max(x1 - p.x, 0, p.x - x2), Math.max(y1 - p.y, 0, p.y - y2));
      const nearest = points.reduce((a, b) => (distance(b) < distance(a) ? b : a));
      expect([label.text, label.drawn], JSON.stringify(points)).toEqual([nearest.text, true]);
    }
    // twelve on one spot below a front point: those that fit nowhere are left out and named, the front's label kept
    const crowd = buildReport([
      fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.8 }, 0),
      fakePoint({ model: 'sst2', label: 'front', bytes: 2e7, glue: 0.79, speedup: 2 }, 1),
      ...Array.from({ length: 12 }, (_, i) => fakePoint({ model: 'sst2', label: `same-${i}`, bytes: 2e7, glue: 0.789, speedup: 2 }, 2 + i)),
    ]);
    for (const [kind, svg] of Object.entries(await renderCharts(crowd))) {
      const all = labels(svg);
      expect(all).toHaveLength(14);
      const drawn = all.filter((l) => l.drawn);
      expect(overlapping(drawn)).toEqual([]);
      expect(drawn.map((l) => l.text)).toEqual(expect.arrayContaining(['baseline', 'front']));
      const left = all.filter((l) => !l.drawn).map((l) => `sst2 · ${l.text}`);
      expect(left.length).toBeGreaterThan(0);
      // (named in the subtitle, in lines of at most the panel's width: the second drawing placed the labels as the first)
      const subtitle = [...svg.matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((m) => m[1]!);
      const at = subtitle.indexOf('without a label (it would overlap others wherever placed; see the table):');
      expect(at, kind).toBeGreaterThan(0);
      const named = subtitle
        .slice(at + 1)
        .join(' ')
        .split(/,\s*/);
      expect(named).toEqual(left);
      for (const line of subtitle.slice(at + 1)) expect(sansTextWidth(line, 12)).toBeLessThanOrEqual(PANEL_WIDTH);
    }
  });

  it("cuts a point's label past LABEL_LIMIT pixels with …, its tooltip whole, so a long pipeline name leaves the chart its size", async () => {
    const long = 'prune-heads 0.4 magnitude + prune-ffn 0.3 magnitude + factorize-embeddings 64 + quantize int8 true true minmax';
    const longData = buildReport([
      fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.7 }, 0),
      fakePoint({ model: 'sst2', label: long, bytes: 5e7, glue: 0.72, speedup: 0.9 }, 1), // the rightmost point: its label past the panel
    ]);
    const points = chartPoints(longData, 'bytes');
    const cut = points.find((p) => p.label === long)!;
    expect(cut.text).toBe(long);
    expect(cut.shown).toMatch(/^prune-heads 0\.4 magnitude \+ prune-.*…$/);
    expect(sansTextWidth(cut.shown, 11, true)).toBeLessThanOrEqual(LABEL_LIMIT);
    expect(sansTextWidth(`${cut.shown.slice(0, -1)}${long[cut.shown.length - 1]}…`, 11, true)).toBeGreaterThan(LABEL_LIMIT);
    expect(points.find((p) => p.label === 'baseline')!.shown).toBe('baseline');
    const svg = (await renderCharts(longData)).bytes;
    expect(svg).toContain(`>${cut.shown}</text>`);
    expect(svg).not.toContain(`>${long}</text>`);
    // a 440 px panel, its axes, and at most LABEL_LIMIT of label past its right edge
    expect(Number(/<svg[^>]* width="(\d+)"/.exec(svg)![1])).toBeLessThan(440 + 80 + LABEL_LIMIT);
  });

  it("cuts a panel's header (its model) past the panel's width with …, so a long model name leaves the chart its size", async () => {
    const model = `${'a-long-model-name-'.repeat(6)}end`;
    const longData = buildReport([
      fakePoint({ model, label: 'baseline', bytes: 4e7, glue: 0.7 }, 0),
      fakePoint({ model, label: 'x', bytes: 3e7, glue: 0.6 }, 1),
    ]);
    const svg = (await renderCharts(longData)).bytes;
    const header = [...svg.matchAll(/<text[^>]*font-size="12px"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
    expect(header).toHaveLength(1);
    expect(header[0]).toMatch(/^a-long-model-name-a-long-.*…$/);
    expect(sansTextWidth(header[0]!, 12, true)).toBeLessThanOrEqual(PANEL_WIDTH);
    // (the whole name, 1.9 times the panel, widened the SVG to 969 px)
    expect(Number(/<svg[^>]* width="(\d+)"/.exec(svg)![1])).toBeLessThan(PANEL_WIDTH + 80 + LABEL_LIMIT);
  });

  it("draws a panel's header from the panel's left edge, so a long model name leaves both charts as wide as a short one", async () => {
    const widths = async (model: string) => {
      const charts = await renderCharts(
        buildReport([
          fakePoint({ model, label: 'baseline', bytes: 4e7, glue: 0.7 }, 0),
          fakePoint({ model, label: 'x', bytes: 3e7, glue: 0.6, speedup: 1.5 }, 1),
        ]),
      );
      // the header's title group: at the panel's left (x 0), where vega-lite's default anchor put it at its middle
      expect(charts.bytes.includes('role-title"><g transform="translate(0,')).toBe(true);
      return [charts.bytes, charts.latency].map((svg) => Number(/<svg[^>]* width="(\d+)"/.exec(svg)![1]));
    };
    // (the long one, cut to the panel but drawn from its middle, was 86 px wider on the size chart, 96 on the latency chart)
    expect(await widths(`${'a-long-model-name-'.repeat(6)}end`)).toEqual(await widths('bert-tiny'));
  });

  it("keeps a stale point's ‡ when its long label is cut (the … before it), where the cut dropped it", () => {
    const long = 'prune-heads 0.4 magnitude + prune-ffn 0.3 magnitude + factorize-embeddings 64 + quantize int8 true true minmax';
    const points = [
      fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.7 }, 0),
      fakePoint({ model: 'sst2', label: long, bytes: 5e7, glue: 0.72 }, 1),
    ];
    const marked = buildReport(points, [], new Map([[points[1]!.key, 'quantize v4 → v5']]));
    for (const kind of ['bytes', 'latency'] as const) {
      const cut = chartPoints(marked, kind).find((p) => p.label === long)!;
      expect(cut.text).toBe(`${long}‡`);
      expect(cut.shown).toMatch(/^prune-heads 0\.4 magnitude \+ .*…‡$/);
      expect(sansTextWidth(cut.shown, 11, cut.front)).toBeLessThanOrEqual(LABEL_LIMIT);
    }
  });

  it('labels the axes of a panel of one point with its values, not 40.000000', async () => {
    const one = buildReport([fakePoint({ model: 'sst2', label: 'baseline', bytes: 40e6, glue: 0.8, p50: 2.5 }, 0)]);
    const charts = await renderCharts(one);
    const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(texts(charts.bytes)).toEqual(expect.arrayContaining(['40', '80', 'weights (MB)', 'GLUE score (dev, ×100)']));
    expect(texts(charts.latency)).toEqual(expect.arrayContaining(['2.5', '80', 'p50 latency (ms)']));
    for (const svg of [charts.bytes, charts.latency]) expect(texts(svg).filter((t) => /\.\d*0{3}$/.test(t!))).toEqual([]);
  });

  it('draws no negative tick on the axis of sizes or latencies, where a point near 0 is padded from 0; a panel far from 0 keeps its padding', async () => {
    const points = [
      fakePoint({ model: 'tiny', label: 'baseline', bytes: 2e6, glue: 0.8, p50: 2 }, 0),
      fakePoint({ model: 'tiny', label: 'int8', bytes: 0.05e6, glue: 0.79, p50: 0.04, speedup: 50 }, 1),
      fakePoint({ model: 'large', label: 'baseline', bytes: 44e6, glue: 0.8, p50: 20 }, 2),
      fakePoint({ model: 'large', label: 'heads', bytes: 40e6, glue: 0.78, p50: 17, speedup: 20 / 17 }, 3),
    ];
    const charts = await renderCharts(buildReport(points));
    // (each panel's x ticks: the numbers right before its x axis title, in the panels' order: large, tiny)
    const xTicks = (svg: string, title: string) =>
      [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)]
        .map((m) => m[1]!)
        .join('|')
        .split(`|${title}|`)
        .slice(0, -1)
        .map((before) => {
          const texts = before.split('|');
          let first = texts.length;
          while (first > 0 && /^[−\d.,]+$/.test(texts[first - 1]!)) first--;
          return texts.slice(first);
        });
    for (const [svg, title] of [
      [charts.bytes, 'weights (MB)'],
      [charts.latency, 'p50 latency (ms)'],
    ] as const) {
      const panels = xTicks(svg, title);
      expect(panels.map((ticks) => ticks.filter((t) => t.startsWith('−')))).toEqual([[], []]);
      // (the small model's axis starts at 0; the large one's short of its smallest point, not at 0)
      expect(panels.map((ticks) => ticks.map((t) => Number(t.replace(/[−,]/g, ''))))).toEqual([expect.not.arrayContaining([0]), expect.arrayContaining([0])]);
    }
  });

  it('guards CSV text cells a spreadsheet would run as formulas with an apostrophe, never numbers', () => {
    const evil = fakePoint({ model: '=HYPERLINK("x")', label: 'baseline', bytes: 4e7, glue: 0.8 }, 0);
    const variant = fakePoint({ model: '=HYPERLINK("x")', label: '-int8', bytes: 1e7, glue: -0.5, speedup: 2 }, 1);
    const lines = toCsv(buildReport([evil, variant]))
      .trim()
      .split('\n');
    expect(lines[1]!.split(',')[1]).toBe(`"'=HYPERLINK(""x"")"`);
    expect(lines[2]!.split(',')[2]).toBe("'-int8");
    expect(lines[2]).toContain(',-0.5,');
  });

  it('says in each chart which models have no scored point (no panel), even when none has one', async () => {
    const unscored = fakePoint({ model: 'b', label: 'baseline', bytes: 4e7, glue: null }, 1);
    for (const points of [[fakePoint({ model: 'a', label: 'baseline', bytes: 4e7, glue: 0.8 }), unscored], [unscored]]) {
      const charts = await renderCharts(buildReport(points));
      for (const svg of [charts.bytes, charts.latency]) expect(svg).toContain('>no scored point (no GLUE score, so no panel): b<');
    }
  });

  it("wraps the subtitle's lists of models and points to the panel's width, where each was one line as wide as its list", async () => {
    // twelve unscored models and eight points scored on fewer tasks than planned: each list in lines of at most the
    // panel's width (a line was as wide as its list, ~1,400 px, and the HTML page shrank the chart to fit it)
    const names = Array.from({ length: 12 }, (_, i) => `unscored-model-${i}`);
    const partial = Array.from({ length: 8 }, (_, i) => {
      const p = fakePoint({ model: 'a', label: `partial-${i}`, bytes: 2e7, glue: 0.7, speedup: 2 }, 20 + i);
      p.tasks = ['SST-2', 'STS-B'];
      return p;
    });
    const baseline = fakePoint({ model: 'a', label: 'baseline', bytes: 4e7, glue: 0.8 });
    baseline.tasks = ['SST-2', 'STS-B'];
    baseline.result.eval.tasks['STS-B'] = { metrics: { pearson: 0.4, spearmanr: 0.4 }, examples: 100, seconds: 1 };
    const data = buildReport([baseline, ...partial, ...names.map((model, i) => fakePoint({ model, label: 'baseline', bytes: 4e7, glue: null }, i + 1))]);
    const svg = (await renderCharts(data)).bytes;
    const subtitle = [...svg.matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
    const list = (heading: string, end: string | undefined, separator: RegExp) => {
      const from = subtitle.findIndex((l) => l.startsWith(heading));
      const to = end === undefined ? subtitle.length : subtitle.findIndex((l) => l.startsWith(end));
      const lines = subtitle.slice(from, to);
      for (const line of lines) expect(sansTextWidth(line, 12), line).toBeLessThanOrEqual(PANEL_WIDTH);
      expect(lines.length).toBeGreaterThan(1);
      return lines.join(' ').slice(heading.length).split(separator);
    };
    expect(list('no scored point (no GLUE score, so no panel): ', 'left out', /,\s*/)).toEqual([...names].sort());
    expect(list('left out (GLUE over fewer tasks than planned): ', undefined, /;\s*/)).toEqual(partial.map((p) => `a · ${p.label} (no STS-B)`));
    expect(Number(/<svg[^>]* width="(\d+)"/.exec(svg)![1])).toBeLessThan(640);
  });

  it('says what a front is as it is ranked: of two variants of one size (one speed) the better alone, where the charts and the page said nothing else was both smaller and better', async () => {
    // heads-a and heads-b: one size, one speed, other scores; neither is smaller nor faster than the other
    const tied = buildReport(
      [
        { model: 'm', label: 'baseline', bytes: 4e7, glue: 0.8 },
        { model: 'm', label: 'heads-a', bytes: 3e7, glue: 0.7, speedup: 1.5 },
        { model: 'm', label: 'heads-b', bytes: 3e7, glue: 0.75, speedup: 1.5 },
      ].map(fakePoint),
    );
    const front = (kind: 'bytes' | 'latency') =>
      chartPoints(tied, kind)
        .filter((p) => p.front)
        .map((p) => p.label);
    expect([front('bytes'), front('latency')]).toEqual([
      ['baseline', 'heads-b'],
      ['baseline', 'heads-b'],
    ]);
    const subtitle = (kind: 'bytes' | 'latency') => (chartSpec(tied, kind) as unknown as { title: { subtitle: string[] } }).title.subtitle;
    expect(subtitle('bytes')).toEqual([
      'weights: bytes of all initializers',
      "filled: on the Pareto front of its model's variants in its sweep:",
      'nothing else is smaller and as good or better, or as small and better',
    ]);
    expect(subtitle('latency').slice(1)).toEqual([
      "filled: on the Pareto front of its model's variants in its sweep:",
      'nothing else is faster and as good or better, or as fast and better',
    ]);
    expect(await writtenHtml(tied, 'tied.sqlite')).toContain(
      'A row is on a front when no other row of its model in its sweep is smaller (faster) and as good or better, or as small (as fast) and better.',
    );
  });

  it('marks stale points in both charts (a diamond labelled ‡, said in the subtitle), kept in their front as the sweep ranks them', async () => {
    const points = posterPoints();
    const key = (label: string) => points.find((p) => p.model === 'sst2' && p.label === label)!.key;
    // int8 is on both fronts, factorized on neither
    const stale = new Map([
      [key('int8'), 'quantize v4 → v5'],
      [key('factorized'), 'factorize-embeddings v1 → v2'],
    ]);
    const marked = buildReport(points, [], stale);
    for (const kind of ['bytes', 'latency'] as const) {
      const spec = chartSpec(marked, kind) as unknown as {
        title: { subtitle: string[] };
        data: { values: Array<{ model: string; label: string; stale: boolean; text: string; shown: string; front: boolean }> };
        spec: { layer: Array<{ mark: { type: string }; encoding: Record<string, unknown> }> };
      };
      const values = spec.data.values.filter((v) => v.model === 'sst2');
      expect(values.every((v) => v.shown === v.text)).toBe(true);
      expect(Object.fromEntries(values.map((v) => [v.label, [v.stale, v.text]]))).toEqual({
        baseline: [false, 'baseline'],
        'heads-40%': [false, 'heads-40%'],
        int8: [true, 'int8‡'],
        factorized: [true, 'factorized‡'],
        combined: [false, 'combined'],
      });
      // the fronts are the sweep's, stale points kept
      expect(values.map((v) => v.front)).toEqual(
        chartPoints(data, kind)
          .filter((v) => v.model === 'sst2')
          .map((v) => v.front),
      );
      expect(values.find((v) => v.label === 'int8')!.front).toBe(true);
      const point = spec.spec.layer.find((l) => l.mark.type === 'point')!;
      expect(point.encoding.shape).toEqual({ condition: { test: 'datum.stale', value: 'diamond' }, value: 'circle' });
      for (const text of spec.spec.layer.filter((l) => l.mark.type === 'text')) expect(text.encoding.text).toEqual({ field: 'shown' });
      expect(spec.title.subtitle).toContain(
        "diamond, ‡: stale, computed by other code than the bert-compress running now or on data since changed (see the table's ‡ note)",
      );
      // a report with nothing stale: no diamond named, every point a circle
      const current = chartSpec(data, kind) as unknown as typeof spec;
      expect(current.title.subtitle.join('\n')).not.toContain('‡');
      expect(current.data.values.every((v) => !v.stale && v.text === v.label)).toBe(true);
    }
    const charts = await renderCharts(marked);
    for (const svg of [charts.bytes, charts.latency]) {
      expect(svg).toContain('>int8‡</text>');
      expect(svg).toContain('>factorized‡</text>');
    }
  });

  it("prints a tiny model's size and latency in the charts' tooltips as the table's columns do, not 0.00", () => {
    const tiny = buildReport([
      fakePoint({ model: 'tiny', label: 'baseline', bytes: 41_000, glue: 0.6, p50: 0.0042 }, 1),
      fakePoint(
        { model: 'tiny', label: 'int8', bytes: 12_000, glue: 0.59, speedup: 1.5, p50: 0.0028, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] },
        2,
      ),
    ]);
    const { header, rows } = displayTable(tiny);
    const cell = (label: string, column: string) => rows[tiny.rows.findIndex((r) => r.label === label)]![header.indexOf(column)]!;
    for (const [kind, column] of [
      ['bytes', 'weights MB'],
      ['latency', 'p50 ms'],
    ] as const) {
      const spec = chartSpec(tiny, kind) as unknown as {
        data: { values: Array<{ label: string; xText: string }> };
        spec: { layer: Array<{ mark: { type: string }; encoding: { tooltip?: Array<{ field: string; format?: string }> } }> };
      };
      const tooltip = spec.spec.layer.find((l) => l.mark.type === 'point')!.encoding.tooltip!;
      const x = tooltip.find((t) => t.field === 'x' || t.field === 'xText')!;
      expect(x).toEqual({ field: 'xText', title: kind === 'bytes' ? 'weights (MB)' : 'p50 latency (ms)' });
      // the baseline's x is the table's measured value (a variant's latency is its baseline's p50 over its speed-up)
      expect(spec.data.values.find((v) => v.label === 'baseline')!.xText).toBe(cell('baseline', column));
    }
    expect(cell('baseline', 'weights MB')).toBe('0.041');
    expect(chartPoints(tiny, 'bytes').map((p) => p.xText)).toEqual(['0.041', '0.012']);
    expect(chartPoints(tiny, 'latency').find((p) => p.label === 'baseline')!.xText).toBe('0.0042');
  });

  it('charts every scored point with its front order', () => {
    const pts = chartPoints(data, 'bytes');
    expect(pts).toHaveLength(7); // 'broken' has no GLUE score
    expect(
      pts
        .filter((p) => p.model === 'sst2' && p.front)
        .sort((a, b) => a.order - b.order)
        .map((p) => p.label),
    ).toEqual(['combined', 'int8', 'baseline']);
  });
});

describe('report of a store', () => {
  /** A store holding `points`, written the way a sweep writes them (`versions`: see storePoints), and the points as stored. */
  function storeOf(points: StoredPoint[], versions?: (p: StoredPoint) => PointVersions | null): { store: string; stored: StoredPoint[] } {
    const path = join(mkdtempSync(join(tmpdir(), 'report-store-')), 'store.sqlite');
    return { store: path, stored: storePoints(path, points, versions) };
  }

  /** A point of sweep `sweep` as its plan names it (what SweepStore's addToSweep, claim and fail read). */
  const plannedPoint = (sweep: string, model: string, label: string, key: string) =>
    ({
      key,
      sweep,
      model: { name: model, onnx: '/models/sst2/model.onnx', sha256: 'sha-sst2' },
      label,
      steps: [],
      tasks: ['SST-2'],
      toolVersion: '0.1.0',
    }) as unknown as SweepPoint;

  it('names the points its sweep planned that have no result yet (a sweep stopped half-way), in Markdown and HTML', async () => {
    const done = [
      fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.8 }, 0),
      fakePoint({ model: 'sst2', label: 'int8', bytes: 1e7, glue: 0.79, speedup: 2 }, 1),
    ];
    const { store, stored } = storeOf(done);
    const planned = (label: string, i: number) => plannedPoint('test', 'sst2', label, String(i).repeat(64));
    const s = SweepStore.open(store);
    try {
      // the sweep's plan: its two finished points, one never run, one that failed
      s.addToSweep([...stored.map((p) => ({ ...planned(p.label, 0), key: p.key })), planned('heads-40%', 7), planned('ffn-30%', 8)]);
      s.claim(planned('ffn-30%', 8));
      s.fail('8'.repeat(64), 'out of memory');
    } finally {
      s.close();
    }
    for (const sweep of [undefined, 'test']) {
      const data = loadReport({ store, ...(sweep ? { sweep } : {}) });
      expect(data.rows.map((r) => r.label)).toEqual(['baseline', 'int8']);
      expect(data.unfinished).toEqual([{ sweep: 'test', model: 'sst2', label: 'heads-40%' }]);
      const note = 'Not finished (not in the table: not run yet, running, or stopped): sst2 · heads-40%. A rerun of the sweep runs it.';
      expect(toMarkdown(data).split('\n')).toContain(note);
      expect(await writtenHtml(data, store)).toContain(escapeHtml(note));
    }
    expect(toMarkdown(buildReport(done))).not.toContain('Not finished');
  });

  it("shows once a point earlier code stored under both forms of its seeds (a step's own seed, the sweep's): the newest result, with a note; --sweep shows each sweep's own", async () => {
    registerAllPasses();
    const random = { ratio: 0.4, importance: 'random' };
    const points = [
      { ...fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.8 }, 0), sweep: 'by-sweep' },
      // the sweep's seed 7, stored by earlier code under the key of its seeds as written
      {
        ...fakePoint({ model: 'sst2', label: 'heads-sweep-seed', bytes: 3e7, glue: 0.7, speedup: 1.2, steps: [{ pass: 'prune-heads', settings: random }] }, 1),
        sweep: 'by-sweep',
      },
      // the step's own seed 7: another key as written, the same one now
      {
        ...fakePoint(
          { model: 'sst2', label: 'heads-own-seed', bytes: 3e7, glue: 0.71, speedup: 1.3, steps: [{ pass: 'prune-heads', settings: { ...random, seed: 7 } }] },
          2,
        ),
        sweep: 'in-step',
      },
    ];
    const plan = (p: StoredPoint) => (p.sweep === 'by-sweep' ? { seed: 7 } : {});
    const storeWith = (newest: string): { path: string; stored: StoredPoint[] } => {
      const path = join(mkdtempSync(join(tmpdir(), 'report-store-')), 'store.sqlite');
      const stored = storePoints(path, points, undefined, plan, () => 'written');
      const db = new Database(path);
      try {
        stored.forEach((p, i) =>
          db
            .prepare('UPDATE results SET finished_at = ? WHERE key = ?')
            .run(new Date(Date.UTC(2026, 0, 1, 0, 0, p.label === newest ? 9 : i)).toISOString(), p.key),
        );
      } finally {
        db.close();
      }
      return { path, stored };
    };
    const { path, stored } = storeWith('heads-own-seed');
    const [bySweep, inStep] = [stored[1]!, stored[2]!];
    expect(bySweep!.key).not.toBe(inStep!.key);
    const plans = (() => {
      const s = SweepStore.open(path, { readonly: true });
      try {
        return s.finishedPlans();
      } finally {
        s.close();
      }
    })();
    expect(pointKey(plans.get(bySweep!.key) as SweepPoint)).toBe(pointKey(plans.get(inStep!.key) as SweepPoint));

    const data = loadReport({ store: path });
    expect(data.rows.map((r) => [r.sweep, r.label, r.key, r.stale])).toEqual([
      ['by-sweep', 'baseline', stored[0]!.key, null],
      ['in-step', 'heads-own-seed', inStep!.key, null],
    ]);
    const note =
      "Shown once: sst2 · heads-sweep-seed (sweep by-sweep) is the row sst2 (sweep in-step) · heads-own-seed, one point stored twice by an earlier bert-compress, its seeds written differently (a step's own seed or the sweep's, the default seed written out or left out) or its training task; the row shows the newest result. compress report STORE --sweep NAME shows each sweep's own.";
    expect(toMarkdown(data).split('\n')).toContain(note);
    expect(await writtenHtml(data, path)).toContain(`<p class="note">${escapeHtml(note)}</p>`);
    expect(JSON.parse(toJson(data)).shownOnce).toEqual([
      { sweep: 'by-sweep', model: 'sst2', label: 'heads-sweep-seed', key: bySweep!.key, shownAs: inStep!.key },
    ]);

    // the newest result whichever form of the seeds it was stored under
    const other = storeWith('heads-sweep-seed');
    expect(loadReport({ store: other.path }).rows.map((r) => [r.sweep, r.label])).toEqual([
      ['by-sweep', 'baseline'],
      ['by-sweep', 'heads-sweep-seed'],
    ]);

    // each sweep's own report keeps its own row
    for (const [sweep, label, key] of [
      ['by-sweep', 'heads-sweep-seed', bySweep!.key],
      ['in-step', 'heads-own-seed', inStep!.key],
    ] as const) {
      const s = SweepStore.open(path);
      try {
        s.addToSweep([
          { ...(plans.get(stored[0]!.key) as SweepPoint), sweep },
          { ...(plans.get(key) as SweepPoint), sweep },
        ]);
      } finally {
        s.close();
      }
      const mine = loadReport({ store: path, sweep });
      expect(mine.rows.map((r) => [r.label, r.key])).toEqual([
        ['baseline', stored[0]!.key],
        [label, key],
      ]);
      expect(mine.shownOnce).toBeUndefined();
      expect(toMarkdown(mine)).not.toContain('Shown once');
    }
  });

  it('lists a point whose input files this tool version refused (a model computing NaN) as refused, as a rerun fails it again unrun; one refused by another version as a failure', () => {
    const { store, stored } = storeOf([fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.8 }, 0)]);
    const nan = "sst2/model.onnx: the model computes NaN on the check's inputs";
    const s = SweepStore.open(store);
    try {
      s.addToSweep([
        plannedPoint('test', 'sst2', 'baseline', stored[0]!.key),
        plannedPoint('test', 'sst2', 'int8', '8'.repeat(64)),
        plannedPoint('test', 'sst2', 'ffn', '7'.repeat(64)),
      ]);
      s.claim(plannedPoint('test', 'sst2', 'int8', '8'.repeat(64)));
      s.fail('8'.repeat(64), nan, toolVersion());
      s.claim(plannedPoint('test', 'sst2', 'ffn', '7'.repeat(64)));
      s.fail('7'.repeat(64), nan, '0.0.0-another');
    } finally {
      s.close();
    }
    expect(loadReport({ store, sweep: 'test' }).failed).toEqual([
      { model: 'sst2', label: 'ffn', error: nan },
      { model: 'sst2', label: 'int8', error: nan, refused: nan },
    ]);
  });

  it("lists a failed point a sweep shares with another (run under the other's names) in its report, under its own names", () => {
    const { store, stored } = storeOf([fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.8 }, 0)]);
    const s = SweepStore.open(store);
    try {
      // sweep 'other' names the same model 'tiny' and runs the int8 point first; it fails there
      s.addToSweep([plannedPoint('test', 'sst2', 'baseline', stored[0]!.key), plannedPoint('test', 'sst2', 'int8', '9'.repeat(64))]);
      s.addToSweep([plannedPoint('other', 'tiny', 'q8', '9'.repeat(64))]);
      s.claim(plannedPoint('other', 'tiny', 'q8', '9'.repeat(64)));
      s.fail('9'.repeat(64), 'out of memory');
    } finally {
      s.close();
    }
    expect(loadReport({ store, sweep: 'test' }).failed).toEqual([{ model: 'sst2', label: 'int8', error: 'out of memory' }]);
    expect(loadReport({ store, sweep: 'test' }).unfinished).toBeUndefined();
    expect(loadReport({ store }).failed).toEqual([{ model: 'tiny', label: 'q8', error: 'out of memory' }]);
  });

  it("leaves out of a sweep's report the points its edited plan no longer holds that have no result (not run, failed here or in another sweep), keeping those with one", () => {
    const { store, stored } = storeOf([
      fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.8 }, 0),
      fakePoint({ model: 'sst2', label: 'int8', bytes: 1e7, glue: 0.79, speedup: 2 }, 1),
    ]);
    const [baseline, int8] = stored.map((p) => plannedPoint('test', 'sst2', p.label, p.key));
    const heads = plannedPoint('test', 'sst2', 'heads-40%', '7'.repeat(64));
    const ffn = plannedPoint('test', 'sst2', 'ffn-30%', '8'.repeat(64));
    const drop = plannedPoint('test', 'sst2', 'drop-1', '9'.repeat(64));
    const s = SweepStore.open(store);
    try {
      // sweep 'test' planned five points: one never run, one that failed where sweep 'other' (which plans it too) ran
      // it, one that failed where it ran it
      s.addToSweep([baseline!, int8!, heads, ffn, drop]);
      s.addToSweep([plannedPoint('other', 'tiny', 'q8', ffn.key)]);
      s.claim(plannedPoint('other', 'tiny', 'q8', ffn.key));
      s.fail(ffn.key, 'out of memory');
      s.claim(drop);
      s.fail(drop.key, 'no layer 1');
      // its file edited: only the baseline is left
      expect(s.dropFromSweep('test', [baseline!])).toBe(3);
      expect(s.dropFromSweep('test', [baseline!])).toBe(0);
    } finally {
      s.close();
    }
    const mine = loadReport({ store, sweep: 'test' });
    expect([mine.rows.map((r) => r.label), mine.unfinished, mine.failed]).toEqual([['baseline', 'int8'], undefined, []]);
    const all = loadReport({ store });
    expect([all.unfinished, all.failed]).toEqual([undefined, [{ model: 'tiny', label: 'q8', error: 'out of memory' }]]);
  });

  it('relates a variant to the baseline evaluated on the same data (GLUE dev files, config and tokenizer), saying when the report holds none', async () => {
    const read = (dev: string, glueDir: string) => ({ data: { dev: { 'SST-2': dev }, model: { 'config.json': 'cfg' } }, glueDir });
    // one sweep run on two GLUE folders (a, then b), and an int8 point on a third whose baseline failed
    const points = [
      fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.8, p50: 10 }, 0),
      fakePoint({ model: 'sst2', label: 'int8', bytes: 1e7, glue: 0.79, speedup: 2 }, 1),
      fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.6, p50: 20 }, 2),
      fakePoint({ model: 'sst2', label: 'int8', bytes: 1e7, glue: 0.59, speedup: 2 }, 3),
      fakePoint({ model: 'sst2', label: 'int8', bytes: 1e7, glue: 0.5, speedup: 2 }, 4),
    ];
    const plans = [read('a', '/glue/a'), read('a', '/glue/a'), read('b', '/glue/b'), read('b', '/glue/b'), read('c', '/glue/c')];
    const path = join(mkdtempSync(join(tmpdir(), 'report-store-')), 'store.sqlite');
    const stored = storePoints(path, points, undefined, (p) => plans[points.indexOf(p)] as never);
    const data = loadReport({ store: path });
    const row = (i: number) => data.rows.find((r) => r.key === stored[i]!.key)!;
    expect(row(1)).toMatchObject({ baselineKey: stored[0]!.key, baselineOnOtherData: false });
    expect(row(1).glueOfOriginal).toBeCloseTo(0.79 / 0.8, 12);
    expect(row(3)).toMatchObject({ baselineKey: stored[2]!.key, baselineOnOtherData: false });
    expect(row(3).glueOfOriginal).toBeCloseTo(0.59 / 0.6, 12);
    expect(row(3).latencyMs).toBeCloseTo(20 / 2, 12);
    expect(row(4)).toMatchObject({ baselineKey: null, baselineOnOtherData: true, bytesOfOriginal: null, glueOfOriginal: null });
    // a front per data read, each named apart
    const groups = [0, 1, 2, 3, 4].map((i) => row(i).group);
    expect(new Set(groups).size).toBe(3);
    expect([groups[0] === groups[1], groups[2] === groups[3]]).toEqual([true, true]);
    expect(groups[4]).toMatch(/^sst2 \(sweep test, file sha-sst2, data [0-9a-f]{8}\)$/);
    const note = `size and % of original are - for ${groups[4]}: the baseline rows the report holds of that model were evaluated on other data (another GLUE folder, or a GLUE dev file, config.json or tokenizer changed since), so a share of them is no share of the original; a rerun of the sweep on its data runs its baseline on it.`;
    expect(toMarkdown(data).split('\n')).toContain(note);
    expect(await writtenHtml(data, path)).toContain(escapeHtml(note));

    // a baseline planned before data hashes were kept matches the points that read its GLUE folder, as a sweep does
    const old = [points[0]!, points[1]!, points[4]!];
    const oldPlans = [{ glueDir: '/glue/a' }, read('a', '/glue/a'), read('c', '/glue/c')];
    const oldPath = join(mkdtempSync(join(tmpdir(), 'report-store-')), 'store.sqlite');
    const oldStored = storePoints(oldPath, old, undefined, (p) => oldPlans[old.indexOf(p)] as never);
    const oldData = loadReport({ store: oldPath });
    expect(oldStored.map((p) => oldData.rows.find((r) => r.key === p.key)!.baselineKey)).toEqual([oldStored[0]!.key, oldStored[0]!.key, null]);
  });

  it('says under the table which variants are compared with a stale baseline (‡), and prefers a current baseline of the same data', async () => {
    // the first baseline (GLUE 0.8) computed by an older bert-compress: stale
    const old = (p: StoredPoint) => (p.result.glue === 0.8 ? { tool: '0.0.1', passes: {} } : currentVersions(p.steps, undefined));
    const points = [
      fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.8, p50: 10 }, 0),
      fakePoint({ model: 'sst2', label: 'int8', bytes: 1e7, glue: 0.79, speedup: 2, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] }, 1),
      fakePoint({ model: 'sst2', label: 'heads', bytes: 3e7, glue: 0.78, speedup: 1.2 }, 2),
    ];
    const path = join(mkdtempSync(join(tmpdir(), 'report-store-')), 'store.sqlite');
    const stored = storePoints(path, points, old);
    const data = loadReport({ store: path });
    expect(data.rows.map((r) => [r.label, r.stale !== null, r.baselineKey])).toEqual([
      ['baseline', true, stored[0]!.key],
      ['heads', false, stored[0]!.key],
      ['int8', false, stored[0]!.key],
    ]);
    const note =
      '‡ Compared with a stale baseline: sst2 · heads, sst2 · int8: their size, % of original and the latency their front ranks are against a baseline row computed by other code (marked ‡); compress sweep FILE --rerun-stale recomputes it.';
    expect(toMarkdown(data).split('\n')).toContain(note);
    expect(await writtenHtml(data, path)).toContain(`<p class="note">${escapeHtml(note)}</p>`);

    // one whose input the code running now refuses (loadReport's ReportRow.refused): no rerun recomputes it, and the
    // notes say so rather than promise a --rerun-stale that fails at it
    const refused = { ...data, rows: data.rows.map((r) => (r.isBaseline ? { ...r, refused: '/m/sst2: refused for a reason' } : r)) };
    const refusedMd = toMarkdown(refused);
    expect(refusedMd).not.toContain('Compared with a stale baseline');
    expect(refusedMd).not.toContain('--rerun-stale recomputes');
    expect(refusedMd.split('\n')).toContain(
      `‡ Stale, and no rerun computes it again: the bert-compress running now refuses an input it read: sst2 · baseline (${data.rows[0]!.stale}; refused now: /m/sst2: refused for a reason). A rerun of the sweep, --rerun-stale too, fails at such a point and keeps this result, stale; give the input the refusal asks for.`,
    );

    // the same baseline computed again by the code running now (a --rerun-stale stopped before it forgot the old one)
    const again = fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.81, p50: 12 }, 3);
    const both = join(mkdtempSync(join(tmpdir(), 'report-store-')), 'store.sqlite');
    const bothStored = storePoints(both, [...points, again], old);
    const current = loadReport({ store: both });
    expect(current.rows.filter((r) => !r.isBaseline).map((r) => r.baselineKey)).toEqual([bothStored[3]!.key, bothStored[3]!.key]);
    expect(current.rows.find((r) => r.label === 'int8')!.glueOfOriginal).toBeCloseTo(0.79 / 0.81, 12);
    expect(toMarkdown(current)).not.toContain('Compared with a stale baseline');
  });

  it('names the stale baselines the note asks to recompute by their number: them for two', () => {
    const old = (p: StoredPoint) => (p.label === 'baseline' ? { tool: '0.0.1', passes: {} } : currentVersions(p.steps, undefined));
    const int8 = [{ pass: 'quantize', settings: { mode: 'int8' } }];
    const points = [
      fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.8, p50: 10 }, 0),
      fakePoint({ model: 'sst2', label: 'int8', bytes: 1e7, glue: 0.79, speedup: 2, steps: int8 }, 1),
      fakePoint({ model: 'qnli', label: 'baseline', bytes: 4e7, glue: 0.85, p50: 10 }, 2),
      fakePoint({ model: 'qnli', label: 'int8', bytes: 1e7, glue: 0.84, speedup: 2, steps: int8 }, 3),
    ];
    const path = join(mkdtempSync(join(tmpdir(), 'report-store-')), 'store.sqlite');
    storePoints(path, points, old);
    const note = toMarkdown(loadReport({ store: path }))
      .split('\n')
      .find((l) => l.startsWith('‡ Compared with a stale baseline'));
    expect(note).toMatch(/^‡ Compared with a stale baseline: qnli · int8, sst2 · int8: .*; compress sweep FILE --rerun-stale recomputes them\.$/);
  });

  it('refuses a stored result without what the report reads (a benchmark, a speed-up), in one line naming the point', () => {
    const good = [
      fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.8 }, 0),
      fakePoint({ model: 'sst2', label: 'int8', bytes: 1e7, glue: 0.79, speedup: 2 }, 1),
    ];
    expect(loadReport({ store: storeOf(good).store }).rows).toHaveLength(2);
    const cases: Array<[string, (r: Record<string, unknown> & { bench: { shapes: unknown[] } }) => void]> = [
      ['no benchmark (bench.shapes[0] with batch, seq and model.p50Ms)', (r) => (r.bench.shapes = [])],
      ['no speedup (a finite number)', (r) => (r.speedup = null)],
      // (where the table showed file MB NaN and the CSV file_bytes 'undefined')
      ['no fileBytes (a finite number)', (r) => delete r.fileBytes],
      ['no eval.tasks', (r) => delete r.eval],
    ];
    for (const [why, edit] of cases) {
      const { store, stored } = storeOf(good);
      const result = structuredClone(good[1]!.result);
      edit(result as never);
      const db = new Database(store); // edited by hand, or written by other code
      db.prepare('UPDATE results SET result = ? WHERE key = ?').run(JSON.stringify(result), stored[1]!.key);
      db.close();
      expect(() => loadReport({ store }), why).toThrow(SettingsError);
      expect(() => loadReport({ store })).toThrow(
        `${store}: the stored result of sst2 · int8 (sweep test, key ${stored[1]!.key.slice(0, 12)}) has ${why}: written by other code or edited; rerun its sweep into a new store`,
      );
    }
  });

  it('marks a point stale by the rule of the sweep (another pass version, a plan stored before keys held versions), in every format', async () => {
    registerAllPasses();
    const quantize = getPass('quantize').keyVersion(getPass('quantize').check({ mode: 'int8' }), undefined); // (int8's: keyVersion)
    // (the version fakePoint's prune-heads settings are keyed with: keyVersion)
    const heads = getPass('prune-heads').keyVersion(getPass('prune-heads').check({ ratio: 0.4 }), undefined);
    const points = [
      fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.8 }, 0),
      fakePoint({ model: 'sst2', label: 'int8', bytes: 1e7, glue: 0.79, speedup: 2, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] }, 1),
      fakePoint({ model: 'sst2', label: 'heads', bytes: 3e7, glue: 0.78, speedup: 1.2 }, 2),
    ];
    // int8: computed by the quantize of the version before; heads: by code whose keys held no versions
    const { store, stored } = storeOf(points, (p) =>
      p.label === 'int8'
        ? { tool: currentVersions(p.steps, undefined).tool, passes: { quantize: quantize - 1 } }
        : p.label === 'heads'
          ? null
          : currentVersions(p.steps, undefined),
    );
    const data = loadReport({ store });
    const stale = Object.fromEntries(data.rows.map((r) => [r.label, r.stale]));
    expect(stale).toEqual({ baseline: null, int8: `quantize v${quantize - 1} → v${quantize}`, heads: `prune-heads unversioned → v${heads}` });

    // the very rule of a sweep: the sweep of these plans, rerun by the code running now, calls the same points stale
    const s = SweepStore.open(store, { readonly: true });
    const plans = s.finishedPlans();
    const finished = s.finished();
    s.close();
    const rerun = stored.map((p) => {
      const plan = plans.get(p.key) as SweepPoint;
      const versions = currentVersions(plan.steps, plan.seed);
      const now = { ...plan, versions, toolVersion: versions.tool };
      return { ...now, key: pointKey(now) };
    });
    const found = findStale(rerun, finished, plans);
    expect(Object.fromEntries([...found.values()].map((m) => [m.point.label, m.change]))).toEqual({ int8: stale.int8, heads: stale.heads });
    expect(staleChange({ steps: [{ pass: 'quantize', settings: { mode: 'int8', removedSetting: 1 } }] }, 'k')).toBeUndefined(); // not comparable

    const md = toMarkdown(data);
    expect(md).toMatch(/^\| sst2 \| int8‡ \| quantize mode=int8 \|/m);
    expect(md).toMatch(/^\| sst2 \| heads‡ \|/m);
    expect(md).toMatch(/^\| sst2 \| baseline \|/m);
    const note = `‡ Stale: computed by other code than the bert-compress running now: sst2 · heads (${stale.heads}); sst2 · int8 (${stale.int8}). A rerun of the sweep keeps such a result and says so; compress sweep FILE --rerun-stale recomputes it.`;
    expect(md.split('\n')).toContain(note);
    const csv = toCsv(data).trim().split('\n');
    expect(csv[0]!.split(',').at(-1)).toBe('stale');
    expect(Object.fromEntries(csv.slice(1).map((l) => [l.split(',')[2], l.slice(l.lastIndexOf(',') + 1)]))).toEqual({
      baseline: '',
      int8: stale.int8,
      heads: stale.heads,
    });
    expect(JSON.parse(toJson(data)).rows.map((r: { stale: string | null }) => r.stale)).toEqual(data.rows.map((r) => r.stale));
    const html = await writtenHtml(data, store);
    expect(html).toContain(`<p class="note">${escapeHtml(note)}</p>`);
    expect(html).toMatch(/<tr class="[^"]*\bstale"><td>sst2<\/td><td>int8‡<\/td>/);
    expect(html).toMatch(/<tr class="baseline[^s"]*"><td>sst2<\/td><td>baseline<\/td>/);

    // a plan edited by hand into no JSON: no code can compare it, so not marked (nor does the report fail)
    const db = new Database(store);
    db.prepare("UPDATE points SET point = '{' WHERE label = 'heads'").run();
    db.close();
    expect(loadReport({ store }).rows.map((r) => [r.label, r.stale])).toEqual([
      ['baseline', null],
      ['heads', null],
      ['int8', stale.int8],
    ]);

    // a store written by the code running now: nothing marked
    const current = loadReport({ store: storeOf(points).store });
    expect(current.rows.map((r) => r.stale)).toEqual([null, null, null]);
    expect(toMarkdown(current)).not.toContain('‡');
  });

  it('lists a failed point whose stale result a row shows (its --rerun-stale failed) apart: in the table, kept by a rerun, retried by --rerun-stale', async () => {
    registerAllPasses();
    const quantize = getPass('quantize').keyVersion(getPass('quantize').check({ mode: 'int8' }), undefined);
    const points = [
      fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.8 }, 0),
      fakePoint({ model: 'sst2', label: 'int8', bytes: 1e7, glue: 0.79, speedup: 2, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] }, 1),
    ];
    // int8: computed by the quantize of the version before, its recompute by the code running now failed; drop: failed, no row
    const { store, stored } = storeOf(points, (p) =>
      p.label === 'int8' ? { tool: currentVersions(p.steps, undefined).tool, passes: { quantize: quantize - 1 } } : currentVersions(p.steps, undefined),
    );
    const s = SweepStore.open(store);
    try {
      const plan = s.finishedPlans().get(stored[1]!.key) as SweepPoint;
      const versions = currentVersions(plan.steps, plan.seed);
      const now = { ...plan, versions, toolVersion: versions.tool };
      const recompute = { ...now, key: pointKey(now) };
      const drop = plannedPoint('test', 'sst2', 'drop', '9'.repeat(64));
      s.addToSweep([{ ...plannedPoint('test', 'sst2', 'baseline', stored[0]!.key) }, recompute, drop]);
      for (const [p, error] of [
        [recompute, 'out of memory'],
        [drop, 'no layer 1'],
      ] as const) {
        s.claim(p);
        s.fail(p.key, error);
      }
    } finally {
      s.close();
    }
    const data = loadReport({ store });
    expect(data.rows.map((r) => [r.label, r.stale !== null])).toEqual([
      ['baseline', false],
      ['int8', true],
    ]);
    expect(data.failed).toEqual([
      { model: 'sst2', label: 'drop', error: 'no layer 1' },
      { model: 'sst2', label: 'int8', error: 'out of memory', staleRows: [stored[1]!.key] },
    ]);
    const md = toMarkdown(data).split('\n');
    const plain = md.indexOf(FAILED_NOTE);
    expect(md.slice(plain + 1, plain + 3)).toEqual(['- sst2 · drop: no layer 1', '']);
    const kept = md.indexOf(FAILED_STALE_NOTE);
    expect(md.slice(kept + 1, kept + 3)).toEqual(['- sst2 · int8: out of memory', '']);
    expect(FAILED_STALE_NOTE).toBe(
      'Failed to recompute (in the table as their stored results, stale, marked ‡: a rerun of the sweep keeps those; compress sweep FILE --rerun-stale retries them):',
    );
    const html = await writtenHtml(data, store);
    expect(html).toContain(`<p class="note">${escapeHtml(FAILED_STALE_NOTE)}</p>\n<ul class="note"><li>sst2 · int8: out of memory</li></ul>`);
    expect(html).toContain(`<p class="note">${escapeHtml(FAILED_NOTE)}</p>\n<ul class="note"><li>sst2 · drop: no layer 1</li></ul>`);
    // whose input the code running now refuses: no rerun computes it again
    const refused = { ...data, rows: data.rows.map((r) => (r.label === 'int8' ? { ...r, refused: '/m/sst2: refused for a reason' } : r)) };
    const refusedMd = toMarkdown(refused).split('\n');
    expect(refusedMd).not.toContain(FAILED_STALE_NOTE);
    const at = refusedMd.indexOf(FAILED_REFUSED_NOTE);
    expect(refusedMd.slice(at + 1, at + 3)).toEqual(['- sst2 · int8: out of memory', '']);
  });

  it('marks a point stale when a file it read besides its model changed since (GLUE dev or train file, config.json, tokenizer files), in every format', async () => {
    registerAllPasses();
    const root = mkdtempSync(join(tmpdir(), 'report-data-'));
    const glueDir = join(root, 'glue');
    const modelDir = join(root, 'sst2');
    mkdirSync(join(glueDir, 'SST-2'), { recursive: true });
    mkdirSync(modelDir);
    const dev = join(glueDir, 'SST-2', 'dev.tsv');
    const train = join(glueDir, 'SST-2', 'train.tsv');
    const config = join(modelDir, 'config.json');
    const vocab = join(modelDir, 'vocab.txt');
    const files: Record<string, string> = {
      [dev]: 'sentence\tlabel\ngood\t1\n',
      [train]: 'sentence\tlabel\nbad\t0\n',
      [config]: '{}',
      [vocab]: '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n',
    };
    const writeAll = () => {
      for (const [file, text] of Object.entries(files)) writeFileSync(file, text);
      rmSync(join(modelDir, 'tokenizer.json'), { force: true });
    };
    writeAll();
    const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
    const points = [
      fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.8 }, 0),
      fakePoint({ model: 'sst2', label: 'int8', bytes: 1e7, glue: 0.79, speedup: 2, steps: [{ pass: 'quantize', settings: { mode: 'int8-static' } }] }, 1),
      fakePoint({ model: 'sst2', label: 'tuned', bytes: 4e7, glue: 0.82, steps: [{ pass: 'train', settings: {} }] }, 2),
    ];
    const data = { dev: { 'SST-2': sha(dev) }, model: { 'config.json': sha(config), 'vocab.txt': sha(vocab) } };
    const plan = (p: StoredPoint): Partial<SweepPoint> => ({
      glueDir,
      model: { name: 'sst2', onnx: join(modelDir, 'model.onnx'), dir: modelDir, sha256: p.modelSha256 },
      ...(p.label === 'int8'
        ? { calibration: { task: 'SST-2', examples: 8 } as SweepPoint['calibration'], data: { ...data, calibration: sha(train) } }
        : p.label === 'tuned'
          ? {
              data,
              training: { steps: [{ index: 0, kind: 'train', task: 'SST-2', data: { file: train, sha256: sha(train) }, settings: {} }] },
            }
          : { data }),
    });
    const path = join(root, 'store.sqlite');
    storePoints(path, points, undefined, plan);
    const marks = () => Object.fromEntries(loadReport({ store: path }).rows.map((r) => [r.label, r.stale]));
    expect(marks()).toEqual({ baseline: null, int8: null, tuned: null });

    // the dev file edited: every point read it
    writeFileSync(dev, 'sentence\tlabel\ngood\t0\n');
    const edited = `data changed: ${dev} (SST-2 dev) edited`;
    const report = loadReport({ store: path });
    expect(report.rows.map((r) => [r.label, r.stale, r.codeChange, r.dataChange])).toEqual([
      ['baseline', edited, null, edited],
      ['int8', edited, null, edited],
      ['tuned', edited, null, edited],
    ]);
    const note = `‡ Stale: computed on data that changed since (a file its sweep read, hashed again now, differs): sst2 · baseline, sst2 · int8, sst2 · tuned (${edited}). A rerun of the sweep computes such a point again on the data as it is now, as another point (this result stays in the store).`;
    const md = toMarkdown(report);
    expect(md.split('\n')).toContain(note);
    expect(md).toMatch(/^\| sst2 \| int8‡ \|/m);
    expect(md).not.toContain('Compared with a stale baseline'); // (its variants read the same data: marked themselves)
    expect(
      toCsv(report)
        .trim()
        .split('\n')[1]!
        .endsWith(`,${csvQuoted(edited)}`),
    ).toBe(true);
    expect(JSON.parse(toJson(report)).rows.map((r: { dataChange: string | null }) => r.dataChange)).toEqual([edited, edited, edited]);
    expect(await writtenHtml(report, path)).toContain(`<p class="note">${escapeHtml(note)}</p>`);

    // the train file: the calibration data of int8, the training data of tuned (the baseline reads neither)
    writeAll();
    writeFileSync(train, 'sentence\tlabel\nbad\t1\n');
    expect(marks()).toEqual({
      baseline: null,
      int8: `data changed: ${train} (SST-2 train (calibration)) edited`,
      tuned: `data changed: ${train} (SST-2 train of step 1 (train)) edited`,
    });

    // the model folder's side files: config.json edited, vocab.txt removed, tokenizer.json added
    writeAll();
    writeFileSync(config, '{"id2label": {"0": "negative", "1": "positive"}}');
    rmSync(vocab);
    writeFileSync(join(modelDir, 'tokenizer.json'), '{}');
    const folder = `data changed: ${config} (model folder) edited, ${join(modelDir, 'tokenizer.json')} (model folder) added, ${vocab} (model folder) removed`;
    expect(marks()).toEqual({ baseline: folder, int8: folder, tuned: folder });

    // with a change of code: both, and said apart
    writeAll();
    writeFileSync(dev, 'sentence\tlabel\ngood\t0\n');
    const quantize = getPass('quantize').keyVersion(getPass('quantize').check({ mode: 'int8-static' }), undefined); // (the int8 point's: keyVersion)
    const older = join(root, 'older.sqlite');
    storePoints(
      older,
      points,
      (p) =>
        p.label === 'int8' ? { tool: currentVersions(p.steps, undefined).tool, passes: { quantize: quantize - 1 } } : currentVersions(p.steps, undefined),
      plan,
    );
    const both = loadReport({ store: older });
    const int8 = both.rows.find((r) => r.label === 'int8')!;
    expect([int8.stale, int8.codeChange, int8.dataChange]).toEqual([
      `quantize v${quantize - 1} → v${quantize}; ${edited}`,
      `quantize v${quantize - 1} → v${quantize}`,
      edited,
    ]);
    expect(toMarkdown(both)).toContain(
      `‡ Stale: computed by other code than the bert-compress running now: sst2 · int8 (quantize v${quantize - 1} → v${quantize}). A rerun`,
    );

    // the GLUE folder gone (the store read on another machine, the data moved): nothing says it changed
    writeAll();
    renameSync(glueDir, join(root, 'moved'));
    expect(marks()).toEqual({ baseline: null, int8: null, tuned: null });
    rmSync(root, { recursive: true, force: true });
  });

  it('marks a point stale when a model it read was replaced in place since (its own, a teacher), hashing a model again only where its stamps no longer hold', () => {
    registerAllPasses();
    const root = mkdtempSync(join(tmpdir(), 'report-model-'));
    const onnx = join(root, 'sst2', 'model.onnx');
    const teacher = join(root, 'teacher', 'model.onnx');
    mkdirSync(dirname(onnx));
    mkdirSync(dirname(teacher));
    writeFileSync(onnx, 'model bytes, first version');
    writeFileSync(teacher, 'teacher bytes');
    const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
    // (stamps as a plan takes them; `now` ahead: the files were just written, which a plan would not stamp)
    const stamps = (file: string) => fileStamps([file], Date.now() + 10_000)!;
    const points = [
      fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.8 }, 0),
      fakePoint(
        { model: 'sst2', label: 'distilled', bytes: 2e7, glue: 0.79, steps: [{ pass: 'distill', settings: { student: 'bert:layers=2,hidden=64' } }] },
        1,
      ),
    ].map((p) => ({ ...p, modelPath: onnx, modelSha256: sha(onnx) }));
    const plans =
      (withStamps: boolean) =>
      (p: StoredPoint): Partial<SweepPoint> => ({
        model: { name: 'sst2', onnx, dir: dirname(onnx), sha256: p.modelSha256, ...(withStamps ? { stamps: stamps(onnx) } : {}) },
        ...(p.label === 'distilled'
          ? {
              training: {
                steps: [
                  {
                    index: 0,
                    kind: 'distill',
                    task: 'SST-2',
                    student: 'bert:layers=2,hidden=64',
                    teacher,
                    teacherSha256: sha(teacher),
                    ...(withStamps ? { teacherStamps: stamps(teacher) } : {}),
                    data: { file: join(root, 'gone', 'train.tsv'), sha256: 'f'.repeat(64) },
                    settings: {},
                  },
                ],
              },
            }
          : {}),
      });
    const stamped = join(root, 'stamped.sqlite');
    const unstamped = join(root, 'unstamped.sqlite');
    storePoints(stamped, points, undefined, plans(true));
    storePoints(unstamped, points, undefined, plans(false));
    const marks = (store: string) => Object.fromEntries(loadReport({ store }).rows.map((r) => [r.label, r.dataChange]));
    for (const store of [stamped, unstamped]) expect(marks(store)).toEqual({ baseline: null, distilled: null });

    // stamps that hold: the model is not hashed again; a plan without them: it is
    const hashed: string[] = [];
    const modelHash = (file: string) => {
      hashed.push(file);
      return sha(file);
    };
    const stored = (store: string) => {
      const s = SweepStore.open(store, { readonly: true });
      try {
        return s.finishedPlans();
      } finally {
        s.close();
      }
    };
    for (const plan of stored(stamped).values()) expect(dataChange(plan, () => undefined, modelHash)).toBeUndefined();
    expect(hashed).toEqual([]);
    for (const plan of stored(unstamped).values()) expect(dataChange(plan, () => undefined, modelHash)).toBeUndefined();
    expect(hashed.sort()).toEqual([onnx, onnx, teacher]);

    // the model written again in place (same size), then the teacher replaced by a rename: marked, naming the file
    writeFileSync(onnx, 'model bytes, later version');
    const model = `data changed: ${onnx} (model) changed`;
    for (const store of [stamped, unstamped]) expect(marks(store)).toEqual({ baseline: model, distilled: model });
    writeFileSync(onnx, 'model bytes, first version');
    writeFileSync(join(root, 'other.onnx'), 'other teacher');
    renameSync(join(root, 'other.onnx'), teacher);
    const taught = `data changed: ${teacher} (teacher of step 1 (distill)) changed`;
    for (const store of [stamped, unstamped]) expect(marks(store)).toEqual({ baseline: null, distilled: taught });
    const report = loadReport({ store: stamped });
    expect(toMarkdown(report)).toMatch(/^\| sst2 \| distilled‡ \|/m);
    expect(toMarkdown(report)).toContain(`(${taught})`);

    // the models gone (the store read on another machine): not compared
    rmSync(dirname(onnx), { recursive: true });
    rmSync(dirname(teacher), { recursive: true });
    for (const store of [stamped, unstamped]) expect(marks(store)).toEqual({ baseline: null, distilled: null });
    rmSync(root, { recursive: true, force: true });
  });
});

describe('report files', () => {
  it('writes the table in every format, both SVG charts, and an offline HTML page with the charts inline', async () => {
    const out = mkdtempSync(join(tmpdir(), 'report-'));
    const files = await writeReportFiles(buildReport(posterPoints()), out, ['md', 'csv', 'json', 'html'], 'poster.sqlite');
    expect(files.map((f) => f.slice(out.length + 1))).toEqual([
      'pareto-bytes.svg',
      'pareto-latency.svg',
      'report.md',
      'report.csv',
      'report.json',
      'report.html',
    ]);
    for (const kind of ['bytes', 'latency']) {
      const svg = readFileSync(join(out, `pareto-${kind}.svg`), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      for (const label of ['combined', 'int8', 'baseline', 'heads-40%']) expect(svg).toContain(`>${label}</text>`);
      expect(svg).toContain('GLUE score');
    }
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(2);
    // Nothing is fetched at view time: no external src/href, no stylesheet or script links.
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<link\b|<script\b(?![^>]*application\/json)/i);
    const json = JSON.parse(html.match(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/)![1]!);
    expect(json.rows).toHaveLength(8);
  });

  it("removes the temporaries of its files that a report killed while writing them left (Ctrl-C, SIGKILL), and no one else's", async () => {
    const out = mkdtempSync(join(tmpdir(), 'report-'));
    // (a pid above Linux's largest: no process's); report.csv is not written this time, but is a report's name
    const dead = ['report.md.4194305.abc123.tmp', 'report.csv.4194305.abc123.tmp', 'pareto-bytes.svg.4194305.abc123.tmp'];
    const kept = ['report.md.4194305.fresh1.tmp', `report.md.${process.pid}.live12.tmp`, 'notes.txt.4194305.abc123.tmp'];
    const old = new Date(Date.now() - 10 * 60_000);
    for (const name of [...dead, ...kept]) {
      writeFileSync(join(out, name), 'half');
      if (name !== kept[0]) utimesSync(join(out, name), old, old);
    }
    await writeReportFiles(buildReport(posterPoints()), out, ['md'], 'poster.sqlite');
    expect(readdirSync(out).sort()).toEqual([REPORT_RECORD, 'pareto-bytes.svg', 'pareto-latency.svg', 'report.md', ...kept].sort());
  });

  const earlierOf = (out: string) => {
    const seen: EarlierReportFile[] = [];
    return { seen, on: (e: EarlierReportFile) => seen.push(e), named: () => seen.map((e) => ({ ...e, file: e.file.slice(out.length + 1) })) };
  };

  it('removes the files of formats an earlier report wrote there and left unchanged, naming them, and nothing that is not its own', async () => {
    const out = mkdtempSync(join(tmpdir(), 'report-'));
    const data = buildReport(posterPoints());
    await writeReportFiles(data, out, ['md', 'html', 'json'], 'poster.sqlite');
    writeFileSync(join(out, 'notes.txt'), 'mine');
    writeFileSync(join(out, 'report.txt'), 'mine too');
    mkdirSync(join(out, 'report.csv')); // not a file: not this command's to remove
    const earlier = earlierOf(out);
    await writeReportFiles(data, out, ['md'], 'poster.sqlite', earlier.on);
    expect(earlier.named()).toEqual([
      { file: 'report.csv', removed: false, reason: 'not a regular file' },
      { file: 'report.json', removed: true, reason: "an earlier report's, not rewritten by this one" },
      { file: 'report.html', removed: true, reason: "an earlier report's, not rewritten by this one" },
    ]);
    expect(readdirSync(out).sort()).toEqual([REPORT_RECORD, 'notes.txt', 'pareto-bytes.svg', 'pareto-latency.svg', 'report.csv', 'report.md', 'report.txt']);
  });

  it("keeps a file of the report's names that no report wrote there (the user's own), and says so", async () => {
    const out = mkdtempSync(join(tmpdir(), 'report-'));
    writeFileSync(join(out, 'report.csv'), 'my,own\n1,2\n');
    writeFileSync(join(out, 'teacher-size.svg'), '<svg/>');
    const earlier = earlierOf(out);
    await writeReportFiles(buildReport(posterPoints()), out, ['md'], 'poster.sqlite', earlier.on);
    const why = `no record of it in ${REPORT_RECORD} (an older compress report's, or your own): remove it if it is an old report`;
    expect(earlier.named()).toEqual([
      { file: 'teacher-size.svg', removed: false, reason: why },
      { file: 'report.csv', removed: false, reason: why },
    ]);
    expect(readFileSync(join(out, 'report.csv'), 'utf8')).toBe('my,own\n1,2\n');
    expect(readFileSync(join(out, 'teacher-size.svg'), 'utf8')).toBe('<svg/>');
  });

  it("keeps an earlier report's file the user edited since, and one whose record is not one", async () => {
    const out = mkdtempSync(join(tmpdir(), 'report-'));
    const data = buildReport(posterPoints());
    await writeReportFiles(data, out, ['md', 'csv', 'json'], 'poster.sqlite');
    const csv = join(out, 'report.csv');
    const edited = readFileSync(csv, 'utf8').replace('baseline', 'Baseline'); // same length, other bytes
    writeFileSync(csv, edited);
    const earlier = earlierOf(out);
    await writeReportFiles(data, out, ['md', 'json'], 'poster.sqlite', earlier.on);
    expect(earlier.named()).toEqual([{ file: 'report.csv', removed: false, reason: 'edited since compress report wrote it' }]);
    expect(readFileSync(csv, 'utf8')).toBe(edited);
    // the record keeps its entry: a report asking for it again says it was edited, where it said no record listed it
    await expect(writeReportFiles(data, out, ['md', 'csv'], 'poster.sqlite')).rejects.toThrow(
      `--out ${out}: would write over report.csv (edited since compress report wrote it); move it away`,
    );
    const kept = earlierOf(out);
    await writeReportFiles(data, out, ['md', 'json'], 'poster.sqlite', kept.on);
    expect(kept.named()).toEqual([{ file: 'report.csv', removed: false, reason: 'edited since compress report wrote it' }]);

    writeFileSync(join(out, REPORT_RECORD), 'not json'); // a damaged record lists nothing: nothing is removed
    await expect(writeReportFiles(data, out, ['md'], 'poster.sqlite')).rejects.toThrow(`report.md (${REPORT_RECORD} is not valid JSON, so nothing records it)`);
    const again = earlierOf(out);
    await writeReportFiles(data, out, ['md'], 'poster.sqlite', again.on, { force: true });
    expect(again.seen.map((e) => [basename(e.file), e.removed])).toEqual([
      ['report.csv', false],
      ['report.json', false],
    ]);
    // (said as what it is: the record was there but damaged, not missing)
    expect(again.seen[1]!.reason).toBe(`${REPORT_RECORD} was not valid JSON (now replaced), so nothing records this file; remove it if it is an old report`);
    expect(existsSync(join(out, 'report.json'))).toBe(true);
    writeFileSync(join(out, REPORT_RECORD), '{"files": "all"}');
    const listless = earlierOf(out);
    await writeReportFiles(data, out, ['md'], 'poster.sqlite', listless.on, { force: true });
    expect(listless.seen[1]!.reason).toBe(
      `${REPORT_RECORD} was a record with no list of files (now replaced), so nothing records this file; remove it if it is an old report`,
    );
  });

  it('refuses to write over a file of the asked formats or a chart edited since, or that it did not write, naming each, unless forced', async () => {
    const out = mkdtempSync(join(tmpdir(), 'report-'));
    const data = buildReport(posterPoints());
    await writeReportFiles(data, out, ['md', 'csv', 'html'], 'poster.sqlite');
    const before = Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f), 'utf8')]));
    const html = readFileSync(join(out, 'report.html'), 'utf8').replace('<h1>', '<h1>My poster: ');
    writeFileSync(join(out, 'report.html'), html);
    writeFileSync(join(out, 'report.json'), '{"mine": true}\n');
    for (const formats of [['html'], ['csv', 'json', 'html']] as const) {
      await expect(writeReportFiles(data, out, formats, 'poster.sqlite')).rejects.toThrow(UserError);
      await expect(writeReportFiles(data, out, formats, 'poster.sqlite')).rejects.toThrow(
        formats.length === 1
          ? `--out ${out}: would write over report.html (edited since compress report wrote it); move it away, give another folder, or pass --force to write over it`
          : `--out ${out}: would write over report.json (no record of it in ${REPORT_RECORD}: your own, or an older report's), report.html (edited since compress report wrote it); move them away`,
      );
      expect(readFileSync(join(out, 'report.html'), 'utf8')).toBe(html);
      expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe('{"mine": true}\n');
      expect(readdirSync(out).sort()).toEqual([...Object.keys(before), 'report.json'].sort());
      expect(readFileSync(join(out, REPORT_RECORD), 'utf8')).toBe(before[REPORT_RECORD]);
    }
    // unchanged files of the last report (report.md, report.csv, the charts) are rewritten as before
    await writeReportFiles(data, out, ['md', 'csv'], 'poster.sqlite', undefined);
    await writeReportFiles(data, out, ['json', 'html'], 'poster.sqlite', undefined, { force: true });
    expect(readFileSync(join(out, 'report.html'), 'utf8')).not.toContain('My poster');
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).rows).toHaveLength(8);
  });

  it("keeps a symbolic link of the report's names, even one to a copy of the file it wrote, and leaves its target alone", async () => {
    const out = mkdtempSync(join(tmpdir(), 'report-'));
    const data = buildReport(posterPoints());
    await writeReportFiles(data, out, ['md', 'json'], 'poster.sqlite');
    const outside = join(mkdtempSync(join(tmpdir(), 'report-outside-')), 'kept.json');
    const text = readFileSync(join(out, 'report.json'), 'utf8');
    writeFileSync(outside, text); // the bytes the record lists: only the link test tells it apart
    rmSync(join(out, 'report.json'));
    symlinkSync(outside, join(out, 'report.json'));
    const earlier = earlierOf(out);
    await writeReportFiles(data, out, ['md'], 'poster.sqlite', earlier.on);
    expect(earlier.named()).toEqual([{ file: 'report.json', removed: false, reason: 'a symbolic link, not a file compress report wrote' }]);
    expect(lstatSync(join(out, 'report.json')).isSymbolicLink()).toBe(true);
    expect(readFileSync(outside, 'utf8')).toBe(text);
  });

  it('refuses a symbolic link where it would write a file, in one line, writing nothing and leaving the target alone', async () => {
    const out = mkdtempSync(join(tmpdir(), 'report-'));
    const outside = join(mkdtempSync(join(tmpdir(), 'report-outside-')), 'notes.md');
    writeFileSync(outside, 'my notes');
    symlinkSync(outside, join(out, 'report.md'));
    await expect(writeReportFiles(buildReport(posterPoints()), out, ['md', 'csv'], 'poster.sqlite')).rejects.toThrow(
      new RegExp(`^--out ${out}: ${join(out, 'report.md')} is a symbolic link; remove it or give another folder`),
    );
    expect(readFileSync(outside, 'utf8')).toBe('my notes');
    expect(lstatSync(join(out, 'report.md')).isSymbolicLink()).toBe(true);
    expect(readdirSync(out)).toEqual(['report.md']);
  });

  it('refuses a folder where it would write a file, the record too, in one line naming the way out, writing nothing', async () => {
    for (const name of [REPORT_RECORD, 'pareto-bytes.svg', 'report.md']) {
      const out = mkdtempSync(join(tmpdir(), 'report-'));
      mkdirSync(join(out, name));
      await expect(writeReportFiles(buildReport(posterPoints()), out, ['md', 'csv'], 'poster.sqlite')).rejects.toThrow(
        new RegExp(`^--out ${out}: ${join(out, name).replaceAll('.', '\\.')} is a folder; remove it or give another folder`),
      );
      expect(readdirSync(out)).toEqual([name]);
    }
  });

  it('records the files it wrote, with their bytes and sha256, replacing the earlier record', async () => {
    const out = mkdtempSync(join(tmpdir(), 'report-'));
    const data = buildReport(posterPoints());
    await writeReportFiles(data, out, ['md', 'csv', 'html'], 'poster.sqlite');
    const files = await writeReportFiles(data, out, ['md', 'json'], 'poster.sqlite');
    const record = JSON.parse(readFileSync(join(out, REPORT_RECORD), 'utf8'));
    expect(record.files.map((f: { name: string }) => f.name)).toEqual(files.map((f) => basename(f)));
    for (const f of record.files) {
      const bytes = readFileSync(join(out, f.name));
      expect(f).toEqual({ name: f.name, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    expect(readdirSync(out).sort()).toEqual([REPORT_RECORD, 'pareto-bytes.svg', 'pareto-latency.svg', 'report.json', 'report.md']);
  });
});
