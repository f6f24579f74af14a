/**
 * writeReportFiles as the package exports it (bert-compress, /report): its refusals name the arguments and options a
 * library caller gives (`outDir X: …`, `force`), where they named the flags of `compress report` (`--out X: …`, `pass
 * --force`), as compressFile's and evaluate's do (src/flag-names.ts). `compress report` runs that of ./write.ts.
 */
import { namingSettings, type FlagNames } from '../flag-names.ts';
import { writeReportFiles as writeReportFilesNamingFlags } from './write.ts';

/** writeReportFiles' arguments and options by the flags of `compress report` its refusals name (renameFlags). */
export const REPORT_OPTION_NAMES: FlagNames = { '--out': 'outDir', '--force': 'force' };

/** Writes the report's files into `outDir` (see writeReportFiles in ./write.ts), its refusals naming the arguments and options given. */
export function writeReportFiles(...args: Parameters<typeof writeReportFilesNamingFlags>): ReturnType<typeof writeReportFilesNamingFlags> {
  return namingSettings(REPORT_OPTION_NAMES, () => writeReportFilesNamingFlags(...args));
}
