/**
 * `compress report` as a library call: read the finished points of a store, build the rows, and write the table
 * in the asked formats plus both Pareto charts (SVG) into a folder.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { SettingsError } from '../errors.ts';
import { writeFileAtomic } from '../glue/atomic-write.ts';
import { SweepStore } from '../sweep/store.ts';
import { renderCharts } from './charts.ts';
import { toHtml } from './html.ts';
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
  const store = SweepStore.open(opts.store, { readonly: true });
  try {
    const points = store.finished(opts.sweep);
    if (points.length === 0) throw new SettingsError(`${opts.store}: no finished point${opts.sweep ? ` in sweep '${opts.sweep}'` : ''}`);
    return buildReport(points, store.failures(opts.sweep));
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
      return toHtml(data, await renderCharts(data), { title: `Compression report: ${basename(source)}`, source, generatedAt: new Date().toISOString() });
  }
}

/** Writes `report.<format>` for each format and `pareto-bytes.svg`, `pareto-latency.svg` into `outDir`; returns the paths. */
export async function writeReportFiles(data: ReportData, outDir: string, formats: readonly ReportFormat[], source: string): Promise<string[]> {
  const files: string[] = [];
  const charts = await renderCharts(data);
  for (const [kind, svg] of Object.entries(charts)) {
    const file = join(outDir, `pareto-${kind}.svg`);
    writeFileAtomic(file, svg);
    files.push(file);
  }
  for (const f of formats) {
    const file = join(outDir, `report.${f}`);
    const text = f === 'html' ? toHtml(data, charts, { title: `Compression report: ${basename(source)}`, source: resolve(source), generatedAt: new Date().toISOString() }) : await renderReport(data, f, source);
    writeFileAtomic(file, text);
    files.push(file);
  }
  return files;
}
