/**
 * `compress report STORE [--format md|csv|json|html] [--out DIR]`: the variant table of a sweep store. Without
 * --out the table is printed in the one format asked (default md; several need --out); with --out,
 * `report.<format>` for each format asked (default all four) and both Pareto charts (`pareto-bytes.svg`,
 * `pareto-latency.svg`) are written there, with `.compress-report.json`, the record of what was written (an earlier
 * report's files of other formats there are removed when the record lists them unchanged; any other file of those
 * names is kept and named; one it would rewrite that was edited since, or that it did not write, is refused unless
 * --force), and the Markdown report (report.md's text) is printed.
 */
import type { Argv } from 'yargs';
import { choiceRefusal, UsageError, valueText } from '../../errors.ts';
import { settingWord } from '../../pass/settings.ts';
import { loadReport, renderReport, REPORT_FORMATS, type EarlierReportFile, type ReportFormat } from '../../report/index.ts';
// (compress report's writeReportFiles, whose refusals name its flags: the package's names the caller's arguments, ../../report/library.ts)
import { writeReportFiles } from '../../report/write.ts';
import { checkFolderFlags, out, outText, err, type CliCommand } from '../command.ts';

interface ReportArgs {
  store: string;
  format?: string[];
  out?: string;
  sweep?: string;
  force?: boolean;
}

/** '--format md,html' or repeated flags → the formats; a UsageError for an unknown one, or a value naming none. */
export function parseFormats(values: readonly string[] | undefined): ReportFormat[] | undefined {
  if (!values || values.length === 0) return undefined;
  // (a value naming no format, `--format ''` or `--format ,`: an empty value, as every flag's, where it asked for no
  // table, and with --out wrote the charts alone and removed an earlier report's tables)
  const empty = values.find((v) =>
    String(v)
      .split(',')
      .every((s) => s.trim() === ''),
  );
  if (empty !== undefined) throw new UsageError(`--format ${valueText(String(empty))}: an empty value; give one (see --help)`);
  const typed = values
    .flatMap((v) => String(v).split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  // (each read as a setting's word: any letter case, HTML is html; an unknown format quoted as typed)
  const formats = typed.map((f) => settingWord(f, REPORT_FORMATS));
  const unknown = formats.find((f) => !(REPORT_FORMATS as readonly unknown[]).includes(f));
  if (unknown !== undefined) throw new UsageError(choiceRefusal('--format', unknown, REPORT_FORMATS));
  return [...new Set(formats)] as ReportFormat[];
}

export const reportCommand: CliCommand<ReportArgs> = {
  command: 'report <store>',
  runsOnnxruntime: false,
  describe: 'Table (md, csv, json, html) and Pareto charts of every variant in a sweep store',
  builder: (y: Argv) =>
    y
      .positional('store', { type: 'string', demandOption: true, describe: 'SQLite store written by compress sweep' })
      .option('format', {
        type: 'string',
        array: true,
        describe: 'md | csv | json | html (comma-separated or repeated; several need --out; default: md printed, or all four with --out)',
      })
      .option('out', {
        type: 'string',
        describe:
          "write report.<format> files and the SVG charts into this folder (an earlier report's files of other formats there are removed if unchanged; nothing else)",
      })
      .option('force', {
        type: 'boolean',
        describe: 'with --out: write over report files and charts there that were edited since compress report wrote them, or that it did not write',
      })
      .option('sweep', { type: 'string', describe: 'only the points of this sweep (by name)' }) as unknown as Argv<ReportArgs>,
  run: async (args) => {
    const formats = parseFormats(args.format);
    if (args.out === undefined && formats && formats.length > 1)
      throw new UsageError(`--format ${formats.join(',')}: one format at a time on stdout; give --out DIR to write several`);
    // (--force is read by --out's writing alone: without it, printed, it went unread)
    if (args.out === undefined && args.force)
      throw new UsageError('--force: writes over report files and charts in the --out folder, and this run prints the report; give --out DIR too, or drop it');
    checkFolderFlags({ '--out': args.out });
    const data = loadReport({ store: args.store, sweep: args.sweep });
    if (args.out === undefined) {
      outText(await renderReport(data, formats?.[0] ?? 'md', args.store));
      return 0;
    }
    const earlier: EarlierReportFile[] = [];
    const files = await writeReportFiles(data, args.out, formats ?? REPORT_FORMATS, args.store, (e) => earlier.push(e), { force: args.force === true });
    outText(await renderReport(data, 'md', args.store)); // (what report.md holds: the table and the teacher-size tables)
    out();
    for (const f of files) err(`wrote ${f}`);
    for (const e of earlier) err(e.removed ? `removed ${e.file} (${e.reason})` : `kept ${e.file}, not part of this report: ${e.reason}`);
    return 0;
  },
};
