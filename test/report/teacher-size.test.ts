import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PassStep } from '../../src/pass/pass.ts';
import { buildReport } from '../../src/report/rows.ts';
import { displayTable } from '../../src/report/table.ts';
import { toHtml } from '../../src/report/html.ts';
import { renderTeacherSizeChart, teacherPathMatches, teacherSizePoints, teacherSizeSpec, teacherSizeTables } from '../../src/report/teacher-size.ts';
import { chartPoints, chartSpec, LABEL_LIMIT, sansTextWidth, UNLABELLED_HEADING } from '../../src/report/charts.ts';
import { loadReport, renderReport, writeReportFiles } from '../../src/report/write.ts';
import { fakePoint, posterPoints, storePoints, type FakePoint } from './points.ts';
import { runMain } from '../helpers/cli.ts';

const kd = (settings: Record<string, unknown> = {}): PassStep[] => [
  { pass: 'distill', settings: { student: 'bert:layers=1,hidden=128', alpha: 0.5, ...settings } },
];
const everyOther: PassStep[] = [{ pass: 'distill', settings: { student: 'every-other', alpha: 0.5 } }];

/** examples/teacher-size.yaml in miniature: two teachers (params = bytes / 4), the same students from each. */
function teacherSizeList(): FakePoint[] {
  return [
    { model: 'teacher-L4H256', label: 'baseline', bytes: 44e6, glue: 0.734 },
    { model: 'teacher-L4H256', label: 'every-other+kd', bytes: 36e6, glue: 0.7, steps: everyOther },
    { model: 'teacher-L4H256', label: 'L1H128+kd', bytes: 2e6, glue: 0.68, steps: kd() },
    { model: 'teacher-L4H256', label: 'int8', bytes: 11e6, glue: 0.73, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] },
    { model: 'teacher-L2H256', label: 'baseline', bytes: 40e6, glue: 0.811 },
    { model: 'teacher-L2H256', label: 'every-other+kd', bytes: 34e6, glue: 0.75, steps: everyOther },
    { model: 'teacher-L2H256', label: 'L1H128+kd', bytes: 2e6, glue: 0.72, steps: kd() },
    { model: 'teacher-L2H256', label: 'L1H128-labels', bytes: 2e6, glue: 0.66, steps: kd({ alpha: 1 }) },
    { model: 'teacher-L2H256', label: 'unscored+kd', bytes: 2e6, glue: null, steps: kd() },
  ];
}
/** One STS-B teacher and its every-other student (a task set with one teacher). */
const stsbTeacher: FakePoint[] = [
  { model: 'teacher-stsb', label: 'baseline', bytes: 38e6, glue: 0.8, task: 'STS-B', metrics: { pearson: 0.8, spearmanr: 0.8 } },
  { model: 'teacher-stsb', label: 'every-other+kd', bytes: 30e6, glue: 0.75, steps: everyOther, task: 'STS-B', metrics: { pearson: 0.75, spearmanr: 0.75 } },
];
const dataOf = (list: FakePoint[]) => buildReport(list.map(fakePoint));
const brief = (data: ReturnType<typeof dataOf>) => teacherSizePoints(data).map((p) => `${p.series} ${p.teacher} x=${p.x} y=${p.y?.toFixed(1)} #${p.order}`);

describe('teacher-size points', () => {
  it("puts each distilled student at its teacher's size, one line per pipeline sorted by x, and the teachers as their own series", () => {
    expect(brief(dataOf(teacherSizeList()))).toEqual([
      'every-other+kd teacher-L2H256 x=10 y=75.0 #0',
      'every-other+kd teacher-L4H256 x=11 y=70.0 #1',
      'L1H128-labels teacher-L2H256 x=10 y=66.0 #0', // labels sort as the table's (compareText)
      'L1H128+kd teacher-L2H256 x=10 y=72.0 #0',
      'L1H128+kd teacher-L4H256 x=11 y=68.0 #1',
      'teacher teacher-L2H256 x=10 y=81.1 #0',
      'teacher teacher-L4H256 x=11 y=73.4 #1',
    ]);
    const p = teacherSizePoints(dataOf(teacherSizeList()));
    expect(p[0]).toMatchObject({ kind: 'student', params: 8.5, tasks: 'SST-2' });
    expect(p.at(-1)).toMatchObject({ kind: 'teacher', params: 11, tasks: 'SST-2' });
  });

  it("gives a tiny teacher's and student's parameters in the chart's tooltip as the tables do ('11.0K'), not 0.01 (M)", () => {
    // params = bytes / 4: teachers of 11K and 10K parameters, students of 500
    const tiny = teacherSizeList().map((f) => ({ ...f, bytes: f.bytes / 1000 }));
    const spec = teacherSizeSpec(dataOf(tiny)) as unknown as {
      data: { values: Array<{ kind: string; teacher: string; series: string; teacherParams: string; studentParams: string }> };
      spec: { layer: Array<{ mark: { type: string }; encoding: { tooltip?: Array<{ field: string; title?: string; format?: string }> } }> };
    };
    const tooltip = spec.spec.layer.find((l) => l.mark.type === 'point')!.encoding.tooltip!;
    expect(tooltip.filter((t) => /params/.test(t.title ?? ''))).toEqual([
      { field: 'teacherParams', title: 'teacher params' },
      { field: 'studentParams', title: 'params' },
    ]);
    const point = spec.data.values.find((v) => v.kind === 'student' && v.series === 'L1H128+kd' && v.teacher === 'teacher-L4H256')!;
    expect([point.teacherParams, point.studentParams]).toEqual(['11.0K', '500']);
    const table = teacherSizeTables(dataOf(tiny))[0]!;
    expect(table.header).toContain('teacher-L4H256 (11.0K, 73.40)');
  });

  it('is empty (nothing to draw) with fewer than two teachers or no distill step', () => {
    expect(teacherSizePoints(dataOf(teacherSizeList().filter((f) => f.model === 'teacher-L2H256')))).toEqual([]);
    expect(teacherSizePoints(buildReport(posterPoints()))).toEqual([]);
    expect(teacherSizeSpec(buildReport(posterPoints()))).toBeNull();
    // A teacher without a baseline row has no size: its students are left out.
    expect(teacherSizePoints(dataOf(teacherSizeList().filter((f) => !(f.model === 'teacher-L4H256' && f.label === 'baseline'))))).toEqual([]);
  });

  it('is empty with two teachers of other tasks (an SST-2 and an STS-B teacher, each distilled): one teacher a panel has no size to compare, where it drew both', async () => {
    const list: FakePoint[] = [...teacherSizeList().filter((f) => f.model === 'teacher-L2H256'), ...stsbTeacher];
    const data = dataOf(list);
    expect(teacherSizePoints(data)).toEqual([]);
    expect(await renderTeacherSizeChart(data)).toBeNull();
    expect(await renderReport(data, 'md', 'two-tasks.sqlite')).not.toContain('## Teacher size');
  });

  it("draws no panel nor table for a task set distilled from one teacher beside one distilled from two (SST-2's two teachers, STS-B's one), where it drew STS-B's with one teacher", async () => {
    const list: FakePoint[] = [...teacherSizeList(), ...stsbTeacher];
    const data = dataOf(list);
    const points = teacherSizePoints(data);
    expect(points.length).toBeGreaterThan(0);
    expect([...new Set(points.map((p) => p.tasks))]).toEqual(['SST-2']);
    expect(points.map((p) => p.teacher)).not.toContain('teacher-stsb');
    expect(teacherSizeTables(data).map((t) => t.caption.split(',')[0])).toEqual(['SST-2']);
    const md = await renderReport(data, 'md', 'two-tasks.sqlite');
    expect(md).toContain('## Teacher size');
    expect(md.slice(md.indexOf('## Teacher size'))).not.toContain('teacher-stsb');
  });

  it('takes a named teacher by model name, path or hash when it is a model of the report, and skips the point otherwise', () => {
    const list = [
      ...teacherSizeList().filter((f) => f.model === 'teacher-L2H256'),
      { model: 'teacher-L4H256', label: 'baseline', bytes: 44e6, glue: 0.734 },
      { model: 'small', label: 'baseline', bytes: 8e6, glue: 0.6 },
      {
        model: 'small',
        label: 'from-L4 (path)',
        bytes: 8e6,
        glue: 0.64,
        steps: [{ pass: 'prune-heads', settings: { ratio: 0.5 } }, ...kd({ teacher: '../../models/teacher-L4H256' })],
      },
      { model: 'small', label: 'from-L4 (file)', bytes: 8e6, glue: 0.641, steps: kd({ teacher: '/models/teacher-L4H256/model.onnx' }) },
      { model: 'small', label: 'from-L4 (name)', bytes: 8e6, glue: 0.642, steps: kd({ teacher: 'teacher-L4H256' }) },
      { model: 'small', label: 'from-L2 (hash)', bytes: 8e6, glue: 0.65, steps: kd({ teacher: 'sha256:sha-teacher-L2H256' }) },
      { model: 'small', label: 'from elsewhere', bytes: 8e6, glue: 0.66, steps: kd({ teacher: '../teachers/unknown' }) },
      { model: 'small', label: 'ambiguous', bytes: 8e6, glue: 0.67, steps: kd({ teacher: 'model.onnx' }) },
    ];
    const p = teacherSizePoints(dataOf(list));
    const named = p.filter((q) => q.series.startsWith('from'));
    expect(named.map((q) => `${q.series}: ${q.teacher} x=${q.x}`)).toEqual([
      'from-L2 (hash): teacher-L2H256 x=10',
      'from-L4 (file): teacher-L4H256 x=11',
      'from-L4 (name): teacher-L4H256 x=11',
      'from-L4 (path): teacher-L4H256 x=11',
    ]);
    expect(p.some((q) => q.series === 'ambiguous')).toBe(false);
    // 'small' is no teacher here (every step names one): only the named teachers are in the teacher series.
    expect(p.filter((q) => q.kind === 'teacher').map((q) => q.teacher)).toEqual(['teacher-L2H256', 'teacher-L4H256']);
  });

  it('keeps one label run with other settings (another sweep, another budget) on its own line, named by what differs', () => {
    const budget = (f: FakePoint, i: number, sweep: string) => ({ ...fakePoint(f, i), sweep });
    const points = [
      ...teacherSizeList()
        .filter((f) => f.label === 'baseline' || f.label === 'L1H128+kd')
        .map((f, i) => budget(f, i, 'big')),
      budget({ model: 'teacher-L4H256', label: 'L1H128+kd', bytes: 2e6, glue: 0.6, steps: kd({ maxExamples: 500 }) }, 10, 'small'),
      budget({ model: 'teacher-L2H256', label: 'L1H128+kd', bytes: 2e6, glue: 0.61, steps: kd({ maxExamples: 500 }) }, 11, 'small'),
    ];
    expect(brief(buildReport(points)).filter((l) => !l.startsWith('teacher '))).toEqual([
      'L1H128+kd (distill.maxExamples=500) teacher-L2H256 x=10 y=61.0 #0',
      'L1H128+kd (distill.maxExamples=500) teacher-L4H256 x=11 y=60.0 #1',
      'L1H128+kd (distill.maxExamples=default) teacher-L2H256 x=10 y=72.0 #0',
      'L1H128+kd (distill.maxExamples=default) teacher-L4H256 x=11 y=68.0 #1',
    ]);
  });

  /**
   * The teachers' baselines, two input models' own (8M and 4M bytes), and a distill point of each input model under each
   * of the two named teachers, `point` giving its size, score and other distill settings.
   */
  const underTwoTeachers = (point: (m: number, t: number) => { bytes: number; glue: number; settings?: Record<string, unknown> }): FakePoint[] => [
    ...teacherSizeList().filter((f) => f.label === 'baseline'),
    { model: 'student-a', label: 'baseline', bytes: 8e6, glue: 0.6 },
    { model: 'student-b', label: 'baseline', bytes: 4e6, glue: 0.55 },
    ...(['student-a', 'student-b'] as const).flatMap((model, m) =>
      (['teacher-L4H256', 'teacher-L2H256'] as const).map((teacher, t) => {
        const { bytes, glue, settings } = point(m, t);
        return { model, label: `kd-${teacher}`, bytes, glue, steps: [{ pass: 'distill', settings: { ...settings, alpha: 0.5, teacher } }] };
      }),
    ),
  ];
  /** The student points of the teacher-size chart: line, teacher, score, runs and parameters (M). */
  const studentLines = (list: FakePoint[]) =>
    teacherSizePoints(dataOf(list))
      .filter((q) => q.kind === 'student')
      .map((q) => `${q.series} ${q.teacher} y=${q.y?.toFixed(1)} n=${q.runs} params=${q.params}`);

  it('keeps the students of each input model on its own line where they name their teacher, not averaged as runs of one', () => {
    // two student models (each trained as it is: no student setting; of 2M and 1M parameters) distilled from each of two
    // named teachers
    const list = underTwoTeachers((m, t) => ({ bytes: (m === 0 ? 8e6 : 4e6) + 4e3 * t, glue: 0.6 + 0.1 * m + 0.01 * t }));
    expect(studentLines(list)).toEqual([
      'kd-{teacher} (model student-a) teacher-L2H256 y=61.0 n=1 params=2.001',
      'kd-{teacher} (model student-a) teacher-L4H256 y=60.0 n=1 params=2',
      'kd-{teacher} (model student-b) teacher-L2H256 y=71.0 n=1 params=1.001',
      'kd-{teacher} (model student-b) teacher-L4H256 y=70.0 n=1 params=1',
    ]);
  });

  it("draws every-other under a named teacher as one line whatever the point's model: it is built from the teacher's layers", () => {
    // one every-other recipe on two input models under each of two named teachers: each teacher's even layers, the same
    // student of both points (runs of one recipe), not a student of each model
    const list = underTwoTeachers((m, t) => ({ bytes: t === 0 ? 36e6 : 34e6, glue: 0.7 + 0.02 * m + 0.1 * t, settings: { student: 'every-other' } }));
    expect(studentLines(list)).toEqual(['kd-{teacher} teacher-L2H256 y=81.0 n=2 params=8.5', 'kd-{teacher} teacher-L4H256 y=71.0 n=2 params=9']);
  });

  it("gives each distilled row its teacher and the teacher's size in the table, the CSV and the tooltips, a table column only where some row is distilled (the CSV's three always)", async () => {
    const list: FakePoint[] = [
      ...teacherSizeList().filter((f) => f.label === 'baseline'),
      { model: 'small', label: 'baseline', bytes: 8e6, glue: 0.6 },
      { model: 'small', label: 'from-L4', bytes: 2e6, glue: 0.64, steps: kd({ teacher: 'teacher-L4H256' }) },
      { model: 'small', label: 'from-L2', bytes: 2e6, glue: 0.65, steps: kd({ teacher: 'teacher-L2H256' }) },
      { model: 'small', label: 'int8', bytes: 2e6, glue: 0.59, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] },
      // (a teacher the report holds no row of: named as the step names it, apart from a row not distilled)
      { model: 'small', label: 'from-absent', bytes: 2e6, glue: 0.62, steps: kd({ teacher: '../teachers/absent-L8' }) },
    ];
    const store = join(mkdtempSync(join(tmpdir(), 'report-teachers-')), 'store.sqlite');
    // (a distill step's plan, without the teacher's hash: its teacher by the setting; stale, ‡, by this plan's form)
    const distilled = { training: { steps: [{ index: 0, kind: 'distill', task: 'SST-2', data: { file: 'train.tsv', sha256: 'data' }, settings: {} }] } };
    storePoints(store, list.map(fakePoint), undefined, (p) => (p.steps.some((s) => s.pass === 'distill') ? (distilled as never) : undefined));
    const data = loadReport({ store });
    const md = (await renderReport(data, 'md', store)).split('\n');
    expect(md[0]).toMatch(/^\| model \| pipeline \| parameters \| teacher \| params \|/);
    const teacherCell = (label: string) => md.find((l) => l.startsWith(`| small | ${label}`))!.split(' | ')[3];
    expect(['from-L2', 'from-L4', 'from-absent', 'int8', 'baseline'].map(teacherCell)).toEqual([
      'teacher-L2H256 (10.00M)',
      'teacher-L4H256 (11.00M)',
      '../teachers/absent-L8 (size not in this report)',
      '—',
      '—',
    ]);
    // (the HTML page's table is displayTable's, as the Markdown's)
    expect(displayTable(data).header.slice(0, 5)).toEqual(['model', 'pipeline', 'parameters', 'teacher', 'params']);
    const csv = (await renderReport(data, 'csv', store)).trim().split('\n');
    expect(csv[0]).toMatch(/^sweep,model,pipeline,group,parameters,teacher,teacher_params,teacher_key,params,/);
    const l4 = data.rows.find((r) => r.model === 'teacher-L4H256')!;
    expect(csv.find((l) => l.includes(',from-L4,'))).toContain(`,teacher-L4H256,11000000,${l4.key},`);
    // (a teacher the report holds no row of: as its distill step names it, its size and key unknown)
    expect(csv.find((l) => l.includes(',from-absent,'))).toContain(',../teachers/absent-L8,,,');
    expect(csv.find((l) => l.includes(',int8,'))).toMatch(/,quantize mode=int8,,,,/);
    // the Pareto charts' tooltips name each point's teacher too ('—' for a row not distilled, as its table cell)
    const tooltip = (d: typeof data) =>
      (chartSpec(d, 'bytes') as unknown as { spec: { layer: Array<{ mark: { type: string }; encoding: { tooltip?: Array<{ field: string }> } }> } }).spec.layer
        .find((l) => l.mark.type === 'point')!
        .encoding.tooltip!.map((t) => t.field);
    expect(tooltip(data)).toEqual(['model', 'text', 'teacher', 'xText', 'y']);
    expect(['from-L4', 'from-absent', 'int8'].map((l) => chartPoints(data, 'bytes').find((p) => p.label === l)!.teacher)).toEqual([
      'teacher-L4H256 (11.00M)',
      '../teachers/absent-L8 (size not in this report)',
      '—',
    ]);
    // rows distilled only from a teacher outside the report (a sweep whose teacher is none of its models): the
    // column still names it, in the table, the HTML's, the CSV and the tooltips
    const reportOf = (keep: (f: FakePoint) => boolean) => {
      const store = join(mkdtempSync(join(tmpdir(), 'report-teachers-')), 'store.sqlite');
      storePoints(store, list.filter(keep).map(fakePoint), undefined, (p) => (p.steps.some((s) => s.pass === 'distill') ? (distilled as never) : undefined));
      return { store, data: loadReport({ store }) };
    };
    const outside = reportOf((f) => !f.label.startsWith('from-L'));
    const outsideMd = (await renderReport(outside.data, 'md', outside.store)).split('\n');
    expect(outsideMd[0]).toMatch(/^\| model \| pipeline \| parameters \| teacher \| params \|/);
    expect(outsideMd.find((l) => l.startsWith('| small | from-absent'))!.split(' | ')[3]).toBe('../teachers/absent-L8 (size not in this report)');
    expect(outsideMd.find((l) => l.startsWith('| small | int8'))!.split(' | ')[3]).toBe('—');
    expect(displayTable(outside.data).header.slice(0, 5)).toEqual(['model', 'pipeline', 'parameters', 'teacher', 'params']);
    const outsideCsv = (await renderReport(outside.data, 'csv', outside.store)).trim().split('\n');
    expect(outsideCsv[0]).toMatch(/^sweep,model,pipeline,group,parameters,teacher,teacher_params,teacher_key,params,/);
    expect(outsideCsv.find((l) => l.includes(',from-absent,'))).toContain(',../teachers/absent-L8,,,');
    expect(tooltip(outside.data)).toEqual(['model', 'text', 'teacher', 'xText', 'y']);
    // no row distilled: no teacher column
    const plain = reportOf((f) => !f.label.startsWith('from-'));
    expect((await renderReport(plain.data, 'md', plain.store)).split('\n')[0]).toMatch(/^\| model \| pipeline \| parameters \| params \|/);
    expect(displayTable(plain.data).header).not.toContain('teacher');
    // (the CSV keeps its three teacher columns, empty: one sweep's CSV has one header before and after its first
    // distilled point lands, where it had three columns fewer before)
    const plainCsv = (await renderReport(plain.data, 'csv', plain.store)).trim().split('\n');
    expect(plainCsv[0]).toBe(csv[0]);
    expect(plainCsv.find((l) => l.includes(',int8,'))).toMatch(/,quantize mode=int8,,,,/);
    expect(tooltip(plain.data)).toEqual(['model', 'text', 'xText', 'y']);
    expect(new Set(chartPoints(plain.data, 'bytes').map((p) => p.teacher))).toEqual(new Set(['']));
  });

  it('draws a teacher grid axis (labels kd(teacher=…)) as one line', () => {
    const list: FakePoint[] = [
      ...teacherSizeList().filter((f) => f.label === 'baseline'),
      { model: 'small', label: 'kd(teacher=../models/teacher-L4H256)', bytes: 2e6, glue: 0.68, steps: kd({ teacher: '../models/teacher-L4H256' }) },
      { model: 'small', label: 'kd(teacher=../models/teacher-L2H256)', bytes: 2e6, glue: 0.72, steps: kd({ teacher: '../models/teacher-L2H256' }) },
    ];
    expect(brief(dataOf(list)).filter((l) => l.startsWith('kd'))).toEqual(['kd teacher-L2H256 x=10 y=72.0 #0', 'kd teacher-L4H256 x=11 y=68.0 #1']);
  });

  it("averages the seeds of one recipe under one teacher, says how many, and gives the student's % of its teacher and of the largest", async () => {
    const list: FakePoint[] = [
      ...teacherSizeList().filter((f) => f.label === 'baseline'),
      { model: 'teacher-L4H256', label: 'kd(seed=1)', bytes: 2e6, glue: 0.7, steps: kd({ seed: 1 }) },
      ...[0.7, 0.72, 0.74].map((glue, i) => ({ model: 'teacher-L2H256', label: `kd(seed=${i + 1})`, bytes: 2e6, glue, steps: kd({ seed: i + 1 }) })),
    ];
    const p = teacherSizePoints(dataOf(list)).filter((q) => q.kind === 'student');
    expect(p.map((q) => `${q.series} ${q.teacher} y=${q.y?.toFixed(1)} n=${q.runs} ${q.runsLabel} of=${q.ofTeacher!.toFixed(1)}`)).toEqual([
      'kd teacher-L2H256 y=72.0 n=3 n=3 of=88.8',
      'kd teacher-L4H256 y=70.0 n=1 n=1 of=95.4',
    ]);
    const svg = (await renderTeacherSizeChart(dataOf(list)))!;
    expect(svg).toContain('>n=3</text>');
    expect(svg).toContain('>n=1</text>');
    // one common reference per panel: the largest teacher (L4H256, 73.4)
    expect(p.map((q) => `${q.largestTeacher} ${q.ofLargestTeacher!.toFixed(1)}`)).toEqual(['teacher-L4H256 98.1', 'teacher-L4H256 95.4']);
    const own = teacherSizePoints(dataOf(list)).filter((q) => q.kind === 'teacher');
    expect(own.map((q) => `${q.teacher} ${q.ofTeacher} ${q.ofLargestTeacher!.toFixed(1)}`)).toEqual(['teacher-L2H256 100 110.5', 'teacher-L4H256 100 100.0']);
    // one run per point: no counts drawn
    expect(teacherSizePoints(dataOf(teacherSizeList())).every((q) => q.runs === 1 && q.runsLabel === '')).toBe(true);
  });

  it('averages the seeds of one recipe whose label holds the seed: a name template (S64-{seed}) or an unnamed grid', () => {
    const seeds = (label: (seed: number) => string, steps: (seed: number) => PassStep[]): FakePoint[] =>
      (['teacher-L4H256', 'teacher-L2H256'] as const).flatMap((model, m) =>
        [1, 2].map((seed) => ({ model, label: label(seed), bytes: 2e6, glue: 0.6 + 0.1 * m + 0.02 * seed, steps: steps(seed) })),
      );
    const students = (list: FakePoint[]) =>
      teacherSizePoints(dataOf([...teacherSizeList().filter((f) => f.label === 'baseline'), ...list]))
        .filter((q) => q.kind === 'student')
        .map((q) => `${q.series} ${q.teacher} y=${q.y?.toFixed(1)} n=${q.runs}`);
    expect(
      students(
        seeds(
          (seed) => `S64-kd-${seed}`,
          (seed) => kd({ seed }),
        ),
      ),
    ).toEqual(['S64-kd-{seed} teacher-L2H256 y=73.0 n=2', 'S64-kd-{seed} teacher-L4H256 y=63.0 n=2']);
    // the seed's value inside another number or word is not it ('L1-kd-1' of seed 1: 'L1-kd-{seed}')
    expect(
      students(
        seeds(
          (seed) => `L1-kd-${seed}`,
          (seed) => kd({ seed }),
        ),
      )[0],
    ).toBe('L1-kd-{seed} teacher-L2H256 y=73.0 n=2');
    // a fixed seed in a pipeline's name stays as written
    expect(
      students(
        seeds(
          () => 'kd-7',
          () => kd({ seed: 7 }),
        ),
      )[0],
    ).toBe('kd-7 teacher-L2H256 y=73.0 n=2');
    // a teacher grid axis in a name template: one line across the teachers
    const byTeacher = (['teacher-L4H256', 'teacher-L2H256'] as const).map((t, i) => ({
      model: 'small',
      label: `kd-${t}`,
      bytes: 2e6,
      glue: 0.7 + 0.02 * i,
      steps: kd({ teacher: t }),
    }));
    expect(students(byTeacher)).toEqual(['kd-{teacher} teacher-L2H256 y=72.0 n=1', 'kd-{teacher} teacher-L4H256 y=70.0 n=1']);
    // an unnamed grid pipeline: its label lists every value, the seed too ('distill bert:layers=1,hidden=128 0.5 1')
    const auto = seeds(
      (seed) => `distill bert:layers=1,hidden=128 0.5 ${seed}`,
      (seed) => kd({ seed }),
    );
    expect(students(auto)).toEqual([
      'distill bert:layers=1,hidden=128 0.5 teacher-L2H256 y=73.0 n=2',
      'distill bert:layers=1,hidden=128 0.5 teacher-L4H256 y=63.0 n=2',
    ]);
    // the tables: one row of means, not a row per seed
    const tables = teacherSizeTables(
      dataOf([
        ...teacherSizeList().filter((f) => f.label === 'baseline'),
        ...seeds(
          (seed) => `S64-${seed}`,
          (seed) => kd({ seed }),
        ),
      ]),
    );
    expect(tables[0]!.rows).toEqual([['S64-{seed}', '73.00 · 90.0% · 99.5% · n=2 · 0.50M', '63.00 · 85.8% · 85.8% · n=2 · 0.50M']]);
  });

  it("gives no % of a teacher whose score is 0 or below (a CoLA Matthews correlation), as '% of original' gives none", () => {
    const cola = (f: FakePoint): FakePoint => ({ ...f, task: 'CoLA', metrics: { matthews_correlation: f.glue! } });
    const list: FakePoint[] = [
      { model: 'teacher-L4H256', label: 'baseline', bytes: 44e6, glue: -0.05 },
      { model: 'teacher-L4H256', label: 'kd', bytes: 2e6, glue: 0.1, steps: kd() },
      { model: 'teacher-L2H256', label: 'baseline', bytes: 40e6, glue: 0.2 },
      { model: 'teacher-L2H256', label: 'kd', bytes: 2e6, glue: 0.1, steps: kd() },
    ].map(cola);
    const p = teacherSizePoints(dataOf(list));
    // the largest teacher (L4H256) scores below 0: no student has a % of it, nor of the panel's largest
    expect(p.map((q) => `${q.kind} ${q.teacher} of=${q.ofTeacher?.toFixed(1) ?? '-'} ofLargest=${q.ofLargestTeacher?.toFixed(1) ?? '-'}`)).toEqual([
      'student teacher-L2H256 of=50.0 ofLargest=-',
      'student teacher-L4H256 of=- ofLargest=-',
      'teacher teacher-L2H256 of=100.0 ofLargest=-',
      'teacher teacher-L4H256 of=- ofLargest=-',
    ]);
    expect(teacherSizeTables(dataOf(list))[0]!.rows).toEqual([['kd', '10.00 · 50.0% · – · n=1 · 0.50M', '10.00 · – · – · n=1 · 0.50M']]);
  });

  it('takes the teacher a stored point trained from by its hash: one folder name in two places, one teacher under two paths', () => {
    const at = (f: FakePoint, modelPath: string, i: number) => ({ ...fakePoint(f, i), modelPath });
    const distilled = (label: string, teacher: string, glue: number, i: number) =>
      at({ model: 'small', label, bytes: 2e6, glue, steps: kd({ teacher, epochs: i }) }, '/w/small/model.onnx', i);
    const points = [
      at({ model: 'a-sst2', label: 'baseline', bytes: 44e6, glue: 0.73 }, '/w/a/teachers/sst2/model.onnx', 0),
      at({ model: 'b-sst2', label: 'baseline', bytes: 40e6, glue: 0.81 }, '/w/b/teachers/sst2/model.onnx', 1),
      at({ model: 'small', label: 'baseline', bytes: 2e6, glue: 0.6 }, '/w/small/model.onnx', 2),
      distilled('kd-a', '../teachers/sst2', 0.7, 3), // both teachers' folders end in teachers/sst2: the plan says which
      distilled('kd-b', '../teachers/sst2', 0.72, 4),
      distilled('kd-copy', '../copies/b-sst2', 0.71, 5), // b's file under a path that no model of the report has
    ];
    const teacherOf: Record<string, string> = { 'kd-a': 'sha-a-sst2', 'kd-b': 'sha-b-sst2', 'kd-copy': 'sha-b-sst2' };
    const store = join(mkdtempSync(join(tmpdir(), 'report-teachers-')), 'store.sqlite');
    storePoints(store, points, undefined, (p) =>
      teacherOf[p.label]
        ? {
            training: {
              steps: [
                { index: 0, kind: 'distill', task: 'SST-2', teacherSha256: teacherOf[p.label], data: { file: 'train.tsv', sha256: 'data' }, settings: {} },
              ],
            },
          }
        : undefined,
    );
    const data = loadReport({ store });
    expect(data.rows.filter((r) => r.teacherSha256).map((r) => `${r.label} ${r.teacherSha256}`)).toEqual([
      'kd-a sha-a-sst2',
      'kd-b sha-b-sst2',
      'kd-copy sha-b-sst2',
    ]);
    expect(brief(data)).toEqual([
      'kd-a a-sst2 x=11 y=70.0 #0',
      'kd-b b-sst2 x=10 y=72.0 #0',
      'kd-copy b-sst2 x=10 y=71.0 #0',
      'teacher b-sst2 x=10 y=81.0 #0',
      'teacher a-sst2 x=11 y=73.0 #1',
    ]);
  });

  it("takes a student's teacher row scored on the same GLUE dev files as it: one sweep run on two GLUE folders gives two teachers", () => {
    const distilled = (teacherSha256: string) => ({
      training: { steps: [{ index: 0, kind: 'distill', task: 'SST-2', teacherSha256, data: { file: 'train.tsv', sha256: 'data' }, settings: {} }] },
    });
    const list: Array<[FakePoint, string]> = [
      [{ model: 'L4', label: 'baseline', bytes: 44e6, glue: 0.8 }, 'a'],
      [{ model: 'L4', label: 'kd', bytes: 2e6, glue: 0.7, steps: kd() }, 'a'],
      [{ model: 'L4', label: 'baseline', bytes: 44e6, glue: 0.5 }, 'b'],
      [{ model: 'L4', label: 'kd', bytes: 2e6, glue: 0.45, steps: kd() }, 'b'],
      [{ model: 'L2', label: 'baseline', bytes: 40e6, glue: 0.6 }, 'a'],
      [{ model: 'L2', label: 'kd', bytes: 2e6, glue: 0.55, steps: kd() }, 'a'],
      [{ model: 'small', label: 'baseline', bytes: 2e6, glue: 0.3 }, 'b'],
      [{ model: 'small', label: 'kd', bytes: 2e6, glue: 0.4, steps: kd({ teacher: 'L4' }) }, 'b'], // a named teacher
    ];
    const points = list.map(([f], i) => fakePoint(f, i));
    const store = join(mkdtempSync(join(tmpdir(), 'report-teachers-')), 'store.sqlite');
    storePoints(store, points, undefined, (p) => {
      const [f, glue] = list[points.indexOf(p)]!;
      return {
        data: { dev: { 'SST-2': `sha-${glue}` } },
        glueDir: `/glue/${glue}`,
        ...(f.steps ? distilled(`sha-${f.label === 'kd' && f.model === 'small' ? 'L4' : f.model}`) : {}),
      } as never;
    });
    const data = loadReport({ store });
    const teacherName = (glue: number) => data.rows.find((r) => r.model === 'L4' && r.glue === glue)!.group;
    expect(teacherName(0.8)).not.toBe(teacherName(0.5));
    const named = (s: string) => s.replace(teacherName(0.8), 'L4/a').replace(teacherName(0.5), 'L4/b');
    expect(teacherSizePoints(data).map((p) => named(`${p.series} ${p.teacher} y=${p.y?.toFixed(1)} of=${p.ofTeacher?.toFixed(1)} n=${p.runs}`))).toEqual([
      'kd L2 y=55.0 of=91.7 n=1',
      'kd L4/b y=42.5 of=85.0 n=2', // L4's own student on b and small's, distilled from L4, scored on b
      'kd L4/a y=70.0 of=87.5 n=1',
      'teacher L2 y=60.0 of=100.0 n=1',
      'teacher L4/b y=50.0 of=100.0 n=1',
      'teacher L4/a y=80.0 of=100.0 n=1',
    ]);
  });

  it("takes a named teacher's row scored on the student's tasks, not one of that file listed with other tasks too", () => {
    // one teacher file listed twice: on SST-2 (80.00) and, first by name, on SST-2 and CoLA (a mean of 50.00)
    const both = fakePoint({ model: 'A-two-tasks', label: 'baseline', bytes: 40e6, glue: 0.5 }, 1);
    both.modelSha256 = 'sha-L2';
    both.tasks = ['CoLA', 'SST-2'];
    both.result.eval.tasks = {
      'SST-2': { metrics: { accuracy: 0.8 }, examples: 100, seconds: 1 },
      CoLA: { metrics: { matthews_correlation: 0.2 }, examples: 100, seconds: 1 },
    };
    const l2 = fakePoint({ model: 'L2', label: 'baseline', bytes: 40e6, glue: 0.8 }, 2);
    l2.modelSha256 = 'sha-L2';
    const points = [
      fakePoint({ model: 'L4', label: 'baseline', bytes: 44e6, glue: 0.73 }, 0),
      both,
      l2,
      fakePoint({ model: 'small', label: 'baseline', bytes: 2e6, glue: 0.6 }, 3),
      fakePoint({ model: 'small', label: 'kd', bytes: 2e6, glue: 0.7, steps: kd({ teacher: 'L4', seed: 1 }) }, 4),
      fakePoint({ model: 'small', label: 'kd', bytes: 2e6, glue: 0.72, steps: kd({ teacher: 'sha256:sha-L2', seed: 1 }) }, 5),
    ];
    const tables = teacherSizeTables(buildReport(points));
    expect(tables.map((t) => [t.caption.split(',')[0], ...t.header.slice(1)])).toEqual([['SST-2', 'L2 (10.00M, 80.00)', 'L4 (11.00M, 73.00)']]);
    expect(tables[0]!.rows).toEqual([['kd', '72.00 · 90.0% · 98.6% · n=1 · 0.50M', '70.00 · 95.9% · 95.9% · n=1 · 0.50M']]);
  });

  it('draws teachers scored on one task set listed in other orders ([SST-2, CoLA], [CoLA, SST-2]) in one panel, where each order was a panel of its own', () => {
    /** A point scored on SST-2 and CoLA (both at `glue`), its tasks listed in `order` as its sweep file listed them. */
    const twoTasks = (f: FakePoint, i: number, order: string[]) => {
      const p = fakePoint(f, i);
      const metrics = { 'SST-2': { accuracy: f.glue! }, CoLA: { matthews_correlation: f.glue! } } as Record<string, Record<string, number>>;
      p.tasks = order;
      p.result.eval.tasks = Object.fromEntries(order.map((t) => [t, { metrics: metrics[t]!, examples: 100, seconds: 1 }]));
      return p;
    };
    const [sstFirst, colaFirst] = [
      ['SST-2', 'CoLA'],
      ['CoLA', 'SST-2'],
    ];
    const data = buildReport([
      twoTasks({ model: 'big', label: 'baseline', bytes: 44e6, glue: 0.7 }, 0, sstFirst!),
      twoTasks({ model: 'big', label: 'every-other+kd', bytes: 30e6, glue: 0.63, steps: everyOther }, 1, sstFirst!),
      twoTasks({ model: 'small', label: 'baseline', bytes: 20e6, glue: 0.6 }, 2, colaFirst!),
      twoTasks({ model: 'small', label: 'every-other+kd', bytes: 10e6, glue: 0.42, steps: everyOther }, 3, colaFirst!),
    ]);
    const tables = teacherSizeTables(data);
    expect(tables.map((t) => [t.caption.split(', GLUE')[0], ...t.header.slice(1)])).toEqual([['CoLA, SST-2', 'small (5.00M, 60.00)', 'big (11.00M, 70.00)']]);
    // (each student's % of the largest teacher is of big, the largest of the one panel)
    expect(tables[0]!.rows).toEqual([['every-other+kd', '42.00 · 70.0% · 60.0% · n=1 · 2.50M', '63.00 · 90.0% · 90.0% · n=1 · 7.50M']]);
  });

  it("keeps a student of its own model evaluated at another max length (its distill step's maxLength), under its teacher as it is", () => {
    const list = teacherSizeList().filter((f) => f.label === 'baseline' || f.label === 'L1H128+kd');
    const points = list.map((f, i) => {
      const p = fakePoint(f, i);
      if (f.label !== 'baseline' && f.model === 'teacher-L2H256') p.result.eval.maxLength = 32;
      return p;
    });
    const data = buildReport(points);
    expect(data.rows.filter((r) => r.baselineAtOtherLength).map((r) => `${r.model} ${r.label}`)).toEqual(['teacher-L2H256 L1H128+kd']);
    expect(teacherSizeTables(data)[0]!.rows).toEqual([['L1H128+kd', '72.00 · 88.8% · 98.1% · n=1 · 0.50M', '68.00 · 92.6% · 92.6% · n=1 · 0.50M']]);
  });

  it('matches teacher paths as written in a sweep file against the stored .onnx path', () => {
    expect(teacherPathMatches('../../shared/teachers/sst2-L2H256', '/work/shared/teachers/sst2-L2H256/model.onnx')).toBe(true);
    expect(teacherPathMatches('./sst2-L2H256/', '/work/shared/teachers/sst2-L2H256/onnx/model.onnx')).toBe(true);
    expect(teacherPathMatches('teachers/x/../sst2-L2H256/model.onnx', '/work/shared/teachers/sst2-L2H256/model.onnx')).toBe(true);
    expect(teacherPathMatches('../teachers/sst2-L4H256', '/work/shared/teachers/sst2-L2H256/model.onnx')).toBe(false);
    expect(teacherPathMatches('L2H256', '/work/shared/teachers/sst2-L2H256/model.onnx')).toBe(false);
    expect(teacherPathMatches('..', '/work/shared/teachers/sst2-L2H256/model.onnx')).toBe(false);
  });
});

describe('teacher-size table (Markdown report)', () => {
  it("has a row per student recipe and a column per teacher by size with its own score; a cell: mean, % of its teacher, % of the largest, runs, the student's parameters", async () => {
    const list: FakePoint[] = [
      { model: 'teacher-L4H256', label: 'baseline', bytes: 44e6, glue: 0.734 },
      { model: 'teacher-L2H256', label: 'baseline', bytes: 40e6, glue: 0.811 },
      { model: 'no|<b>score', label: 'baseline', bytes: 36e6, glue: null },
      { model: 'teacher-L4H256', label: 'kd(seed=1)', bytes: 2e6, glue: 0.7, steps: kd({ seed: 1 }) },
      ...[0.7, 0.72, 0.74].map((glue, i) => ({ model: 'teacher-L2H256', label: `kd(seed=${i + 1})`, bytes: 2e6, glue, steps: kd({ seed: i + 1 }) })),
      { model: 'no|<b>score', label: 'kd(seed=1)', bytes: 1.2e6, glue: 0.69, steps: kd({ seed: 1 }) }, // (a smaller student: 0.30M)
    ];
    const md = await renderReport(dataOf(list), 'md', 'teacher-size.sqlite');
    expect(md.slice(md.indexOf('## Teacher size'))).toBe(
      [
        '## Teacher size',
        '',
        "SST-2, GLUE dev ×100: student score (mean of n runs) · % of its teacher · % of the largest teacher (teacher-L4H256) · n runs · the student's parameters",
        '',
        '| student | no\\|\\<b>score (9.00M, no score) | teacher-L2H256 (10.00M, 81.10) | teacher-L4H256 (11.00M, 73.40) |',
        '| :--- | ---: | ---: | ---: |',
        '| kd | 69.00 · – · 94.0% · n=1 · 0.30M | 72.00 · 88.8% · 98.1% · n=3 · 0.50M | 70.00 · 95.4% · 95.4% · n=1 · 0.50M |',
        '',
      ].join('\n'),
    );
    expect(await renderReport(buildReport(posterPoints()), 'md', 'poster.sqlite')).not.toContain('Teacher size');
    const html = await renderReport(dataOf(list), 'html', 'teacher-size.sqlite');
    expect(html).toContain('<th>no|&lt;b&gt;score (9.00M, no score)</th><th>teacher-L2H256 (10.00M, 81.10)</th>');
    expect(html).toContain('<tr><td>kd</td><td class="r">69.00 · – · 94.0% · n=1 · 0.30M</td><td class="r">72.00 · 88.8% · 98.1% · n=3 · 0.50M</td>');
    expect(await renderReport(buildReport(posterPoints()), 'html', 'poster.sqlite')).not.toContain('teacher-size');
  });

  it('names the teacher-size tables among what leaves out a row scored on fewer tasks than planned only where the report has them', async () => {
    const partial = fakePoint({ model: 'teacher-L2H256', label: 'partial+kd', bytes: 2e6, glue: 0.7, steps: kd({ seed: 9 }) }, 99);
    partial.tasks = ['SST-2', 'STS-B']; // planned on both, scored on SST-2 alone
    const data = buildReport([...teacherSizeList().map(fakePoint), partial]);
    expect(data.rows.find((r) => r.label === 'partial+kd')!.missingTasks).toEqual(['STS-B']);
    // (its group names what sets it apart from the other rows of its model: the tasks it was planned on)
    const said = /Not on the Pareto fronts nor in the charts \(nor the teacher-size tables\): teacher-L2H256 [^:]*· partial\+kd \(no STS-B score\)/;
    const md = await renderReport(data, 'md', 'teacher-size.sqlite');
    expect(md).toContain('## Teacher size');
    expect(md).toMatch(said);
    expect(await renderReport(data, 'html', 'teacher-size.sqlite')).toMatch(said);
    // one teacher: no teacher-size tables, none named
    const one = buildReport([
      ...teacherSizeList()
        .filter((p) => p.model === 'teacher-L2H256')
        .map(fakePoint),
      partial,
    ]);
    for (const format of ['md', 'html'] as const) {
      const text = await renderReport(one, format, 'one-teacher.sqlite');
      expect(text).toMatch(/Not on the Pareto fronts nor in the charts: teacher-L2H256 [^:]*· partial\+kd \(no STS-B score\)/);
      expect(text).not.toContain('nor the teacher-size tables');
    }
  });

  it("leaves a cell undefined where one of its runs' GLUE score is, as a row's is where a task's is: not the mean of the other runs (n=2), and draws it nowhere", async () => {
    const why = 'STS-B: Pearson and Spearman undefined (constant predictions)';
    const stsb = (f: FakePoint): FakePoint => ({
      ...f,
      task: 'STS-B',
      metrics: f.glue === null ? { pearson: NaN, spearmanr: NaN } : { pearson: f.glue, spearmanr: f.glue },
    });
    const constant = (f: FakePoint, i: number) => {
      const p = fakePoint(stsb(f), i);
      p.result.eval.glueScoreUndefined = why;
      return p;
    };
    const points = [
      ...teacherSizeList()
        .filter((f) => f.label === 'baseline')
        .map((f, i) => fakePoint(stsb(f), i)),
      ...[0.7, 0.72].map((glue, i) =>
        fakePoint(stsb({ model: 'teacher-L2H256', label: `kd(seed=${i + 1})`, bytes: 2e6, glue, steps: kd({ seed: i + 1 }) }), 10 + i),
      ),
      constant({ model: 'teacher-L2H256', label: 'kd(seed=3)', bytes: 2e6, glue: null, steps: kd({ seed: 3 }) }, 12),
      fakePoint(stsb({ model: 'teacher-L4H256', label: 'kd(seed=1)', bytes: 2e6, glue: 0.68, steps: kd({ seed: 1 }) }), 13),
    ];
    const data = buildReport(points);
    const students = teacherSizePoints(data).filter((q) => q.kind === 'student');
    expect(
      students.map(
        (q) =>
          `${q.teacher} y=${q.y?.toFixed(1)} n=${q.runs} undefined=${q.undefinedRuns} of=${q.ofTeacher?.toFixed(1)} largest=${q.ofLargestTeacher?.toFixed(1)}`,
      ),
    ).toEqual(['teacher-L2H256 y=undefined n=3 undefined=1 of=undefined largest=undefined', 'teacher-L4H256 y=68.0 n=1 undefined=0 of=92.6 largest=92.6']);
    const [table] = teacherSizeTables(data);
    expect(table!.rows).toEqual([['kd', 'undefined · – · – · n=3 · 0.50M', '68.00 · 92.6% · 92.6% · n=1 · 0.50M']]);
    const md = await renderReport(data, 'md', 'teacher-size.sqlite');
    expect(md).toContain('a teacher-size cell one of whose runs is such a row is undefined too, not the mean of its other runs.');
    // the chart: the cell is not drawn, and its subtitle names it
    const spec = teacherSizeSpec(data) as unknown as { title: { subtitle: string[] }; data: { values: Array<{ teacher: string; kind: string }> } };
    expect(spec.data.values.filter((v) => v.kind === 'student').map((v) => v.teacher)).toEqual(['teacher-L4H256']);
    expect(spec.title.subtitle.join(' ')).toContain('not drawn, GLUE undefined: STS-B · kd under teacher-L2H256 (1 of 3 runs)');
    expect(await renderTeacherSizeChart(data)).toContain('1 of 3 runs');
    // a teacher whose GLUE score is undefined: 'undefined' in its column's header (not 'no score'), no share of it
    const teacherUndefined = buildReport([
      ...points.filter((p) => p.label !== 'baseline' || p.model !== 'teacher-L4H256'),
      constant({ model: 'teacher-L4H256', label: 'baseline', bytes: 44e6, glue: null }, 14),
    ]);
    const [header] = teacherSizeTables(teacherUndefined).map((t) => t.header);
    expect(header).toEqual(['student', 'teacher-L2H256 (10.00M, 81.10)', 'teacher-L4H256 (11.00M, undefined)']);
    expect(teacherSizeTables(teacherUndefined)[0]!.rows[0]![2]).toBe('68.00 · – · 83.8% · n=1 · 0.50M');
    // its cells' % is of the largest teacher that has a score, and the caption and tooltips say so, where the caption
    // called L2H256 the largest beside the bigger L4H256's column
    expect(teacherSizeTables(teacherUndefined)[0]!.caption).toBe(
      "STS-B, GLUE dev ×100: student score (mean of n runs) · % of its teacher · % of the largest scored teacher (teacher-L2H256) · n runs · the student's parameters",
    );
    const references = (d: typeof data) =>
      new Set((teacherSizeSpec(d) as unknown as { data: { values: Array<{ largestTeacher: string }> } }).data.values.map((v) => v.largestTeacher));
    expect(references(teacherUndefined)).toEqual(new Set(['teacher-L2H256 (the largest scored teacher)']));
    // a scored largest teacher keeps the words 'the largest teacher'
    expect(teacherSizeTables(data)[0]!.caption).toContain('% of the largest teacher (teacher-L4H256) ·');
    expect(references(data)).toEqual(new Set(['teacher-L4H256']));
  });

  it('calls the reference the largest scored teacher where a bigger teacher has no GLUE score at all (no teacher point, its students give its size)', () => {
    const list: FakePoint[] = [
      { model: 'teacher-L2H256', label: 'baseline', bytes: 40e6, glue: 0.811 },
      { model: 'teacher-L2H256', label: 'kd(seed=1)', bytes: 2e6, glue: 0.7, steps: kd({ seed: 1 }) },
      { model: 'unscored-big', label: 'baseline', bytes: 48e6, glue: null },
      { model: 'unscored-big', label: 'kd(seed=1)', bytes: 2e6, glue: 0.72, steps: kd({ seed: 1 }) },
    ];
    const data = dataOf(list);
    expect(teacherSizePoints(data).map((p) => `${p.kind} ${p.teacher} ${p.largestScoredOnly ?? false}`)).toEqual([
      'student teacher-L2H256 true',
      'student unscored-big true',
      'teacher teacher-L2H256 true',
    ]);
    const [table] = teacherSizeTables(data);
    expect(table!.caption).toContain('% of the largest scored teacher (teacher-L2H256) ·');
    expect(table!.header).toEqual(['student', 'teacher-L2H256 (10.00M, 81.10)', 'unscored-big (12.00M, no score)']);
  });

  it("names tiny teachers' sizes as the table's params column does (35.0K, 38.0K), where both read 0.04M", () => {
    const tiny = teacherSizeList()
      .filter((f) => f.label === 'baseline' || f.label === 'L1H128+kd')
      .map((f) => ({ ...f, bytes: f.label === 'baseline' ? (f.model === 'teacher-L4H256' ? 152e3 : 140e3) : 40e3 }));
    const [table] = teacherSizeTables(dataOf(tiny));
    expect(table!.header).toEqual(['student', 'teacher-L2H256 (35.0K, 81.10)', 'teacher-L4H256 (38.0K, 73.40)']);
    expect(table!.rows[0]![1]).toBe('72.00 · 88.8% · 98.1% · n=1 · 10.0K');
  });

  it("the HTML page's tables read the points its chart was drawn from: the page is the one the tables' own points give", async () => {
    const data = dataOf(teacherSizeList());
    const points = teacherSizePoints(data);
    const charts = { bytes: '<svg/>', latency: '<svg/>', teacherSize: await renderTeacherSizeChart(data, points), teacherSizePoints: points };
    const meta = { title: 't', source: 's', generatedAt: '2026-01-01T00:00:00.000Z' };
    const page = toHtml(data, charts, meta);
    expect(page).toContain('class="table teacher-size"');
    expect(page).toBe(toHtml(data, { ...charts, teacherSizePoints: undefined }, meta));
    expect(teacherSizeTables(data, points)).toEqual(teacherSizeTables(data));
  });
});

describe('teacher-size chart', () => {
  it("draws no negative tick on its axis of teachers' parameters, a teacher near 0 padded from 0", async () => {
    const list: FakePoint[] = [
      { model: 'teacher-big', label: 'baseline', bytes: 40e6, glue: 0.8 },
      { model: 'teacher-big', label: 'L1H128+kd', bytes: 0.2e6, glue: 0.7, steps: kd() },
      { model: 'teacher-tiny', label: 'baseline', bytes: 0.4e6, glue: 0.6 },
      { model: 'teacher-tiny', label: 'L1H128+kd', bytes: 0.2e6, glue: 0.55, steps: kd() },
    ];
    const texts = [...(await renderTeacherSizeChart(dataOf(list)))!.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
    const xTicks = texts.slice(0, texts.indexOf('teacher parameters (M)'));
    expect(xTicks).toContain('0');
    expect(xTicks.filter((t) => t.startsWith('−'))).toEqual([]);
  });

  it('renders to SVG with every series', async () => {
    const svg = (await renderTeacherSizeChart(dataOf(teacherSizeList())))!;
    expect(svg.startsWith('<svg')).toBe(true);
    for (const name of ['every-other+kd', 'L1H128+kd', 'L1H128-labels', 'teacher', 'teacher-L4H256', 'teacher-L2H256'])
      expect(svg).toContain(`>${name}</text>`);
    expect(svg).toContain('teacher parameters (M)');
    expect(svg).toContain('stroke-dasharray="6,4"');
  });

  it("places its labels (teachers' names, students' runs) apart as the Pareto charts' are, naming in the subtitle those that fit nowhere, where they were drawn over each other", async () => {
    /** Each label's text, whether drawn, and its box as the SVG places it (about its baseline at y). */
    const labels = (svg: string) =>
      [
        ...svg.matchAll(
          /<text [^>]*text-anchor="(\w+)" transform="translate\(([-\d.e]+),([-\d.e]+)\)"[^>]*font-size="(\d+)px"[^>]*?(?: opacity="([\d.]+)")?>(n=\d+|teacher-[A-C])<\/text>/g,
        ),
      ].map(([, anchor, x, y, size, opacity, text]) => {
        const w = sansTextWidth(text!, Number(size));
        const x1 = Number(x) - (anchor === 'end' ? w : anchor === 'middle' ? w / 2 : 0);
        return { text: text!, drawn: opacity !== '0', box: [x1, Number(y) - 0.8 * Number(size), x1 + w, Number(y) + 0.2 * Number(size)] as const };
      });
    const overlapping = (list: ReturnType<typeof labels>) =>
      list.flatMap((a, i) =>
        list
          .slice(i + 1)
          .flatMap((b) => (a.box[0] < b.box[2] - 1 && b.box[0] < a.box[2] - 1 && a.box[1] < b.box[3] - 1 && b.box[1] < a.box[3] - 1 ? [[a.text, b.text]] : [])),
      );
    // two teachers of about one size and score beside a large one, two recipes of two seeds each under every teacher
    // with about one score: the names of A and B, and the students' n=2, were drawn over each other
    const teachers: Array<[string, number, number]> = [
      ['teacher-A', 40e6, 0.81],
      ['teacher-B', 40.4e6, 0.809],
      ['teacher-C', 160e6, 0.84],
    ];
    const list = (recipes: number): FakePoint[] => [
      ...teachers.map(([model, bytes, glue]) => ({ model, label: 'baseline', bytes, glue })),
      ...teachers.flatMap(([model]) =>
        Array.from({ length: recipes }, (_, r) => r).flatMap((r) =>
          [1, 2].map((seed) => ({ model, label: `kd${r}(seed=${seed})`, bytes: 2e6, glue: 0.7 + 0.001 * (r % 2), steps: kd({ seed, lr: r }) })),
        ),
      ),
    ];
    const svg = (await renderTeacherSizeChart(dataOf(list(2))))!;
    const drawn = labels(svg);
    expect(drawn.map((l) => [l.text, l.drawn])).toEqual([
      ...Array.from({ length: 6 }, () => ['n=2', true]),
      ['teacher-A', true],
      ['teacher-B', true],
      ['teacher-C', true],
    ]);
    expect(overlapping(drawn)).toEqual([]);
    for (const l of drawn) expect(l.box[1], l.text).toBeGreaterThan(0); // (teacher-C's name was drawn above the chart)
    expect(svg).not.toContain(UNLABELLED_HEADING);
    // twelve recipes on one spot under each teacher: those that fit nowhere left out and named, the teachers' kept
    const crowd = (await renderTeacherSizeChart(dataOf(list(12))))!;
    const all = labels(crowd);
    expect(overlapping(all.filter((l) => l.drawn))).toEqual([]);
    expect(all.filter((l) => l.text.startsWith('teacher-')).map((l) => l.drawn)).toEqual([true, true, true]);
    const left = all.filter((l) => !l.drawn);
    expect(left.length).toBeGreaterThan(0);
    const subtitle = [...crowd.matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((m) => m[1]!);
    const at = subtitle.findIndex((l) => l.startsWith(UNLABELLED_HEADING));
    expect(at).toBeGreaterThan(0);
    const named = subtitle.slice(at).join(' ').slice(`${UNLABELLED_HEADING}:`.length).trim().split(/,\s*/);
    expect(named).toHaveLength(left.length);
    for (const name of named) expect(name).toMatch(/^SST-2 · kd\d+ under teacher-[ABC] \(n=2\)$/);
  });

  it("cuts a teacher's label past LABEL_LIMIT with …, so a long teacher name leaves the chart its size", async () => {
    const long = `teacher-${'with-a-long-name-'.repeat(8)}L4H256`;
    const list = teacherSizeList().map((p) => (p.model === 'teacher-L4H256' ? { ...p, model: long } : p));
    const svg = (await renderTeacherSizeChart(dataOf(list)))!;
    expect(svg).not.toContain(`>${long}</text>`);
    const cut = [...svg.matchAll(/>(teacher-with-a-long-name-[^<]*)<\/text>/g)].map((m) => m[1]!);
    expect(cut.length).toBeGreaterThan(0);
    for (const label of cut) expect(label).toMatch(/…$/);
    // (the whole name widened the SVG past its 440 px panels by its length)
    expect(Number(/<svg[^>]* width="(\d+)"/.exec(svg)![1])).toBeLessThan(440 + 80 + LABEL_LIMIT);
  });

  it("labels a task's axis with three significant digits when it has one teacher size (not 9.591554)", async () => {
    // (two STS-B teachers of one size: a panel needs two teachers)
    const list: FakePoint[] = [
      ...teacherSizeList(),
      ...['teacher-stsb', 'teacher-stsb-b'].flatMap((model, i): FakePoint[] => [
        { model, label: 'baseline', bytes: 38366216, glue: 0.8 - i / 100, task: 'STS-B' },
        { model, label: 'every-other+kd', bytes: 30e6, glue: 0.75 - i / 100, steps: everyOther, task: 'STS-B' },
      ]),
    ];
    const svg = (await renderTeacherSizeChart(dataOf(list)))!;
    expect(svg).toContain('>9.59</text>');
    expect(svg).not.toMatch(/>\d+\.\d{4,}</);
  });

  it('is written beside the Pareto charts and embedded in the HTML page, and absent when there is nothing to draw', async () => {
    const out = mkdtempSync(join(tmpdir(), 'report-teachers-'));
    const files = await writeReportFiles(dataOf(teacherSizeList()), out, ['html'], 'teacher-size.sqlite');
    expect(files.map((f) => f.slice(out.length + 1))).toEqual(['pareto-bytes.svg', 'pareto-latency.svg', 'teacher-size.svg', 'report.html']);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html).toContain('<figure id="teacher-size"><svg');

    const other = mkdtempSync(join(tmpdir(), 'report-teachers-'));
    await writeReportFiles(dataOf(teacherSizeList()), other, ['html'], 'teacher-size.sqlite'); // an earlier report into the same folder
    expect(existsSync(join(other, 'teacher-size.svg'))).toBe(true);
    const plain = await writeReportFiles(buildReport(posterPoints()), other, ['html'], 'poster.sqlite');
    expect(plain.map((f) => f.slice(other.length + 1))).toEqual(['pareto-bytes.svg', 'pareto-latency.svg', 'report.html']);
    expect(existsSync(join(other, 'teacher-size.svg'))).toBe(false);
    expect(readFileSync(join(other, 'report.html'), 'utf8')).not.toContain('teacher-size');
  });

  it("is in report.json (teacherSize: the chart's points, which the tables show) and the HTML page's embedded JSON, and absent without a chart", async () => {
    const data = dataOf(teacherSizeList());
    const out = mkdtempSync(join(tmpdir(), 'report-teachers-'));
    await writeReportFiles(data, out, ['json', 'html'], 'teacher-size.sqlite');
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(json.teacherSize).toEqual(JSON.parse(JSON.stringify(teacherSizePoints(data))));
    const student = json.teacherSize.find((p: { series: string; teacher: string }) => p.series === 'L1H128+kd' && p.teacher === 'teacher-L2H256');
    expect(student).toMatchObject({ kind: 'student', x: 10, y: 72, params: 0.5, runs: 1 });
    expect(student.ofTeacher).toBeCloseTo((100 * 0.72) / 0.811, 12);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    const embedded = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(JSON.parse(embedded)).toEqual(json);
    expect(JSON.parse(await renderReport(data, 'json', 'teacher-size.sqlite')).teacherSize).toEqual(json.teacherSize);
    expect(JSON.parse(await renderReport(buildReport(posterPoints()), 'json', 'poster.sqlite'))).not.toHaveProperty('teacherSize');
  });

  it('is printed by compress report --out as report.md has it, as without --out', async () => {
    const distill = { training: { steps: [{ index: 0, kind: 'distill', task: 'SST-2', data: { file: 'train.tsv', sha256: 'data' }, settings: {} }] } };
    const list = teacherSizeList().filter((f) => f.label === 'baseline' || f.label === 'L1H128+kd');
    const dir = mkdtempSync(join(tmpdir(), 'report-teachers-'));
    const store = join(dir, 'store.sqlite');
    storePoints(store, list.map(fakePoint), undefined, (p) => (p.steps.length > 0 ? (distill as never) : undefined));
    const report = (...args: string[]) => runMain(['report', store, ...args]);
    const written = await report('--out', join(dir, 'out'));
    expect(written.code, written.stderr).toBe(0);
    const md = readFileSync(join(dir, 'out', 'report.md'), 'utf8');
    expect(md).toContain('## Teacher size');
    expect(written.stdout.trimEnd()).toBe(md.trimEnd());
    expect((await report()).stdout).toBe(md);
  });
});
