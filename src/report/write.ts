/**
 * `compress report` as a library call: read the finished points of a store, build the rows, and write the table
 * in the asked formats plus both Pareto charts (SVG), and the teacher-size chart when the points have one, into a folder.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { checkOutputFile, checkOutputFolder, fileSystemError } from '../destination.ts';
import { SettingsError } from '../errors.ts';
import { writeFilesAtomic } from '../files.ts';
import { SweepStore } from '../sweep/store.ts';
import { renderCharts } from './charts.ts';
import { toHtml, type ReportCharts } from './html.ts';
import { renderTeacherSizeChart } from './teacher-size.ts';
import { buildReport, type ReportData } from './rows.ts';
import { toCsv, toJson, toMarkdown } from './table.ts';

export const REPORT_FORMATS = ['md', 'csv', 'json', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportOptions {
  /** The sweep store (SQLite). */
  store: string;
  /** Only the points of this sweep (default: all). */
  sweep?: string;
}

/** Reads a store into report data; a SettingsError when it is missing or has no finished point. */
export function loadReport(opts: ReportOptions): ReportData {
  if (!existsSync(opts.store)) throw new SettingsError(`${opts.store}: no such store (run 'compress sweep FILE --store ${opts.store}' first)`);
  if (statSync(opts.store).isDirectory()) throw new SettingsError(`${opts.store}: a folder, not a sweep store (give the .sqlite file a sweep wrote)`);
  const store = SweepStore.open(opts.store, { readonly: true });
  try {
    const points = store.finished(opts.sweep);
    const failed = store.failures(opts.sweep);
    if (points.length === 0) {
      const why = failed.map((f) => `${f.model} · ${f.label}: ${f.error}`).join('; ');
      throw new SettingsError(
        `${opts.store}: no finished point${opts.sweep ? ` in sweep '${opts.sweep}'` : ''}${failed.length > 0 ? `; ${failed.length} failed (a rerun of the sweep retries them): ${why}` : ''}`,
      );
    }
    return buildReport(points, failed);
  } finally {
    store.close();
  }
}

/** The report in one text format (HTML renders the charts). */
export async function renderReport(data: ReportData, format: ReportFormat, source: string): Promise<string> {
  switch (format) {
    case 'md':
      return toMarkdown(data);
    case 'csv':
      return toCsv(data);
    case 'json':
      return toJson(data);
    case 'html':
      return toHtml(data, await allCharts(data), { title: `Compression report: ${basename(source)}`, source, generatedAt: new Date().toISOString() });
  }
}

/** Both Pareto charts and the teacher-size chart (null when the points have none). */
async function allCharts(data: ReportData): Promise<ReportCharts> {
  return { ...(await renderCharts(data)), teacherSize: await renderTeacherSizeChart(data) };
}

/**
 * Writes `report.<format>` for each format, `pareto-bytes.svg`, `pareto-latency.svg` and (when the points have one)
 * `teacher-size.svg` into `outDir`, all of them or none; returns the paths written. The files of this command's own
 * names that an earlier report left there and this one does not rewrite (`report.<format>` of a format not asked
 * now, `teacher-size.svg` when the points have none) are removed, each named to `onRemoved`: a reader would take
 * them for the current report. Nothing else in the folder is touched.
 */
export async function writeReportFiles(
  data: ReportData,
  outDir: string,
  formats: readonly ReportFormat[],
  source: string,
  onRemoved?: (file: string) => void,
): Promise<string[]> {
  const label = `--out ${outDir}`;
  checkOutputFolder(outDir, label);
  for (const name of ['pareto-bytes.svg', 'pareto-latency.svg', 'teacher-size.svg', ...formats.map((f) => `report.${f}`)])
    checkOutputFile(join(outDir, name), label);
  const charts = await allCharts(data);
  const files: Array<readonly [string, string]> = (['bytes', 'latency'] as const).map((kind) => [join(outDir, `pareto-${kind}.svg`), charts[kind]] as const);
  const teacherSize = join(outDir, 'teacher-size.svg');
  if (charts.teacherSize) files.push([teacherSize, charts.teacherSize]);
  for (const f of formats) {
    const text =
      f === 'html'
        ? toHtml(data, charts, { title: `Compression report: ${basename(source)}`, source: resolve(source), generatedAt: new Date().toISOString() })
        : await renderReport(data, f, source);
    files.push([join(outDir, `report.${f}`), text]);
  }
  // all files or none: a full disk leaves the folder as it was
  try {
    writeFilesAtomic(files);
  } catch (e) {
    throw fileSystemError(e, undefined, label) ?? e;
  }
  // not one left from an earlier report into the same folder (only regular files of this command's names)
  const written = new Set(files.map(([file]) => file));
  for (const stale of [teacherSize, ...REPORT_FORMATS.map((f) => join(outDir, `report.${f}`))]) {
    if (written.has(stale) || !existsSync(stale) || !statSync(stale).isFile()) continue;
    try {
      rmSync(stale);
    } catch (e) {
      throw fileSystemError(e, stale, label) ?? e;
    }
    onRemoved?.(stale);
  }
  return files.map(([file]) => file);
}
