/** Public API of reports: rows from a store, Pareto fronts, the table formats, the Pareto and teacher-size charts and the HTML page. */
export { dominates, paretoMask, paretoFront, paretoMaskBy, type Objective, type Direction } from './pareto.ts';
export {
  buildReport,
  dataRead,
  describeSteps,
  type DataRead,
  type FailedPoint,
  type RelocatedStore,
  type ReportRow,
  type ReportData,
  type ShownOncePoint,
  type UnfinishedPoint,
} from './rows.ts';
export { toMarkdown, toCsv, toJson, displayTable, formatMetrics } from './table.ts';
export { chartSpec, chartPoints, renderSvg, renderCharts, type ChartKind, type ChartPoint } from './charts.ts';
export {
  teacherSizePoints,
  teacherSizeSpec,
  teacherSizeTables,
  teacherSizeMarkdown,
  renderTeacherSizeChart,
  teacherPathMatches,
  plannedTeacherSha256,
  TEACHER_SERIES,
  type TeacherSizePoint,
  type TeacherSizeTable,
} from './teacher-size.ts';
export { toHtml, escapeHtml, type HtmlReportOptions, type ReportCharts } from './html.ts';
export {
  loadReport,
  staleChanges,
  dataChanges,
  renderReport,
  REPORT_FORMATS,
  REPORT_RECORD,
  type EarlierReportFile,
  type ReportFormat,
  type ReportOptions,
} from './write.ts';
export { writeReportFiles } from './library.ts';
