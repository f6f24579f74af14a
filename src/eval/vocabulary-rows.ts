/**
 * Word tables of other sizes fed the same token ids: a teacher padded to 30528 rows (a multiple of 64) beside a
 * 30522-row student of bert-base's 30522-token tokenizer, which transformers and TextBrewer distil alike, and which
 * bench compares. Distillation (its run and a sweep's plan) and bench's baseline check judge them here, by one rule.
 */
import { DataError, SettingsError, counted } from '../errors.ts';
import { readVocabulary } from './tokenizer.ts';

/** A model's word table: its rows, and who it is in a refusal ('the student', "the model"). */
export interface WordTable {
  readonly who: string;
  readonly rows: number;
}

/**
 * The most token ids the tokenizer files of `dirs` give: their largest id + 1 (the vocabulary and its added tokens,
 * as readVocabulary reads them: transformers' len(tokenizer)), with the file of the folder giving most; undefined
 * where no folder has tokenizer files that read (one that does not is left to whoever reads it).
 */
export function tokenizerIds(dirs: readonly string[]): { file: string; count: number } | undefined {
  let most: { file: string; count: number } | undefined;
  for (const dir of dirs) {
    let read: ReturnType<typeof readVocabulary>;
    try {
      read = readVocabulary(dir);
    } catch (e) {
      if (e instanceof DataError || e instanceof SettingsError) continue;
      throw e;
    }
    if (!read) continue;
    let largest = -1;
    for (const id of read.vocab.values()) if (id > largest) largest = id;
    if (!most || largest + 1 > most.count) most = { file: read.file, count: largest + 1 };
  }
  return most;
}

/**
 * Whether word tables of other rows cannot all be fed the token ids the tokenizers beside them give: undefined where
 * they have the same rows, or where each holds every id the tokenizer files of `dirs` give (tokenizerIds); else the
 * problem: `past`, the tables those ids go past ("…/vocab.txt gives token ids up to 30521, past the student's 30000
 * rows"), or, where no tokenizer there tells, none (the rows differ, and nothing says the ids fit).
 */
export function tableRowsProblem(tables: readonly WordTable[], dirs: readonly string[]): { past?: string } | undefined {
  if (tables.every((t) => t.rows === tables[0]!.rows)) return undefined;
  const ids = tokenizerIds(dirs);
  if (!ids) return {};
  const short = tables.filter((t) => t.rows < ids.count);
  if (short.length === 0) return undefined;
  const rows = short.map((t, i) => (i === short.length - 1 ? `${t.who}'s ${counted(t.rows, 'row')}` : `${t.who}'s ${t.rows}`)).join(' and ');
  return { past: `${ids.file} gives token ids up to ${ids.count - 1}, past ${rows}` };
}
