/**
 * The teacher-size chart: each distilled student's GLUE score against its teacher's size (parameters), one line per
 * student pipeline, and the teachers' own scores as a dashed reference line. Drawn when the report's distilled
 * points scored on one task set have at least two different teachers (e.g. examples/teacher-size.yaml: the same student pipelines
 * distilled from several teacher models), a panel per such task set (one distilled from one teacher has none). Vega-Lite, rendered to SVG like the Pareto charts.
 *
 * A point's teacher is the last `distill` step's: the file (by hash) its sweep resolved and trained from, as the
 * stored plan says (`ReportRow.teacherSha256`), so that two teachers of one folder name in different places, or one
 * teacher under two paths, are told apart by their files; for a point without it, the pipeline's input model (the
 * point's own model) when the step names none, else the model of the report its `teacher` setting names (by model
 * name, path or `sha256:` hash); a teacher's size and score are its baseline row's, one scored on the student's tasks
 * and the same GLUE dev files as it (for a student of its own model, the baseline row the table compares it with, or,
 * where it was evaluated at another max length and the table compares it with none, that model's baseline row as it
 * is): one teacher file scored on two data sets (a sweep rerun on another GLUE folder) is two teachers, named by their
 * fronts. A point whose teacher has no such baseline row in the report (or names no model of it, or several) is left
 * out, as is one without a GLUE score (one whose score is undefined is a run of its cell, which it leaves undefined:
 * see TeacherSizePoint.y). That teacher row (studentTeachers) is also the one the table's teacher column
 * and the Pareto charts' tooltips name (ReportRow.teacher).
 *
 * A line is one student recipe: the points' label, steps and tasks, less the distill step's `teacher` and any `seed`
 * (and their grid values in the label, 'kd(teacher=…, seed=2)', an unnamed grid's label, or a name template's
 * 'S64-{seed}', shown as such), so a teacher or seed grid axis still draws one line, and one label run with another
 * budget in another sweep draws its own, named by what sets it apart; a student made from the point's model (no
 * `student` setting) where that is not its teacher is that model's too, so the students one recipe makes of two models
 * are two lines ('kd (model a)'), where every-other's, built from its teacher's layers, are one. Points of one line under one teacher (seeds, reruns) are drawn
 * as their mean, with how many runs it averages (`runs`). Each point's tooltip gives its score as a % of its own
 * teacher's and of the panel's largest teacher's (one reference for every student).
 */
import type { TopLevelSpec } from 'vega-lite';
import { LABEL_LIMIT, LABELS, listLines, nonNegativeX, PANEL_HEADER, PANEL_WIDTH, renderLabelled, SCALE_PADDING, UNLABELLED_HEADING } from './charts.ts';
import type { PassStep } from '../pass/pass.ts';
import type { ReportData, ReportRow } from './rows.ts';
import { autoLabel, labelValue } from '../sweep/expand.ts';
import { shareOfBaseline } from '../eval/glue-score.ts';
import { mdCell, mdTable, paramCount } from './table.ts';
import { canonicalJson, hashOf } from '../sweep/key.ts';
import { compareText } from '../text-order.ts';
import { percent } from '../units.ts';

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
  /**
   * GLUE score ×100: the student's (the mean of its runs), or the teacher's own for a teacher point. Null where it is
   * undefined (ReportRow.glueUndefined: a correlation of constant predictions): a teacher's, or a run's of the student,
   * which leaves the mean undefined as a task leaves a row's, neither a mean without that run nor one counting it as 0
   * (`undefinedRuns` says how many); such a point is not drawn, and its table cell reads 'undefined'.
   */
  y: number | null;
  /** The point's own parameters, in millions (for a teacher point, x). */
  params: number;
  /** How many finished points (seeds, reruns of one recipe under one teacher) `y` averages (1 for a teacher point). */
  runs: number;
  /** How many of those runs have an undefined GLUE score (y is null when any does). */
  undefinedRuns: number;
  /** 'n=3' beside a student point when the chart's points average different numbers of runs or more than one; else ''. */
  runsLabel: string;
  /**
   * A student's score as a percentage of its teacher's; 100 for a teacher point. Null when the teacher's score is
   * 0 or below (a weak CoLA teacher's Matthews correlation), of which no share means anything, as the report's
   * '% of original' (glue-score.ts `shareOfBaseline`).
   */
  ofTeacher: number | null;
  /**
   * The score as a percentage of one reference shared by every point of its task panel, the largest scored teacher
   * there (most parameters; of equal ones the better): students of different teachers compare on one scale (null
   * when the panel has no scored teacher, or that teacher's score is 0 or below).
   */
  ofLargestTeacher: number | null;
  /** That reference teacher's model name ('' when none). */
  largestTeacher: string;
  /**
   * True where a teacher of the panel with more parameters than that reference has no GLUE score (undefined, or none):
   * the reference is then the largest scored teacher, not the largest, and the tables and tooltips say so (absent
   * otherwise, as from reports written before it).
   */
  largestScoredOnly?: true;
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

/** The index of the last distill step of `steps` (the one a point's teacher is of); -1 without one. */
function lastDistillIndex(steps: readonly Pick<PassStep, 'pass'>[]): number {
  return steps.map((s) => s.pass).lastIndexOf('distill');
}

/**
 * The hash of the teacher file the last distill step of `steps` trained from, from the point's stored plan (its
 * `training.steps`, as the sweep resolved the `teacher` setting or the input model); undefined when the plan does
 * not say (no distill step, a store from before plans held it, a plan that is not JSON).
 */
export function plannedTeacherSha256(plan: unknown, steps: readonly PassStep[]): string | undefined {
  const index = lastDistillIndex(steps);
  if (index < 0 || typeof plan !== 'object' || plan === null) return undefined;
  const training = (plan as { training?: { steps?: unknown } }).training?.steps;
  if (!Array.isArray(training)) return undefined;
  const step = training.find((t): t is { teacherSha256?: unknown } => typeof t === 'object' && t !== null && (t as { index?: unknown }).index === index);
  return typeof step?.teacherSha256 === 'string' && step.teacherSha256 !== '' ? step.teacherSha256 : undefined;
}

/** The teacher setting of a point's last distill step: undefined without one, null when it names none (its own model). */
export function distillTeacher(row: ReportRow): string | null | undefined {
  const step = row.steps[lastDistillIndex(row.steps)];
  if (!step) return undefined;
  const t = (step.settings as Record<string, unknown>).teacher;
  return typeof t === 'string' && t.trim() !== '' ? t.trim() : null;
}

/**
 * A row's tasks as a panel names them, in one order whatever order its sweep file listed them in ('CoLA, SST-2'): a
 * teacher listed with [SST-2, CoLA] and its students' model with [CoLA, SST-2] are scored on one task set, one panel.
 */
const taskSet = (r: ReportRow): string => Object.keys(r.tasks).sort().join(', ');

/**
 * Whether the student of a point's last distill step is made from the point's model (no `student` setting: the model
 * as its earlier steps left it), not built from its teacher (every-other: the teacher's even layers, makeStudent; the
 * point's model only where that is its teacher), from a spec (bert:…, bilstm:…) or read from a file.
 */
function studentFromModel(row: ReportRow): boolean {
  return (row.steps[lastDistillIndex(row.steps)]?.settings as Record<string, unknown> | undefined)?.student === undefined;
}

/** Whether two rows were scored on the same tasks (in any order). */
const sameTasks = (a: ReportRow, b: ReportRow): boolean => Object.keys(a.tasks).sort().join('\0') === Object.keys(b.tasks).sort().join('\0');

/** Whether two rows were scored on the same GLUE dev file of each task they share, as far as their plans say (`glueDevSha256`). */
function sameDev(a: ReportRow, b: ReportRow): boolean {
  const [x, y] = [a.glueDevSha256, b.glueDevSha256];
  return x === null || y === null || Object.entries(x).every(([task, sha]) => !Object.hasOwn(y, task) || y[task] === sha);
}

/** Settings that vary the run but not the student recipe: a line holds every value of them. */
const RUN_SETTINGS = new Set(['seed']);

/** A row's student recipe: its steps without the last distill step's `teacher` or any run setting (see the file comment). */
function recipeSteps(row: ReportRow): Array<{ pass: string; settings: Record<string, unknown> }> {
  const last = lastDistillIndex(row.steps);
  return row.steps.map((s, i) => ({
    pass: s.pass,
    settings: Object.fromEntries(
      Object.entries(s.settings as Record<string, unknown>).filter(([k]) => !RUN_SETTINGS.has(k) && !(i === last && k === 'teacher')),
    ),
  }));
}

/** A label without the grid values of the settings a line ignores: 'kd(teacher=../t, seed=2, lr=0.001)' → 'kd(lr=0.001)'. */
function recipeLabel(label: string): string {
  const m = /^(.*)\(([^()]*)\)$/.exec(label);
  if (!m) return label;
  const kept = m[2]!.split(', ').filter((part) => {
    const key = part.slice(0, part.indexOf('=')).split('.').at(-1)!;
    return !(part.includes('=') && (key === 'teacher' || RUN_SETTINGS.has(key)));
  });
  return kept.length > 0 ? `${m[1]}(${kept.join(', ')})` : m[1]!;
}

/** `label` with the last `value` in it that stands alone (not inside a word or number) as `{name}`; undefined when none does. */
function asTemplate(label: string, value: string, name: string): string | undefined {
  if (value === '') return undefined;
  const word = /[\p{L}\p{N}]/u;
  for (let at = label.lastIndexOf(value); at >= 0; at = at === 0 ? -1 : label.lastIndexOf(value, at - 1)) {
    const [before, after] = [label[at - 1], label[at + value.length]];
    if ((before === undefined || !word.test(before)) && (after === undefined || !word.test(after)))
      return `${label.slice(0, at)}{${name}}${label.slice(at + value.length)}`;
  }
  return undefined;
}

/**
 * Each row's recipe label: its label less the teacher and seed grid values ('kd(seed=2)' → 'kd'); an unnamed grid's
 * label (every value listed, 'distill bert:… 0.5 2') as the recipe's values list; and, where rows of one recipe have
 * labels that differ only by the seed or teacher a pipeline name holds ('S64-{seed}': 'S64-1', 'S64-2'), that name
 * ('S64-{seed}'), so that such runs are one line too.
 */
function recipeLabels(rows: readonly ReportRow[]): Map<ReportRow, string> {
  const own = new Map<ReportRow, string>();
  const template = new Map<ReportRow, string>();
  for (const r of rows) {
    const label = r.label === autoLabel(r.steps) ? autoLabel(recipeSteps(r)) : recipeLabel(r.label);
    own.set(r, label);
    const step = r.steps[lastDistillIndex(r.steps)]?.settings as Record<string, unknown> | undefined;
    let t = label;
    for (const [name, value] of [...Object.entries(step ?? {}).filter(([k]) => RUN_SETTINGS.has(k)), ['teacher', step?.teacher] as const])
      if (value !== undefined) t = asTemplate(t, labelValue(value), name) ?? t;
    if (t !== label) template.set(r, `${JSON.stringify([recipeSteps(r), taskSet(r)])}\0${t}`);
  }
  // a template stands for its rows only where it joins rows of other labels (a fixed seed in a name stays as written)
  const labelsOf = new Map<string, Set<string>>();
  for (const [r, key] of template) labelsOf.set(key, (labelsOf.get(key) ?? new Set()).add(own.get(r)!));
  return new Map(
    rows.map((r) => {
      const key = template.get(r);
      return [r, key !== undefined && labelsOf.get(key)!.size > 1 ? key.slice(key.indexOf('\0') + 1) : own.get(r)!];
    }),
  );
}

/** Each setting of the steps, by 'pass.key' (or 'pass#step.key' for a pass the steps run twice), as its label value. */
const flatSettings = (steps: ReturnType<typeof recipeSteps>): Map<string, string> =>
  new Map(
    steps.flatMap((s, i) =>
      Object.entries(s.settings).map(
        ([k, v]) => [`${steps.filter((t) => t.pass === s.pass).length > 1 ? `${s.pass}#${i}` : s.pass}.${k}`, labelValue(v)] as const,
      ),
    ),
  );

/**
 * A line's student recipe: its label, its steps (recipeSteps) and, for students made from a model other than their
 * teacher (studentFromModel, of a named teacher), that model's name (its front's): one recipe applied to two models
 * gives two students.
 */
interface Recipe {
  label: string;
  steps: ReturnType<typeof recipeSteps>;
  model: string | undefined;
}

/**
 * A name per line (key → name): its label less the teacher and seed grid values; a name two lines would share (one
 * label, other settings or another model) gets what sets each apart ('kd (distill.maxExamples=500)', 'kd (model a)',
 * 'kd (model: its teacher's)' for students of their teacher's own model).
 */
function recipeNames(recipes: Map<string, Recipe>): Map<string, string> {
  const base = new Map([...recipes].map(([key, r]) => [key, r.label]));
  const names = new Map<string, string>();
  for (const [key, name] of base) {
    const same = [...base].filter(([, n]) => n === name).map(([k]) => k);
    if (same.length === 1) {
      names.set(key, name === TEACHER_SERIES ? `${name} (student)` : name);
      continue;
    }
    const all = same.map((k) => flatSettings(recipes.get(k)!.steps));
    const own = all[same.indexOf(key)]!;
    const differ = [...new Set(all.flatMap((m) => [...m.keys()]))].filter((k) => new Set(all.map((m) => m.get(k))).size > 1).sort();
    const parts = differ.map((k) => `${k}=${own.get(k) ?? 'default'}`);
    const model = recipes.get(key)!.model;
    if (new Set(same.map((k) => recipes.get(k)!.model)).size > 1) parts.unshift(model === undefined ? "model: its teacher's" : `model ${model}`);
    // the same label and settings for other tasks: the panels keep them apart already
    names.set(key, parts.length > 0 ? `${name} (${parts.join(', ')})` : name);
  }
  return names;
}

/**
 * Each distilled row's teacher (see the file comment): the baseline row of the teacher file its last distill step
 * trained from (`ReportRow.teacherSha256`, else its setting: its own model, or the model it names), scored on its tasks
 * and GLUE dev files; a row whose teacher has no such row in the report (or names no model of it, or several) has none.
 */
export function studentTeachers(data: ReportData): Map<ReportRow, ReportRow> {
  const baselines = data.rows.filter((r) => r.isBaseline);
  const byKey = new Map(data.rows.map((r) => [r.key, r]));
  /**
   * The teacher row of student `r` (a row of the model of hash `sha`): its own baseline row when it distilled from its
   * own model (the one the table compares it with: the same data), else (a named teacher, or its own model where the
   * student was evaluated at another max length than its baseline row, which the table compares it with none) a baseline row of that model scored on its
   * tasks (not one of that file listed with other tasks too, whose GLUE score is a mean over others) and on the same
   * GLUE dev files as it (`sameDev`), preferring its sweep.
   */
  const baselineOf = (sha: string, r: ReportRow): ReportRow | undefined => {
    if (sha === r.modelSha256 && r.baselineKey !== null) return byKey.get(r.baselineKey);
    // (of its own model evaluated at another max length, its distill step's maxLength: the teacher as it is, as a named one)
    if (sha === r.modelSha256 && !r.baselineAtOtherLength) return undefined;
    const same = baselines.filter((b) => b.modelSha256 === sha && sameTasks(b, r) && sameDev(b, r));
    return same.find((b) => b.sweep === r.sweep) ?? same[0];
  };
  /** The one model (by file hash) a teacher setting names, if exactly one. */
  const named = (teacher: string): string | undefined => {
    const unique = (rows: ReportRow[]) => {
      const shas = [...new Set(rows.map((r) => r.modelSha256))];
      return shas.length === 1 ? shas[0] : undefined;
    };
    if (teacher.startsWith('sha256:')) return unique(baselines.filter((b) => b.modelSha256 === teacher.slice(7)));
    return unique(baselines.filter((b) => b.model === teacher)) ?? unique(baselines.filter((b) => teacherPathMatches(teacher, b.modelPath)));
  };
  const out = new Map<ReportRow, ReportRow>();
  for (const r of data.rows) {
    if (r.isBaseline) continue;
    const setting = distillTeacher(r);
    if (setting === undefined) continue;
    // the teacher the sweep trained from, by its hash; by the setting only for a point whose stored plan does not say
    const sha = r.teacherSha256 ?? (setting === null ? r.modelSha256 : named(setting));
    const teacher = sha === undefined ? undefined : baselineOf(sha, r);
    if (teacher) out.set(r, teacher);
  }
  return out;
}

/**
 * The chart's points: per scored distilled row, a student point at its teacher's size; per teacher (and task set)
 * a teacher point, of each task set whose students have at least two different teachers (teacher files) alone: empty
 * (nothing to draw) where none has. Sorted by series (students by label, then the teachers), then x.
 */
export function teacherSizePoints(data: ReportData): TeacherSizePoint[] {
  const teacherOf = studentTeachers(data);
  const labels = recipeLabels(data.rows.filter((r) => !r.isBaseline && distillTeacher(r) !== undefined));
  /** Per recipe and teacher, the student scores it averages. */
  const cells = new Map<string, { recipe: string; teacher: ReportRow; rows: ReportRow[] }>();
  const recipes = new Map<string, Recipe>();
  const teachers = new Map<string, ReportRow>();
  for (const r of data.rows) {
    // (a run whose GLUE score is undefined is one of its cell's runs: it leaves the cell's mean undefined)
    if (r.isBaseline || (r.glueUndefined === null && (r.glue === null || !Number.isFinite(r.glue))) || r.missingTasks.length > 0) continue;
    const teacher = teacherOf.get(r);
    if (!teacher) continue;
    const steps = recipeSteps(r);
    const label = labels.get(r)!;
    // (a student made from a model other than its teacher is that model's: one of another model is another student,
    // not a run of the same; one built from its teacher (every-other), from a spec or read from a file is the same
    // whichever model's point it is)
    const model = teacher.modelSha256 === r.modelSha256 || !studentFromModel(r) ? undefined : { sha: r.modelSha256, name: r.group };
    const recipe = JSON.stringify([label, steps, taskSet(r), model?.sha ?? null]);
    if (!recipes.has(recipe)) recipes.set(recipe, { label, steps, model: model?.name });
    const teacherKey = `${teacher.modelSha256}\0${canonicalJson(teacher.glueDevSha256)}`; // (one file scored on two data sets: two teachers)
    if (!teachers.has(teacherKey)) teachers.set(teacherKey, teacher);
    const cellKey = `${recipe}\0${teacherKey}`;
    const cell = cells.get(cellKey);
    if (cell) cell.rows.push(r);
    else cells.set(cellKey, { recipe, teacher: teachers.get(teacherKey)!, rows: [r] });
  }
  // a teacher by its model's name; by its front's (which names its sweep, file or data) when another teacher has that name
  const teacherName = new Map<ReportRow, string>();
  for (const t of teachers.values()) {
    const alike = [...teachers.values()].filter((u) => u.model === t.model);
    const byGroup = alike.filter((u) => u.group === t.group);
    teacherName.set(
      t,
      alike.length === 1
        ? t.model
        : byGroup.length === 1
          ? t.group
          : `${t.model} (file ${t.modelSha256.slice(0, 8)}, data ${hashOf(t.glueDevSha256).slice(0, 8)})`,
    );
  }
  const names = recipeNames(recipes);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const cellPoints: TeacherSizePoint[] = [...cells.values()].map(({ recipe, teacher, rows }) => {
    const undefinedRuns = rows.filter((r) => r.glueUndefined !== null).length;
    const score = undefinedRuns > 0 ? null : mean(rows.map((r) => r.glue!));
    const ofTeacher = shareOfBaseline(score, teacher.glue);
    return {
      series: names.get(recipe)!,
      kind: 'student',
      teacher: teacherName.get(teacher)!,
      x: teacher.params / 1e6,
      y: score === null ? null : 100 * score,
      params: mean(rows.map((r) => r.params)) / 1e6,
      runs: rows.length,
      undefinedRuns,
      runsLabel: '',
      ofTeacher: ofTeacher === null ? null : 100 * ofTeacher,
      ofLargestTeacher: null,
      largestTeacher: '',
      tasks: taskSet(rows[0]!),
      order: -1,
    };
  });
  // (teachers of one task set compare: a task set distilled from one teacher file, as an STS-B teacher's beside two
  // SST-2 ones, has no teacher size to read a student's score against, and no panel or table)
  const teacherFiles = new Map<string, Set<string>>();
  for (const t of teachers.values()) teacherFiles.set(taskSet(t), (teacherFiles.get(taskSet(t)) ?? new Set()).add(t.modelSha256));
  const compared = (tasks: string): boolean => (teacherFiles.get(tasks)?.size ?? 0) >= 2;
  const students = cellPoints.filter((p) => compared(p.tasks));
  if (students.length === 0) return [];
  if (students.some((p) => p.runs > 1)) for (const p of students) p.runsLabel = `n=${p.runs}`;

  const teacherPoints: TeacherSizePoint[] = [...teachers.values()]
    .filter((t) => compared(taskSet(t)) && (t.glueUndefined !== null || (t.glue !== null && Number.isFinite(t.glue))))
    .map((t) => ({
      series: TEACHER_SERIES,
      kind: 'teacher',
      teacher: teacherName.get(t)!,
      x: t.params / 1e6,
      y: t.glueUndefined !== null ? null : 100 * t.glue!,
      params: t.params / 1e6,
      runs: 1,
      undefinedRuns: t.glueUndefined !== null ? 1 : 0,
      runsLabel: '',
      ofTeacher: t.glueUndefined === null && t.glue! > 0 ? 100 : null,
      ofLargestTeacher: null,
      largestTeacher: '',
      tasks: taskSet(t),
      order: -1,
    }));
  const scored = teacherPoints.filter((t): t is TeacherSizePoint & { y: number } => t.y !== null);
  for (const ref of scored) {
    const panel = scored.filter((t) => t.tasks === ref.tasks);
    if (panel.some((t) => t.x > ref.x || (t.x === ref.x && (t.y > ref.y || (t.y === ref.y && t.teacher < ref.teacher))))) continue;
    // (a bigger teacher of the panel unscored: its students' points give its size, a teacher point or none its score)
    const scoredOnly = [...students, ...teacherPoints].some((p) => p.tasks === ref.tasks && p.x > ref.x);
    for (const p of [...students, ...teacherPoints]) {
      const share = shareOfBaseline(p.y, ref.y);
      if (p.tasks !== ref.tasks || share === null) continue;
      p.ofLargestTeacher = 100 * share;
      p.largestTeacher = ref.teacher;
      if (scoredOnly) p.largestScoredOnly = true;
    }
  }
  const points = [
    ...students.sort((a, b) => compareText(a.series, b.series) || compareText(a.tasks, b.tasks) || a.x - b.x || compareText(a.teacher, b.teacher)),
    ...teacherPoints.sort((a, b) => compareText(a.tasks, b.tasks) || a.x - b.x || compareText(a.teacher, b.teacher)),
  ];
  const lines = new Map<string, TeacherSizePoint[]>();
  for (const p of points) {
    const k = `${p.series}\0${p.tasks}`;
    lines.set(k, [...(lines.get(k) ?? []), p]);
  }
  for (const line of lines.values()) line.forEach((p, i) => (p.order = i));
  return points;
}

/** The reference of a point's ofLargestTeacher in words: 'largest teacher', or 'largest scored teacher' where a bigger one has no score. */
const largestWords = (p: TeacherSizePoint | undefined): string => (p?.largestScoredOnly ? 'largest scored teacher' : 'largest teacher');

/** A point's share (ofTeacher, ofLargestTeacher: already ×100) in the tables, by the one percentage rule ('98.1%'), '–' for none. */
const pct = (v: number | null): string => (v === null ? '–' : percent(v / 100));
/** A point's score in the tables: '72.00', or 'undefined' (see TeacherSizePoint.y). */
const scoreText = (p: TeacherSizePoint): string => (p.y === null ? 'undefined' : p.y.toFixed(2));

/** One task panel of the chart as a table (see teacherSizeTables). */
export interface TeacherSizeTable {
  /** 'SST-2, GLUE dev ×100: student score (mean of n runs) · % of its teacher · % of the largest teacher (NAME) · n runs · the student's parameters'. */
  caption: string;
  /** 'student', then each teacher by size: 'NAME (9.59M, 81.08)' ('no score' for an unscored one, 'undefined' for one whose GLUE score is). */
  header: string[];
  /**
   * Per student recipe: its name, then per teacher '72.00 · 88.8% · 98.1% · n=3 · 2.85M' ('' where it has no run;
   * 'undefined · – · – · n=3 · 2.85M' where a run's GLUE score is undefined).
   */
  rows: string[][];
}

/**
 * The chart as tables, one per task panel: a row per student recipe, a column per teacher (by size, with its
 * parameters and own score), each cell the student's mean score with its % of that teacher, its % of the panel's
 * largest teacher, how many runs (seeds) it averages and the student's parameters (their mean: a recipe such as
 * `student: every-other` gives each teacher a student of another size); empty when there is no chart.
 */
export function teacherSizeTables(data: ReportData, points: readonly TeacherSizePoint[] = teacherSizePoints(data)): TeacherSizeTable[] {
  return [...new Set(points.map((p) => p.tasks))].map((tasks) => {
    const panel = points.filter((p) => p.tasks === tasks);
    const teachers = new Map<string, { x: number; score: string }>();
    for (const p of [...panel].sort((a, b) => a.x - b.x || compareText(a.teacher, b.teacher)))
      if (!teachers.has(p.teacher)) teachers.set(p.teacher, { x: p.x, score: 'no score' });
    for (const p of panel) if (p.kind === 'teacher') teachers.get(p.teacher)!.score = scoreText(p);
    const students = panel.filter((p) => p.kind === 'student');
    const largest = panel.find((p) => p.largestTeacher !== '');
    return {
      caption: `${tasks}, GLUE dev ×100: student score (mean of n runs) · % of its teacher · % of the ${largestWords(largest)}${largest ? ` (${largest.largestTeacher})` : ''} · n runs · the student's parameters`,
      header: ['student', ...[...teachers].map(([name, t]) => `${name} (${paramCount(Math.round(t.x * 1e6))}, ${t.score})`)],
      rows: [...new Set(students.map((p) => p.series))].map((series) => [
        series,
        ...[...teachers.keys()].map((name) => {
          const p = students.find((q) => q.series === series && q.teacher === name);
          return p ? `${scoreText(p)} · ${pct(p.ofTeacher)} · ${pct(p.ofLargestTeacher)} · n=${p.runs} · ${paramCount(Math.round(p.params * 1e6))}` : '';
        }),
      ]),
    };
  });
}

/** The tables of teacherSizeTables as a Markdown section; null when there is no chart. */
export function teacherSizeMarkdown(data: ReportData, points: readonly TeacherSizePoint[] = teacherSizePoints(data)): string | null {
  const tables = teacherSizeTables(data, points);
  if (tables.length === 0) return null;
  const out: string[] = ['## Teacher size', ''];
  for (const t of tables) {
    out.push(mdCell(t.caption), '', ...mdTable(t.header, t.rows, ['l', ...t.header.slice(1).map(() => 'r' as const)]), '');
  }
  return out.join('\n');
}

/** Vega's tableau10 without its grey (the teachers' colour). */
const PALETTE = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d'];
const TEACHER_COLOUR = '#555555';

/** A panel's height (px). */
const PANEL_HEIGHT = 240;

/** What a point's label shows: a teacher's name, a student's runs ('n=3', or none). */
const labelOf = (p: TeacherSizePoint): string => (p.kind === 'teacher' ? p.teacher : p.runsLabel);

/**
 * The Vega-Lite spec of the chart (of `points`, teacherSizePoints of `data`); null when there is nothing to draw.
 * `unlabelled`: the points whose labels the rendering could place nowhere without overlapping another's
 * (renderTeacherSizeChart), named in the subtitle.
 */
export function teacherSizeSpec(
  data: ReportData,
  points: readonly TeacherSizePoint[] = teacherSizePoints(data),
  unlabelled: readonly TeacherSizePoint[] = [],
): TopLevelSpec | null {
  if (points.length === 0) return null;
  const series = [...new Set(points.filter((p) => p.kind === 'student').map((p) => p.series))];
  // (a point whose score is undefined has no place on the y axis: named in the subtitle, in the tables as 'undefined')
  const drawn = points.filter((p) => p.y !== null);
  const undrawn = points.filter((p) => p.y === null);
  // three significant digits: with one teacher size in a task's panel, the axis would print it whole (9.591554); 16 px
  // clear at the scales' ends, for the labels of the points there (as the Pareto charts')
  // (parameters are never negative: the x axis padded from 0 at the least, nonNegativeX)
  const scale = { zero: false, nice: true, padding: SCALE_PADDING };
  const padded = nonNegativeX({ field: 'x', type: 'quantitative' as const, title: 'teacher parameters (M)', axis: { format: '.3~r' } }, 'tasks', PANEL_WIDTH);
  const xEnc = padded.x;
  const yEnc = { field: 'y', type: 'quantitative' as const, title: 'GLUE score (dev, ×100)', scale, axis: { format: '.3~r' } };
  const color = {
    field: 'series',
    type: 'nominal' as const,
    title: 'student pipeline',
    scale: { domain: [...series, TEACHER_SERIES], range: [...series.map((_, i) => PALETTE[i % PALETTE.length]!), TEACHER_COLOUR] },
  };
  const order = { field: 'order', type: 'quantitative' as const };
  const layer = [
    padded.layer,
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
          { field: 'teacherParams', title: 'teacher params' },
          { field: 'studentParams', title: 'params' },
          { field: 'y', title: 'GLUE', format: '.2f' },
          { field: 'ofTeacher', title: "% of teacher's GLUE", format: '.1f' },
          { field: 'ofLargestTeacher', title: "% of largest teacher's GLUE", format: '.1f' },
          { field: 'largestTeacher', title: 'largest teacher' },
          { field: 'runs', title: 'runs averaged' },
        ],
      },
    },
    {
      // (one layer for every label, a teacher's name or a student's runs, so that renderLabelled places them apart
      // from each other, the teachers' first; cut with … past LABEL_LIMIT, as a point's label in the Pareto charts:
      // its tooltip holds it whole)
      name: LABELS,
      transform: [{ filter: `datum.label !== ''` }],
      mark: { type: 'text', fontSize: { expr: "datum.kind === 'teacher' ? 10 : 9" }, limit: LABEL_LIMIT },
      encoding: { x: xEnc, y: yEnc, color, text: { field: 'label' } },
    },
  ];
  const subtitle = [
    "x: the teacher's parameters (its baseline row); one line per student recipe, a point the mean of its runs (seeds)",
    "dashed: the teachers' own scores",
  ];
  if (undrawn.length > 0)
    subtitle.push(
      ...listLines(
        'not drawn, GLUE undefined',
        undrawn.map((p) =>
          p.kind === 'teacher' ? `${p.tasks} · teacher ${p.teacher}` : `${p.tasks} · ${p.series} under ${p.teacher} (${p.undefinedRuns} of ${p.runs} runs)`,
        ),
      ),
    );
  if (unlabelled.length > 0)
    subtitle.push(
      ...listLines(
        UNLABELLED_HEADING,
        unlabelled.map((p) => (p.kind === 'teacher' ? `${p.tasks} · teacher ${p.teacher}` : `${p.tasks} · ${p.series} under ${p.teacher} (${p.runsLabel})`)),
      ),
    );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Student score vs teacher size', subtitle },
    background: 'white',
    // the parameter counts as the tables write them ('37.4K', '2.85M'), not '0.04' (M) for a tiny model
    data: {
      values: drawn.map((p) => ({
        ...p,
        // (the tooltip's 'largest teacher' names the reference: one a bigger unscored teacher is not, as such)
        largestTeacher: p.largestScoredOnly ? `${p.largestTeacher} (the ${largestWords(p)})` : p.largestTeacher,
        teacherParams: paramCount(Math.round(p.x * 1e6)),
        studentParams: paramCount(Math.round(p.params * 1e6)),
        label: labelOf(p),
        isTeacher: p.kind === 'teacher',
      })),
    },
    facet: {
      row: {
        field: 'tasks',
        type: 'nominal',
        title: null,
        header: PANEL_HEADER,
      },
    },
    spec: { width: PANEL_WIDTH, height: PANEL_HEIGHT, layer },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    config: { font: 'sans-serif', legend: { orient: 'bottom', direction: 'vertical', labelLimit: 320 } },
  } as unknown as TopLevelSpec;
}

/**
 * The chart as SVG (of `points`, teacherSizePoints of `data`), its labels placed apart as the Pareto charts' are
 * (renderLabelled: the teachers' first); null when there is nothing to draw.
 */
export async function renderTeacherSizeChart(data: ReportData, points: readonly TeacherSizePoint[] = teacherSizePoints(data)): Promise<string | null> {
  if (points.length === 0) return null;
  return renderLabelled<TeacherSizePoint>((unlabelled) => teacherSizeSpec(data, points, unlabelled)!, {
    size: [PANEL_WIDTH, PANEL_HEIGHT],
    first: ['isTeacher'],
  });
}
