/**
 * The variant table in three text forms: Markdown (×100 scores, MB, ratios, for people), CSV (raw numbers, one
 * column per task metric, for tools) and JSON (the rows as they are). Pure functions of ReportData.
 */
import { METRIC_SHORT_NAMES, type MetricName, type MetricValues, type UndefinedMetrics } from '../eval/metrics/metric.ts';
import { describeLatencyShapes, type ReportData, type ReportRow } from './rows.ts';
import { describeMachine } from '../bench/machine.ts';
import { counted, plural, them } from '../errors.ts';
import { OVERLAPS, SHARED_MARK } from '../sweep/contention.ts';
import type { TeacherSizePoint } from './teacher-size.ts';
import { percent, times100 } from '../units.ts';

/** Marks a stale row's pipeline: computed by other code than the code running now, or on data since changed (see sweep/stale.ts). */
export const STALE_MARK = '‡';

/** A row's pipeline as the table's cell and the charts' label show it: its label, marked ‡ when stale. */
export const pipelineText = (r: ReportRow): string => `${r.label}${r.stale !== null ? STALE_MARK : ''}`;

/** `v` with `decimals` decimals, or, where those would give under two significant digits (0.0), two significant digits. */
export const small = (v: number, decimals: number): string => (Math.abs(v) >= 10 ** (1 - decimals) || v === 0 ? v.toFixed(decimals) : v.toPrecision(2));
/** '2.85M', or for a tiny model '37.4K' / '812' (not '0.00M'). */
export const paramCount = (n: number): string => (n >= 1e5 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : String(n));
const pct = (v: number | null): string => (v === null ? '-' : percent(v));

/** 'acc 73.39', 'Pearson 17.35 / Spearman 17.80', or 'Pearson undefined (constant predictions) / …' with `why`. */
export function formatMetrics(m: MetricValues | undefined, why: UndefinedMetrics = {}): string {
  if (!m) return '';
  const parts = (Object.keys(m) as MetricName[]).map(
    (k) => `${METRIC_SHORT_NAMES[k] ?? k} ${why[k] !== undefined ? `undefined (${why[k]})` : times100(m[k], '-')}`,
  );
  return parts.join(' / ') || '-';
}

/** Table headers and cells for people (what Markdown and HTML show). */
export function displayTable(data: ReportData): { header: string[]; rows: string[][]; align: Array<'l' | 'r'> } {
  const header = [
    'model',
    'pipeline',
    'parameters',
    'params',
    'weights MB',
    'file MB',
    'size',
    'speed-up',
    'p50 ms',
    'task metrics',
    'GLUE',
    '% of original',
    'front',
  ];
  const teachers = hasTeacherColumn(data);
  if (teachers) header.splice(3, 0, 'teacher');
  const align: Array<'l' | 'r'> = ['l', 'l', 'l', ...(teachers ? (['l'] as const) : []), 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'r', 'r', 'l'];
  const rows = data.rows.map((r) => [
    r.group,
    pipelineText(r),
    r.parameters || '—',
    ...(teachers ? [teacherCell(r) ?? '—'] : []),
    paramCount(r.params),
    small(r.bytes / 1e6, 1),
    small(r.fileBytes / 1e6, 1),
    pct(r.bytesOfOriginal),
    `×${r.speedup.toFixed(2)}${r.timingExclusive === false ? SHARED_MARK : ''}`,
    small(r.measuredLatencyMs, 2),
    Object.entries(r.tasks)
      .map(([t, m]) => `${t} ${formatMetrics(m, r.undefinedMetrics[t])}`)
      .join('; '),
    r.glueUndefined !== null ? 'undefined' : times100(r.glue, '-'),
    pct(r.glueOfOriginal),
    frontMark(r),
  ]);
  return { header, rows, align };
}

/**
 * Whether the table and the charts' tooltips have a teacher column (the CSV has its three always: toCsv): where some
 * row was distilled (from a teacher the report holds or from one it does not), so that a sweep distilling from a
 * teacher outside it names that teacher too; none where no row was distilled.
 */
export function hasTeacherColumn(data: ReportData): boolean {
  return data.rows.some((r) => teacherCell(r) !== undefined);
}

/**
 * A distilled row's teacher as the table's teacher column shows it: its model and parameters, 'big-teacher (0.15M)';
 * one the report holds no baseline row of as its distill step names it, 'sst2-L4H256 (size not in this report)', so that
 * it reads apart from a row not distilled; undefined for a row not distilled.
 */
export function teacherCell(r: Pick<ReportRow, 'teacher' | 'teacherNamed'>): string | undefined {
  if (r.teacher) return `${r.teacher.group} (${paramCount(r.teacher.params)})`;
  return r.teacherNamed !== undefined ? `${r.teacherNamed} (size not in this report)` : undefined;
}

/** What the two MB columns and size measure (the Markdown and HTML notes). */
export const SIZE_NOTE =
  "weights MB: the bytes of all initializers (the weights), which size compares with the baseline row's and the size front ranks; " +
  'file MB: the .onnx file with its external data on disk, what you ship (the weights plus the graph, names and padding).';

/**
 * Which rows' GLUE score is undefined and why, and the rule; null when every row's is a number or absent. A task
 * with an undefined metric (a correlation of constant predictions) leaves the mean undefined: dropping the task, or
 * counting it as 0, would give a number that is not the GLUE score of the row's tasks. `teacherSize`: whether the
 * report shows teacher-size tables, whose cells average runs by the same rule (said only then).
 */
export function undefinedGlueNote(data: ReportData, teacherSize = false): string | null {
  const rows = data.rows.filter((r) => r.glueUndefined !== null);
  if (rows.length === 0) return null;
  return (
    `GLUE undefined: ${rows.map((r) => `${r.group} · ${r.label} (${r.glueUndefined})`).join('; ')}. ` +
    "A task whose metric is undefined leaves its row's GLUE score undefined: it is not dropped from the mean nor counted as 0" +
    (teacherSize ? '; a teacher-size cell one of whose runs is such a row is undefined too, not the mean of its other runs.' : '.')
  );
}

/**
 * Why some rows have no '% of original' although scored: their baseline's GLUE score is 0 or below (a weak CoLA
 * model's Matthews correlation, a weak STS-B model's Pearson and Spearman), of which no share means anything; null
 * when no baseline scores so.
 */
export function nonPositiveBaselineNote(data: ReportData): string | null {
  const models = [...new Set(data.rows.filter((r) => r.isBaseline && r.glue !== null && r.glue <= 0).map((r) => r.group))];
  if (models.length === 0) return null;
  const [its, is] = models.length > 1 ? ["their baselines' GLUE scores", 'are'] : ["its baseline's GLUE score", 'is'];
  return `% of original is - for ${models.join(', ')}: ${its} ${is} 0 or below (a correlation can be: CoLA's Matthews, STS-B's Pearson and Spearman), of which no share means anything; compare the GLUE scores.`;
}

/**
 * Why some rows have no size although their baseline row is there: it has no initializers (0 bytes of weights: a
 * model keeping its weights in Constant nodes), of which no share means anything; null when no baseline has 0 bytes.
 */
export function zeroByteBaselineNote(data: ReportData): string | null {
  const models = data.rows.filter((r) => r.bytesOfOriginal === null && r.baselineKey !== null).map((r) => r.group);
  if (models.length === 0) return null;
  return `size is - for ${[...new Set(models)].join(', ')}: its baseline row has no initializers (0 bytes of weights), of which no share means anything; compare the weights MB.`;
}

/**
 * Why some rows have no size and '% of original': the report holds no baseline row of their model (its file, scored on
 * the same tasks and data at the same max length), which those columns compare with: its baseline point failed
 * (listed under Failed) or has not finished yet, the baselines it holds were evaluated on other data (another
 * GLUE folder, a dev file, config.json or tokenizer changed: `baselineOnOtherData`), or at another max length (a
 * train or distill step's student keeps its maxLength: `baselineAtOtherLength`); null when every row has one.
 */
export function missingBaselineNote(data: ReportData): string | null {
  const rows = data.rows.filter((r) => r.bytesOfOriginal === null && r.baselineKey === null);
  const otherData = [...new Set(rows.filter((r) => r.baselineOnOtherData).map((r) => r.group))];
  const otherLength = [...new Set(rows.filter((r) => r.baselineAtOtherLength).map((r) => r.group))];
  const none = [...new Set(rows.filter((r) => !r.baselineOnOtherData && !r.baselineAtOtherLength).map((r) => r.group))];
  const notes: string[] = [];
  if (otherLength.length > 0) {
    const [these, their] = otherLength.length > 1 ? ['these models', 'their baseline rows'] : ['that model', 'its baseline row'];
    notes.push(
      `size and % of original are - for ${otherLength.join(', ')}: those rows of ${these} were evaluated at another max length than ${their} (a train or distill step's maxLength is its student's max_length, at which a sweep file without eval.maxLength evaluates it), so a share of ${their} is no share of the original; give the sweep file eval.maxLength to evaluate every point at one length.`,
    );
  }
  if (none.length > 0) {
    const [these, its, failed, it] = none.length > 1 ? ['these models', 'their', 'points failed', 'them'] : ['that model', 'its', 'point failed', 'it'];
    notes.push(
      `size and % of original are - for ${none.join(', ')}: the report holds no baseline row of ${these} (the same file, scored on the same tasks and data at the same max length) to compare with: ${its} baseline ${failed} (see Failed) or did not finish; a rerun of the sweep runs ${it}.`,
    );
  }
  if (otherData.length > 0) {
    const [these, their] = otherData.length > 1 ? ['these models', 'their'] : ['that model', 'its'];
    notes.push(
      `size and % of original are - for ${otherData.join(', ')}: the baseline rows the report holds of ${these} were evaluated on other data (another GLUE folder, or a GLUE dev file, config.json or tokenizer changed since), so a share of them is no share of the original; a rerun of the sweep on ${their} data runs ${their} baseline on it.`,
    );
  }
  return notes.length > 0 ? notes.join(' ') : null;
}

/**
 * Why some rows have no '% of original' although they and their baseline are scored: their GLUE score averages other
 * tasks than the baseline's (a partial or hand-edited result), so their ratio is no share of the original; null when
 * no row's does. The share over the tasks they have in common is not shown instead: it would be another quantity
 * under the column's name, one the GLUE column does not give.
 */
export function glueTaskMismatchNote(data: ReportData): string | null {
  const rows = data.rows.filter((r) => r.glueTaskMismatch !== null);
  if (rows.length === 0) return null;
  const list = (tasks: readonly string[]) => tasks.join(', ') || 'none';
  const named = rows.map(
    (r) => `${r.group} · ${r.label} (GLUE over ${list(r.glueTaskMismatch!.tasks)}; its baseline's over ${list(r.glueTaskMismatch!.baseline)})`,
  );
  return `% of original is - for ${named.join('; ')}: a GLUE score is a mean over tasks, and these are over other tasks than their baseline's (a partial or edited result), so their ratio is no share of the original; compare the task metrics.`;
}

/**
 * Which rows the Pareto fronts and charts leave out because their GLUE score averages fewer tasks than their sweep
 * planned (ReportRow.missingTasks); null when none does. `teacherSize`: whether the report shows teacher-size tables
 * (they leave such rows out too), named only then.
 */
export function missingTasksNote(data: Pick<ReportData, 'rows'>, teacherSize = false): string | null {
  const rows = data.rows.filter((r) => r.missingTasks.length > 0);
  if (rows.length === 0) return null;
  const named = rows.map((r) => `${r.group} · ${r.label} (no ${r.missingTasks.join(', ')} score)`);
  return `Not on the Pareto fronts nor in the charts${teacherSize ? ' (nor the teacher-size tables)' : ''}: ${named.join('; ')}: a result without a task its sweep planned (a partial or edited result) has a GLUE score over fewer tasks than its model's other variants, which does not compare with theirs; compare the task metrics.`;
}

/**
 * How the GLUE column is made, when a row's score is over several tasks or counts WNLI (of which readers compare with
 * numbers that leave it out); null when every row is scored on one task without WNLI.
 */
export function glueAggregationNote(data: ReportData): string | null {
  const wnli = [...new Set(data.rows.filter((r) => r.glue !== null && r.glueIncludesWnli).map((r) => r.group))];
  if (wnli.length === 0 && !data.rows.some((r) => Object.keys(r.tasks).length > 1)) return null;
  const counted = wnli.length > 0 ? `, WNLI included (${wnli.join(', ')}), as the GLUE leaderboard counts it (the BERT paper leaves WNLI out)` : '';
  return `GLUE: a row's unweighted mean over its tasks of each task's score (the mean of its metrics; MNLI-m and MNLI-mm count as one task, MNLI)${counted}.`;
}

/**
 * What † on a speed-up means (the row was timed while the machine was shared, and what overlapped it), and how to time
 * those rows again alone; null when every row was timed with the machine to itself.
 */
export function sharedTimingNote(data: ReportData): string | null {
  if (!data.rows.some((r) => r.timingExclusive === false)) return null;
  const seen = new Set(data.rows.flatMap((r) => (r.timingExclusive === false ? r.timingOverlapped : [])));
  const overlapped = seen.size > 0 ? `; overlapped: ${OVERLAPS.filter((o) => seen.has(o)).join(', ')}` : '';
  return `${SHARED_MARK} Timed without the machine to itself (another benchmark held the machine-wide timing lock, or another point was compressing, training, evaluating or benchmarking on this machine at the same time: a worker of the sweep, another sweep or a queue worker, or other programs used a quarter of a CPU or more while it timed: a build, a test suite${overlapped}): the speed-up and p50 may be off; to time those points again alone, rerun their sweep with nothing else running: compress sweep FILE --jobs 1 --rerun-contended.`;
}

/**
 * The stale rows (marked ‡) and what changed since each was computed, with what a sweep does with them: those
 * computed by other code, then those computed on data that changed since, then those whose input the code running now
 * refuses (ReportRow.refused: no rerun computes them again, whatever changed); null when every row is current. A
 * stale result is shown (a sweep keeps it too) but not as if the code running now made it on the data as it is now.
 */
export function staleNote(data: ReportData): string | null {
  const listed = (change: (r: ReportRow) => string | null): string | null => {
    const byChange = new Map<string, string[]>();
    for (const r of data.rows) {
      const c = change(r);
      if (c !== null) byChange.set(c, [...(byChange.get(c) ?? []), `${r.group} · ${r.label}`]);
    }
    return byChange.size === 0 ? null : [...byChange].map(([c, names]) => `${names.join(', ')} (${c})`).join('; ');
  };
  const code = listed((r) => (r.refused === undefined ? r.codeChange : null));
  const changedData = listed((r) => (r.refused === undefined ? r.dataChange : null));
  const refused = listed((r) => (r.refused !== undefined && r.stale !== null ? `${r.stale}; refused now: ${r.refused}` : null));
  const notes = [
    code &&
      `${STALE_MARK} Stale: computed by other code than the bert-compress running now: ${code}. ` +
        'A rerun of the sweep keeps such a result and says so; compress sweep FILE --rerun-stale recomputes it.',
    changedData &&
      `${STALE_MARK} Stale: computed on data that changed since (a file its sweep read, hashed again now, differs): ${changedData}. ` +
        'A rerun of the sweep computes such a point again on the data as it is now, as another point (this result stays in the store).',
    refused &&
      `${STALE_MARK} Stale, and no rerun computes it again: the bert-compress running now refuses an input it read: ${refused}. ` +
        'A rerun of the sweep, --rerun-stale too, fails at such a point and keeps this result, stale; give the input the refusal asks for.',
  ];
  return notes.filter((n) => n !== null).join(' ') || null;
}

/**
 * The variant rows compared with a stale baseline row (marked ‡): their size, % of original and the latency their
 * front ranks are against a result computed by other code; null when no variant's baseline is stale.
 */
export function staleBaselineNote(data: ReportData): string | null {
  // (one on data since changed is compared only with variants that read that data, stale themselves)
  // (nor one whose input is refused now, which staleNote says no rerun recomputes: its variants read that input too)
  const stale = new Set(data.rows.filter((r) => r.codeChange !== null && r.refused === undefined).map((r) => r.key));
  const rows = data.rows.filter((r) => r.baselineKey !== null && r.baselineKey !== r.key && stale.has(r.baselineKey));
  if (rows.length === 0) return null;
  const baselines = new Set(rows.map((r) => r.baselineKey)).size;
  return (
    `${STALE_MARK} Compared with a stale baseline: ${rows.map((r) => `${r.group} · ${pipelineText(r)}`).join(', ')}: ` +
    'their size, % of original and the latency their front ranks are against a baseline row computed by other code (marked ‡); ' +
    `compress sweep FILE --rerun-stale recomputes ${them(baselines)}.`
  );
}

function frontMark(r: ReportRow): string {
  return [r.frontBytes ? 'size' : '', r.frontLatency ? 'latency' : ''].filter(Boolean).join(', ');
}

/**
 * A Markdown table cell (or a note's line, a list item) showing `s` as it is: a line break is a space (it would end
 * the row, or the item), and each character Markdown would read as markup is escaped with a backslash: `\`, `|` (the
 * cell separator), `<` (raw HTML: `<b>` would turn the rest bold), `*`, `` ` `` and `~` (emphasis, code, GitHub's
 * strikethrough: `*q*` showed as an italic q), `_` except between two letters or digits (where CommonMark never reads
 * it as emphasis: `bert_base` stays as written), `&` starting an entity (`&amp;` showed as &) and `]` before `(` (a link).
 */
export function mdCell(s: string): string {
  return s.replace(/\r\n|[\r\n]/g, ' ').replace(/[\\|<*`~]|_(?![\p{L}\p{N}])|(?<![\p{L}\p{N}])_|&(?=#?[0-9a-z]+;)|\](?=\()/giu, (c) => `\\${c}`);
}

/**
 * A note's line or a list item's text showing `s` as it is: mdCell's escapes, and a start Markdown would read as a
 * block of its own escaped (in a table cell it is inline text): `# ` (a heading), `>` (a quote), `- ` and `+ ` (a
 * list), `---` (a rule), digits then `. ` or `) ` (a numbered list), `[x] ` (GitHub's task box) or `[a]:` (a link
 * definition, which hides the line), and leading blanks as entities (four would start indented code).
 */
export function mdLine(s: string): string {
  return mdCell(s)
    .replace(/^[ \t]+/, (blanks) => [...blanks].map((c) => `&#${c.codePointAt(0)};`).join(''))
    .replace(/^(?:#{1,6}(?=[ \t]|$)|>|[-+](?=[ \t]|$)|(?:-[ \t]*){3,}$|\[(?=[ xX]\](?:[ \t]|$)|[^\]]*\]:))/, (c) => `\\${c}`)
    .replace(/^\d{1,9}(?=[.)](?:[ \t]|$))/, (c) => `${c}\\`);
}

/** A Markdown table's lines: the header, its alignment row ('r': right, 'l': left), then the rows. */
export function mdTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[]): string[] {
  return [
    `| ${header.map(mdCell).join(' | ')} |`,
    `| ${align.map((a) => (a === 'r' ? '---:' : ':---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`),
  ];
}

/**
 * The machine the rows were benchmarked on ('Machine: …'), or, when a store mixes several (queue workers on other
 * machines, other thread counts), each with its number of rows, so that p50 ms is compared only where it is
 * comparable; null without benchmarks.
 */
export function machinesLine(data: Pick<ReportData, 'machines'>): string | null {
  if (data.machines.length > 1) {
    const each = data.machines.map((m) => `${describeMachine(m.machine)} (${counted(m.rows, 'row')})`).join('; ');
    return `Machines: the rows were benchmarked on ${data.machines.length} machines or thread settings, so p50 ms compares only between rows of one (each speed-up was timed against its baseline on one): ${each}.`;
  }
  const only = data.machines[0]?.machine;
  return only ? `Machine: ${describeMachine(only)}.` : null;
}

/**
 * The rows whose int8 products were scored on a CPU that can saturate them (ReportRow.int8Saturated): where other rows'
 * were scored on one that does not (queue workers on several machines), the table and the teacher-size means mix int8
 * scores of two kinds; where none were, the rows' int8 scores are those of such CPUs, which a VNNI CPU can score
 * otherwise (the demo's int8 SST-2 point: 73.28 on an AVX2-only EPYC, 72.94 on a VNNI Xeon). Either way, the settings
 * that give scores of every CPU. Null without such rows.
 */
export function int8MachinesNote(data: Pick<ReportData, 'rows'>): string | null {
  const saturated = data.rows.filter((r) => r.int8Saturated === true);
  if (saturated.length === 0) return null;
  const rows = saturated.map((r) => `${r.group} · ${r.label}`).join(', ');
  const independent =
    'eval: {exactInt8: true} in the sweep file scores int8 points as VNNI CPUs do, on any CPU (slower), and quantizing with reduceRange: true (7-bit weights) gives int8 scores that do not depend on the CPU.';
  if (!data.rows.some((r) => r.int8Saturated === false))
    return (
      `Int8 scores of this CPU: ${rows} ${plural(saturated.length, 'was', 'were')} scored on a CPU without AVX-512 VNNI / AVX-VNNI, whose int8 kernels ` +
      `add products in saturating 16-bit pairs: a CPU with VNNI can score ${plural(saturated.length, 'it', 'them')} otherwise. ${independent}`
    );
  return (
    `Int8 scores by CPU: ${rows} ${plural(saturated.length, 'was', 'were')} scored on a CPU without AVX-512 VNNI / AVX-VNNI, whose int8 kernels ` +
    'can saturate full-range int8 products, and other int8 rows on CPUs without that limit (or with eval.exactInt8; see the machines): these scores may differ from what the same points score there. ' +
    independent.replace(/^e/, 'E')
  );
}

/**
 * The Markdown report: the table, then how to read it. `teacherSize`: whether the teacher-size tables follow it
 * (renderReport appends teacherSizeMarkdown's).
 */
export function toMarkdown(data: ReportData, teacherSize = false): string {
  const { header, rows, align } = displayTable(data);
  const lines = [
    ...mdTable(header, rows, align),
    '',
    'Scores ×100 (GLUE dev). size and % of original: against the baseline row of the same model. speed-up: baseline latency / ' +
      'variant latency, measured in the same run with interleaved repetitions (geometric mean over the bench shapes). p50 ms: as measured ' +
      `at the first bench shape (${describeLatencyShapes(data.rows)}). front: on the Pareto front of GLUE score vs size / ` +
      "vs latency among the variants of its model in its sweep (a variant's latency there is its baseline's p50 divided by its speed-up at that shape).",
  ];
  lines.push('', SIZE_NOTE);
  for (const note of tableNotes(data, { teacherSize, machines: true })) {
    // (names and errors in the notes as the table shows them: a line break, | or <b> in one is text, not Markdown)
    if ('text' in note) lines.push('', mdLine(note.text));
    else {
      lines.push('', note.heading);
      for (const f of note.failed) lines.push(`- ${mdLine(failedText(f))}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** A failed point as the report names it, in its failed lists and where nothing finished: 'sst2 · int8: out of memory'. */
export const failedText = (f: Pick<ReportData['failed'][number], 'model' | 'label' | 'error'>): string => `${f.model} · ${f.label}: ${f.error}`;

/** The heading of the list of failed points the table holds no row of. */
export const FAILED_NOTE = 'Failed (not in the table; a rerun of the sweep retries them):';

/** What a rerun of the sweep does with a failed point whose input the code running now refuses (FailedPoint.refused). */
export const FAILED_REFUSED_INPUT =
  'the bert-compress running now refuses their input, so a rerun of the sweep fails at them too until it is given as the error asks';

/** The heading of the list of failed points the table holds no row of whose input the code running now refuses (FailedPoint.refused). */
export const FAILED_INPUT_REFUSED_NOTE = `Failed (not in the table; ${FAILED_REFUSED_INPUT}):`;

/** The heading of the list of failed points whose stale result the table shows (FailedPoint.staleRows): --rerun-stale retries them. */
export const FAILED_STALE_NOTE = `Failed to recompute (in the table as their stored results, stale, marked ${STALE_MARK}: a rerun of the sweep keeps those; compress sweep FILE --rerun-stale retries them):`;

/**
 * The heading of the list of failed points whose stale result the table shows and whose input the code running now
 * refuses (a row standing for them has ReportRow.refused): no rerun computes them.
 */
export const FAILED_REFUSED_NOTE = `Failed to recompute (in the table as their stored results, stale, marked ${STALE_MARK}; the bert-compress running now refuses their input, so no rerun of the sweep computes them again, --rerun-stale neither):`;

/** A note under the table: a sentence, or a list of failed points under its heading (which each format lays out its own way). */
export type TableNote = { text: string } | { heading: string; failed: ReportData['failed'] };

/**
 * The failed points in lists by what a rerun does with them: those the table holds no row of (FAILED_NOTE), and of
 * these those whose input is refused now (FAILED_INPUT_REFUSED_NOTE); those whose stale result it shows
 * (FAILED_STALE_NOTE), and of these those whose input is refused now (FAILED_REFUSED_NOTE).
 */
function failedNotes(data: ReportData): TableNote[] {
  const refused = new Set(data.rows.filter((r) => r.refused !== undefined).map((r) => r.key));
  const kind = (f: ReportData['failed'][number]): string =>
    f.staleRows === undefined
      ? f.refused === undefined
        ? FAILED_NOTE
        : FAILED_INPUT_REFUSED_NOTE
      : f.staleRows.some((k) => refused.has(k))
        ? FAILED_REFUSED_NOTE
        : FAILED_STALE_NOTE;
  return [FAILED_NOTE, FAILED_INPUT_REFUSED_NOTE, FAILED_STALE_NOTE, FAILED_REFUSED_NOTE]
    .map((heading) => ({ heading, failed: data.failed.filter((f) => kind(f) === heading) }))
    .filter((note) => note.failed.length > 0);
}

/**
 * The notes under the table that the report's data calls for, in the order every format gives them. `teacherSize`:
 * whether the report has the teacher-size tables; `machines`: whether the machines line is among them (the HTML
 * page gives it in its header).
 */
export function tableNotes(data: ReportData, opts: { teacherSize: boolean; machines: boolean }): TableNote[] {
  const texts = (...notes: Array<string | null>): TableNote[] => notes.filter((n): n is string => Boolean(n)).map((text) => ({ text }));
  return [
    ...texts(
      undefinedGlueNote(data, opts.teacherSize),
      glueAggregationNote(data),
      missingBaselineNote(data),
      zeroByteBaselineNote(data),
      nonPositiveBaselineNote(data),
      glueTaskMismatchNote(data),
      missingTasksNote(data, opts.teacherSize),
      opts.machines ? machinesLine(data) : null,
      int8MachinesNote(data),
      sharedTimingNote(data),
      staleNote(data),
      staleBaselineNote(data),
    ),
    ...failedNotes(data),
    ...texts(unfinishedNote(data), shownOnceNote(data), relocatedNote(data)),
  ];
}

/**
 * Where the store was moved or copied from (ReportData.relocated), and which folder's files its points were compared
 * with (the ‡ of a changed file); null when it was not.
 */
export function relocatedNote(data: Pick<ReportData, 'relocated'>): string | null {
  const list = data.relocated ?? [];
  if (list.length === 0) return null;
  const moves = list.map(
    (m) =>
      `from ${m.store}: the files ${m.points === 1 ? 'one point' : `${m.points} points`} read under ${m.from} were compared under ${m.to}, where they are there`,
  );
  return `Store moved or copied since its points were planned (${moves.join('; ')}). A rerun of the sweep where the store is now records the files it reads.`;
}

/**
 * The stored points a whole store's report shows as another row (ReportData.shownOnce: one point stored twice by
 * earlier code, its seeds or training task written differently), each with the row shown for it, which holds the
 * newest result; null when there are none.
 */
export function shownOnceNote(data: Pick<ReportData, 'rows' | 'shownOnce'>): string | null {
  const list = data.shownOnce ?? [];
  if (list.length === 0) return null;
  const rows = new Map(data.rows.map((r) => [r.key, r]));
  const pairs = list.map((s) => {
    const row = rows.get(s.shownAs);
    return `${s.model} · ${s.label} (sweep ${s.sweep}) is the row ${row ? `${row.group} · ${row.label}` : `of key ${s.shownAs.slice(0, 12)}`}`;
  });
  return (
    `Shown once: ${pairs.join('; ')}, one point stored twice by an earlier bert-compress, its seeds written differently ` +
    "(a step's own seed or the sweep's, the default seed written out or left out) or its training task; the row shows the newest result. " +
    "compress report STORE --sweep NAME shows each sweep's own."
  );
}

/**
 * The points their sweep planned that are not in the table (no result, no failure: not run yet, running, or stopped),
 * so that a table of a sweep stopped half-way does not pass for the whole; null when there are none.
 */
export function unfinishedNote(data: Pick<ReportData, 'unfinished'>): string | null {
  const list = data.unfinished ?? [];
  if (list.length === 0) return null;
  const sweeps = new Set(list.map((u) => u.sweep)).size;
  const names = list.map((u) => `${u.model} · ${u.label}${sweeps > 1 ? ` (sweep ${u.sweep})` : ''}`).join(', ');
  return `Not finished (not in the table: not run yet, running, or stopped): ${names}. A rerun of the sweep runs ${them(list.length)}.`;
}

/**
 * RFC 4180 quoting. A text cell that a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR: a
 * model or pipeline named so) gets a leading apostrophe, as OWASP advises against CSV injection; numbers (-0.5) never.
 * Lines end in LF, not RFC 4180's CRLF: every CSV reader we know (spreadsheets, pandas, Python's csv, R) reads LF,
 * Unix tools and diffs want it, and the committed reports use it; no BOM, which many readers take for data.
 */
function csvCell(v: string | number | boolean | null): string {
  const s = v === null ? '' : typeof v === 'string' && /^[=+\-@\t\r]/.test(v) ? `'${v}` : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The CSV report: raw numbers (fractions, bytes, ms), one column per task metric; `group` is the model as the table
 * and charts name its front ('sst2 (max length 32)', 'sst2 (sweep a, file 3f2a9c1b, data 1a2b3c4d)'), and
 * `baseline_key` the key of the row that bytes_of_original and glue_of_original compare with. `teacher`,
 * `teacher_params` and `teacher_key` give a row distilled from a teacher the report holds (ReportRow.teacher) its
 * teacher: its model as `group` names it, its parameters and its baseline row's key; a row distilled from a teacher the
 * report does not hold, that teacher as its distill step names it (ReportRow.teacherNamed), its parameters and key
 * empty; a row not distilled, all three empty. The three columns are there whether or not some row was distilled (the
 * table's teacher column is not: hasTeacherColumn), so that the header of one sweep's CSV does not change when its
 * first distilled point lands: one header for the tools that read it. `machine` is the machine that benchmarked (and
 * scored) the row, its CPU flags among its words (describeMachine), `int8_saturated` ReportRow.int8Saturated (empty for
 * a row without full-range int8 products).
 */
export function toCsv(data: ReportData): string {
  const metricCols: Array<[string, MetricName]> = [];
  for (const t of data.tasks) {
    const names = new Set<MetricName>();
    for (const r of data.rows) for (const k of Object.keys(r.tasks[t] ?? {}) as MetricName[]) names.add(k);
    for (const k of names) metricCols.push([t, k]);
  }
  const header = [
    'sweep',
    'model',
    'pipeline',
    'group',
    'parameters',
    'teacher',
    'teacher_params',
    'teacher_key',
    'params',
    'bytes',
    'file_bytes',
    'bytes_of_original',
    'speedup',
    'latency_ms',
    'measured_latency_ms',
    'latency_batch',
    'latency_seq',
    ...metricCols.map(([t, k]) => `${t}.${k}`),
    'glue',
    'glue_of_original',
    'baseline_key',
    'glue_undefined',
    'front_bytes',
    'front_latency',
    'machine',
    'int8_saturated',
    'timing_exclusive',
    'key',
    'stale',
  ];
  const rows = data.rows.map((r) => [
    r.sweep,
    r.model,
    r.label,
    r.group,
    r.parameters,
    r.teacher?.group ?? r.teacherNamed ?? null,
    r.teacher?.params ?? null,
    r.teacher?.key ?? null,
    r.params,
    r.bytes,
    r.fileBytes,
    r.bytesOfOriginal,
    r.speedup,
    r.latencyMs,
    r.measuredLatencyMs,
    r.latencyShape.batch,
    r.latencyShape.seq,
    ...metricCols.map(([t, k]) => r.tasks[t]?.[k] ?? null),
    r.glue,
    r.glueOfOriginal,
    r.baselineKey,
    r.glueUndefined,
    r.frontBytes,
    r.frontLatency,
    r.machine,
    r.int8Saturated,
    r.timingExclusive,
    r.key,
    r.stale,
  ]);
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

/**
 * The JSON report: the data as it is, with, when the report has a teacher-size chart, its points (`teacherSize`:
 * teacher-size.ts `teacherSizePoints`, what the Teacher size tables of report.md and report.html show: per student
 * recipe and teacher its mean score, runs, % of its teacher and of the largest, the teacher's and the student's
 * parameters in millions; and the teachers' own points, series 'teacher').
 */
export function toJson(data: ReportData, teacherSize: readonly TeacherSizePoint[] = []): string {
  return JSON.stringify(teacherSize.length > 0 ? { ...data, teacherSize } : data, null, 2) + '\n';
}
