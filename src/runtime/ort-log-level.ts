/**
 * onnxruntime's own log level, read from the environment. Its own module, without onnxruntime, so that the CLI checks
 * it before a command starts, at no cost to start-up.
 */
import { integerOfText, typedValueText, UsageError } from '../errors.ts';
import { environmentValue } from '../environment.ts';

/** Environment variable: onnxruntime's log severity, 0 (verbose) to 4 (fatal only, the default). */
export const ORT_LOG_LEVEL_ENV = 'BERT_COMPRESS_ORT_LOG_LEVEL';

/**
 * onnxruntime's own log level: fatal only (4) unless `BERT_COMPRESS_ORT_LOG_LEVEL` says 0 (verbose) to 3 (error); unset
 * or empty is 4, the level read as every integer typed is (integerOfText: `3.0`, `+3`, `3e0` are 3). Any other value (`verbose`, `7`) is a one-line UsageError (a bad value of the user's setting: exit 2) saying what it takes (the value shown as
 * every refused value of an environment variable is: typedValueText, `7` bare, `'verbose'` quoted), where it left the
 * log fatal-only without a word. Its errors reach the caller as exceptions, which the commands turn into one line;
 * printed too, they came first as a red `[E:onnxruntime:…]` line with a source location.
 */
export function ortLogLevel(env: Readonly<Record<string, string | undefined>> = process.env): 0 | 1 | 2 | 3 | 4 {
  const v = environmentValue(env, ORT_LOG_LEVEL_ENV);
  if (v === undefined) return 4;
  // (an integer written as every integer typed is read: integerOfText, `3.0`, `+3`, `3e0`)
  const level = integerOfText(v);
  if (level >= 0 && level <= 4) return (level + 0) as 0 | 1 | 2 | 3 | 4;
  throw new UsageError(`${ORT_LOG_LEVEL_ENV} ${typedValueText(v)}: expected 0 (verbose), 1 (info), 2 (warning), 3 (error) or 4 (fatal only, as when unset)`);
}
