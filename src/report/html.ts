/**
 * The offline HTML report: one self-contained page (no scripts, styles, fonts or images fetched at view time) with
 * the machine, the variant table and the charts (both Pareto charts, and the teacher-size chart when the report has
 * one) as inline SVG; the report data is embedded as JSON for reuse.
 */
import { counted, SettingsError } from '../errors.ts';
import { checkOptionKinds, checkOptions, checkStringOption, type OptionKind } from '../library-args.ts';
import type { ChartKind } from './charts.ts';
import { describeLatencyShapes, type ReportData } from './rows.ts';
import { type TeacherSizePoint, teacherSizePoints, teacherSizeTables } from './teacher-size.ts';
import { displayTable, failedText, machinesLine, SIZE_NOTE, tableNotes, toJson } from './table.ts';

/**
 * The SVG text of each chart: both Pareto charts, and the teacher-size chart when there is one; with the points that
 * chart was drawn from (teacherSizePoints), the page's teacher-size tables read them rather than work them out again.
 */
export type ReportCharts = Record<ChartKind, string> & { teacherSize?: string | null; teacherSizePoints?: readonly TeacherSizePoint[] };

export interface HtmlReportOptions {
  title: string;
  /** Where the data came from (the store path). */
  source: string;
  generatedAt: string;
}

/** HtmlReportOptions' kinds (the title may be empty), each required: checked by toHtml before the page is written. */
const HTML_OPTION_KINDS = {
  title: { is: (v: unknown) => typeof v === 'string', expected: 'a string (the page title)' },
  source: 'string',
  generatedAt: 'string',
} as const satisfies Record<keyof HtmlReportOptions, OptionKind>;

/** toHtml's options checked by their kinds, where one of another kind or left out failed with a TypeError ('s.replace is not a function'). */
function checkHtmlOptions(opts: HtmlReportOptions): void {
  checkOptionKinds('toHtml', checkOptions('toHtml', opts, '{title, source, generatedAt}'), HTML_OPTION_KINDS);
  if (opts.title === undefined) throw new SettingsError('toHtml: title: missing; expected a string (the page title)');
  checkStringOption('toHtml', 'source', opts.source, 'where the data came from (the store path)');
  checkStringOption('toHtml', 'generatedAt', opts.generatedAt, 'the time the report was generated (an ISO date)');
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; margin: 0 0 4px; } .meta { color: #555; font-size: 13px; margin-bottom: 16px; }
table { border-collapse: collapse; font-size: 12px; margin: 12px 0 24px; }
th, td { padding: 3px 6px; border-bottom: 1px solid #ddd; vertical-align: top; white-space: nowrap; }
td.wrap { white-space: normal; min-width: 180px; }
th { background: #f3f3f3; text-align: left; white-space: normal; } td.r { text-align: right; font-variant-numeric: tabular-nums; }
tr.baseline td { background: #fafaf0; } tr.stale td { color: #777; } tr.front td:first-child { border-left: 3px solid #2a7; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; } .charts figure { margin: 0; flex: 1 1 520px; max-width: 760px; }
.charts svg { width: 100%; height: auto; }
.table { overflow-x: auto; } .note { color: #555; font-size: 12px; max-width: 1100px; }
`;

/** '8 rows (2 baselines, 6 variants)': the table's rows, of which the baselines are no variants. */
function rowCount(data: ReportData): string {
  const baselines = data.rows.filter((r) => r.isBaseline).length;
  return `${counted(data.rows.length, 'row')} (${counted(baselines, 'baseline')}, ${counted(data.rows.length - baselines, 'variant')})`;
}

/** The page. `charts` holds the SVG text of each chart. */
export function toHtml(data: ReportData, charts: ReportCharts, opts: HtmlReportOptions): string {
  checkHtmlOptions(opts);
  const { header, rows, align } = displayTable(data);
  const th = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((cells, i) => {
      const r = data.rows[i]!;
      const cls = [r.isBaseline ? 'baseline' : '', r.frontBytes || r.frontLatency ? 'front' : '', r.stale !== null ? 'stale' : ''].filter(Boolean).join(' ');
      const tdClass = (j: number) => (align[j] === 'r' ? ' class="r"' : header[j] === 'parameters' ? ' class="wrap"' : '');
      return `<tr${cls ? ` class="${cls}"` : ''}>${cells.map((c, j) => `<td${tdClass(j)}>${escapeHtml(c)}</td>`).join('')}</tr>`;
    })
    .join('\n');
  const teacherPoints = charts.teacherSizePoints ?? teacherSizePoints(data);
  const teacherTables = teacherSizeTables(data, teacherPoints)
    .map(
      (t) =>
        `<div class="table teacher-size"><p class="note">${escapeHtml(t.caption)}</p><table>\n<thead><tr>${t.header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>\n<tbody>\n${t.rows
          .map((r) => `<tr>${r.map((c, j) => `<td${j > 0 ? ' class="r"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`)
          .join('\n')}\n</tbody>\n</table></div>\n`,
    )
    .join('');
  const notes = tableNotes(data, { teacherSize: teacherTables !== '', machines: false })
    .map((note) =>
      'text' in note
        ? `<p class="note">${escapeHtml(note.text)}</p>\n`
        : `<p class="note">${escapeHtml(note.heading)}</p>\n<ul class="note">${note.failed.map((f) => `<li>${escapeHtml(failedText(f))}</li>`).join('')}</ul>\n`,
    )
    .join('');
  const machine = machinesLine(data)?.replace(/\.$/, '') ?? 'Machine: unknown';
  // '<' is escaped so the JSON cannot close the script element.
  const json = toJson(data, teacherPoints).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(opts.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(opts.title)}</h1>
<div class="meta">${rowCount(data)} from ${escapeHtml(opts.source)} · generated ${escapeHtml(opts.generatedAt)} · ${escapeHtml(machine)}</div>
<div class="charts">
<figure id="pareto-bytes">${charts.bytes}</figure>
<figure id="pareto-latency">${charts.latency}</figure>
${charts.teacherSize ? `<figure id="teacher-size">${charts.teacherSize}</figure>\n` : ''}</div>
${teacherTables}<div class="table"><table>
<thead><tr>${th}</tr></thead>
<tbody>
${body}
</tbody>
</table></div>
<p class="note">Scores ×100 on GLUE dev. size and % of original are against the baseline row of the same model. speed-up is the
baseline's latency over the variant's, measured in the same run with interleaved repetitions (geometric mean over the bench
shapes). p50 ms: as measured at the first bench shape (${escapeHtml(describeLatencyShapes(data.rows))}). A row is on a front when no other row of its model in its sweep is smaller (faster) and as good or better, or as small (as fast) and better.</p>
<p class="note">${escapeHtml(SIZE_NOTE)}</p>
${notes}<script type="application/json" id="report-data">${json}</script>
</body>
</html>
`;
}
