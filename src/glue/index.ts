/** Public API of the GLUE data layer: task definitions and lookup, reading splits, and downloading the data. */
export { GLUE_TASKS, SPLITS, type LabelFormat, type Split, type SplitFile, type TaskDefinition, type TaskName } from './tasks.ts';
export { getTask, lookupTasks, resolveTasks, suggestTaskNames, knownTaskNames, normalizeTaskName, singleTaskNames } from './registry.ts';
export { loadSplit, splitFile, type GlueDataset, type GlueExample } from './dataset.ts';
export { defaultGlueDir } from './glue-dir.ts';
export { parseTsv, readTsv, type TsvTable, type TsvRow } from './tsv.ts';
export { downloadGlue, selectSources, BASE_URL_ENV, type DownloadOptions, type DownloadedTask } from './download/download.ts';
export { GLUE_SOURCES, type RemoteFile, type TaskSource } from './download/sources.ts';
