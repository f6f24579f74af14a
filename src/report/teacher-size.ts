/**
 * The teacher-size chart: each distilled student's GLUE score against its teacher's size (parameters), one line per
 * student pipeline, and the teachers' own scores as a dashed reference line. Drawn when the report's distilled
 * points have at least two different teachers (e.g. examples/teacher-size.yaml: the same student pipelines
 * distilled from several teacher models). Vega-Lite, rendered to SVG like the Pareto charts.
 *
 * A point's teacher is the last `distill` step's: the pipeline's input model (the point's own model) when the step
 * names none, else the model of the report its `teacher` setting names (by model name, path or `sha256:` hash); a
 * teacher's size and score are its baseline row's. A point whose teacher has no baseline row in the report (or
 * names no model of it, or several) is left out, as is one without a GLUE score.
 */
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg } from './charts.ts';
import type { ReportData, ReportRow } from './rows.ts';

/** The series of the teachers themselves. */
export const TEACHER_SERIES = 'teacher';

export interface TeacherSizePoint {
  /** The line: the student's pipeline label, or TEACHER_SERIES. */
  series: string;
  kind: 'student' | 'teacher';
  /** The teacher's model name. */
  teacher: string;
  /** The teacher's parameters, in millions. */
  x: number;
  /** GLUE score ×100: the student's, or the teacher's own for a teacher point. */
  y: number;
  /** The point's own parameters, in millions (for a teacher point, x). */
  params: number;
  /** The tasks scored ('SST-2'): scores of different tasks do not compare, so each task set is its own panel. */
  tasks: string;
  /** Position along its line (by x), for drawing it. */
  order: number;
}

/** Path segments with '.' and '..' applied (leading '..' dropped): a relative path compares as a suffix. */
function segments(path: string): string[] {
  const out: string[] = [];
  for (const s of path.replace(/\\/g, '/').split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else out.push(s);
    } else out.push(s);
  }
  while (out[0] === '..') out.shift();
  return out;
}

const endsWith = (list: readonly string[], tail: readonly string[]): boolean =>
  tail.length > 0 && tail.length <= list.length && tail.every((s, i) => list[list.length - tail.length + i] === s);

/**
 * Whether a `teacher` setting (a path as written in the sweep file, relative to it, to a folder or .onnx file)
 * names the model stored at `modelPath` (the .onnx file the sweep resolved): the setting's path is a tail of the
 * file's path, of its folder, or (for onnx/model.onnx) of the folder above.
 */
export function teacherPathMatches(teacher: string, modelPath: string): boolean {
  const t = segments(teacher);
  const m = segments(modelPath);
  const forms = [m, m.slice(0, -1)];
  if (m.length >= 2 && m[m.length - 2] === 'onnx') forms.push(m.slice(0, -2));
  return forms.some((f) => endsWith(f, t));
}

/** The teacher setting of a point's last distill step: undefined without one, null when it names none (its own model). */
function distillTeacher(row: ReportRow): string | null | undefined {
  const step = row.steps.filter((s) => s.pass === 'distill').at(-1);
  if (!step) return undefined;
  const t = (step.settings as Record<string, unknown>).teacher;
  return typeof t === 'string' && t.trim() !== '' ? t.trim() : null;
}

const taskSet = (r: ReportRow): string => Object.keys(r.tasks).join(', ');

/**
 * The chart's points: per scored distilled row, a student point at its teacher's size; per teacher (and task set)
 * a teacher point. Empty (nothing to draw) unless the students have at least two different teachers. Sorted by
 * series (students by label, then the teachers), then x.
 */
export function teacherSizePoints(data: ReportData): TeacherSizePoint[] {
  const baselines = data.rows.filter((r) => r.isBaseline);
  /** A model's baseline row, preferring the same sweep. */
  const baselineOf = (sha: string, sweep: string): ReportRow | undefined =>
    baselines.find((b) => b.modelSha256 === sha && b.sweep === sweep) ?? baselines.find((b) => b.modelSha256 === sha);
  /** The one model (by file hash) a teacher setting names, if exactly one. */
  const named = (teacher: string): string | undefined => {
    const unique = (rows: ReportRow[]) => {
      const shas = [...new Set(rows.map((r) => r.modelSha256))];
      return shas.length === 1 ? shas[0] : undefined;
    };
    if (teacher.startsWith('sha256:')) return unique(baselines.filter((b) => b.modelSha256 === teacher.slice(7)));
    return unique(baselines.filter((b) => b.model === teacher)) ?? unique(baselines.filter((b) => teacherPathMatches(teacher, b.modelPath)));
  };

  const students: TeacherSizePoint[] = [];
  const teachers = new Map<string, ReportRow>();
  for (const r of data.rows) {
    if (r.isBaseline || r.glue === null || !Number.isFinite(r.glue)) continue;
    const setting = distillTeacher(r);
    if (setting === undefined) continue;
    const sha = setting === null ? r.modelSha256 : named(setting);
    const teacher = sha === undefined ? undefined : baselineOf(sha, r.sweep);
    if (!teacher) continue;
    const series = r.label === TEACHER_SERIES ? `${r.label} (student)` : r.label;
    students.push({
      series,
      kind: 'student',
      teacher: teacher.model,
      x: teacher.params / 1e6,
      y: 100 * r.glue,
      params: r.params / 1e6,
      tasks: taskSet(r),
      order: -1,
    });
    teachers.set(teacher.modelSha256, teacher);
  }
  if (teachers.size < 2) return [];

  const teacherPoints: TeacherSizePoint[] = [...teachers.values()]
    .filter((t) => t.glue !== null && Number.isFinite(t.glue))
    .map((t) => ({
      series: TEACHER_SERIES,
      kind: 'teacher',
      teacher: t.model,
      x: t.params / 1e6,
      y: 100 * t.glue!,
      params: t.params / 1e6,
      tasks: taskSet(t),
      order: -1,
    }));
  const points = [
    ...students.sort((a, b) => a.series.localeCompare(b.series) || a.tasks.localeCompare(b.tasks) || a.x - b.x || a.teacher.localeCompare(b.teacher)),
    ...teacherPoints.sort((a, b) => a.tasks.localeCompare(b.tasks) || a.x - b.x || a.teacher.localeCompare(b.teacher)),
  ];
  const lines = new Map<string, TeacherSizePoint[]>();
  for (const p of points) {
    const k = `${p.series}\0${p.tasks}`;
    lines.set(k, [...(lines.get(k) ?? []), p]);
  }
  for (const line of lines.values()) line.forEach((p, i) => (p.order = i));
  return points;
}

/** Vega's tableau10 without its grey (the teachers' colour). */
const PALETTE = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d'];
const TEACHER_COLOUR = '#555555';

/** The Vega-Lite spec of the chart; null when there is nothing to draw. */
export function teacherSizeSpec(data: ReportData): TopLevelSpec | null {
  const points = teacherSizePoints(data);
  if (points.length === 0) return null;
  const series = [...new Set(points.filter((p) => p.kind === 'student').map((p) => p.series))];
  // three significant digits: with one teacher size in a task's panel, the axis would print it whole (9.591554)
  const xEnc = { field: 'x', type: 'quantitative' as const, title: 'teacher parameters (M)', scale: { zero: false, nice: true }, axis: { format: '.3~r' } };
  const yEnc = { field: 'y', type: 'quantitative' as const, title: 'GLUE score (dev, ×100)', scale: { zero: false, nice: true }, axis: { format: '.3~r' } };
  const color = {
    field: 'series',
    type: 'nominal' as const,
    title: 'student pipeline',
    scale: { domain: [...series, TEACHER_SERIES], range: [...series.map((_, i) => PALETTE[i % PALETTE.length]!), TEACHER_COLOUR] },
  };
  const order = { field: 'order', type: 'quantitative' as const };
  const layer = [
    {
      transform: [{ filter: `datum.kind === 'student'` }],
      mark: { type: 'line', strokeWidth: 2, opacity: 0.8 },
      encoding: { x: xEnc, y: yEnc, color, order },
    },
    {
      transform: [{ filter: `datum.kind === 'teacher'` }],
      mark: { type: 'line', strokeWidth: 1.5, strokeDash: [6, 4], opacity: 0.8 },
      encoding: { x: xEnc, y: yEnc, color, order },
    },
    {
      mark: { type: 'point', filled: true, opacity: 1, size: 80 },
      encoding: {
        x: xEnc,
        y: yEnc,
        color,
        shape: { field: 'kind', type: 'nominal' as const, scale: { domain: ['student', 'teacher'], range: ['circle', 'square'] }, legend: null },
        tooltip: [
          { field: 'series', title: 'pipeline' },
          { field: 'teacher' },
          { field: 'x', title: 'teacher params (M)', format: '.2f' },
          { field: 'params', title: 'params (M)', format: '.2f' },
          { field: 'y', title: 'GLUE', format: '.2f' },
        ],
      },
    },
    {
      transform: [{ filter: `datum.kind === 'teacher'` }],
      mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 6, dy: -6, fontSize: 10, color: TEACHER_COLOUR },
      encoding: { x: xEnc, y: yEnc, text: { field: 'teacher' } },
    },
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Student score vs teacher size',
      subtitle: ["x: the teacher's parameters (its baseline row); one line per student pipeline", "dashed: the teachers' own scores"],
    },
    background: 'white',
    data: { values: points },
    facet: {
      row: {
        field: 'tasks',
        type: 'nominal',
        title: null,
        header: { labelFontSize: 12, labelFontWeight: 'bold', labelAngle: 0, labelAlign: 'left', labelOrient: 'top' },
      },
    },
    spec: { width: 440, height: 240, layer },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    config: { font: 'sans-serif', legend: { orient: 'bottom', direction: 'vertical', labelLimit: 320 } },
  } as unknown as TopLevelSpec;
}

/** The chart as SVG; null when there is nothing to draw. */
export async function renderTeacherSizeChart(data: ReportData): Promise<string | null> {
  const spec = teacherSizeSpec(data);
  return spec ? renderSvg(spec) : null;
}
