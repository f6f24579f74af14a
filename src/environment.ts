/**
 * How bert-compress reads the environment variables it takes (BERT_COMPRESS_ORT_LOG_LEVEL, BERT_COMPRESS_MACHINE_LOAD,
 * GLUE_BASE_URL, the hub's HF_* variables): one rule for all of them.
 */

/**
 * The value of the environment variable `name` in `env` without the blanks around it; undefined where it is unset,
 * empty or blank (`X=' '` is unset, as `X=` is; `X=' off '` is off), as the hub's variables are read.
 */
export function environmentValue(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}
