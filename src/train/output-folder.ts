/**
 * The model folder `compress train` / `distill` writes: the model, its lineage `OUT.json`, and beside them
 * config.json (written for the trained model) and the tokenizer files (copied from the tokenizer's folder). A
 * folder describes one model: config.json or tokenizer files of another model already there (an unrelated model's
 * folder, a teacher's or tokenizer's own folder) are refused before any work, as the written model would be read with
 * them or they would be replaced under the model they describe; `force` writes over them. The run's own earlier
 * output at the same path (a rerun, a resumed run) is written over as it is.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { lineagePath, refuseForeignSideFiles } from '../destination.ts';
import { MODEL_SIDE_FILES, TOKENIZER_FILES, copyModelFiles, readJsonObject, readModelFiles } from '../eval/model-files.ts';
import { tokenizerClassToName } from '../eval/tokenizer.ts';
import { removeStaleTemporariesIn, writeFileAtomic } from '../files.ts';
import { projectionsPath } from './projections.ts';

/** What was written beside a trained model (recorded in its lineage, said by the CLI). */
export interface SideFilesRecord {
  /** The folder holding them: the model's. */
  folder: string;
  /** config.json, written for this model. */
  config: string;
  /** The tokenizer files beside the model, by name, and the folder they came from. */
  tokenizer: { from: string; files: string[] };
}

/** True when `output`'s lineage is bert-compress's: a model this project wrote at that path, with its side files. */
function ownOutput(output: string): boolean {
  try {
    const lineage = JSON.parse(readFileSync(lineagePath(output), 'utf8')) as { tool?: { name?: unknown } } | null;
    return lineage?.tool?.name === 'bert-compress';
  } catch {
    return false;
  }
}

/** Two files with the same bytes (false when either cannot be read). */
function sameBytes(a: string, b: string): boolean {
  try {
    return resolve(a) === resolve(b) || readFileSync(a).equals(readFileSync(b));
  } catch {
    return false;
  }
}

/**
 * Throws a one-line SettingsError when the folder of `output` holds another model's config.json or tokenizer files:
 * a config.json (the run writes its own), or a tokenizer file that is not the same as `tokenizerDir`'s (another
 * vocabulary, or one the tokenizer has no such file for). Those of this output's earlier run are its own: `output`
 * has bert-compress's lineage, or `workDir` (its checkpoints) is there, a run of it that stopped before the end.
 * `force` skips the check. A tokenizer file of `tokenizerDir` that cannot be read is a one-line DataError.
 */
export function checkOutputSideFiles(output: string, tokenizerDir: string, workDir: string, label: string, force = false): void {
  readModelFiles(tokenizerDir, TOKENIZER_FILES); // the run copies them at its end: one it cannot read refuses it now
  if (force || ownOutput(output) || existsSync(workDir)) return;
  const outDir = dirname(resolve(output));
  const foreign = MODEL_SIDE_FILES.filter((name) => {
    const there = join(outDir, name);
    if (!existsSync(there)) return false;
    return name === 'config.json' || !sameBytes(join(tokenizerDir, name), there);
  });
  refuseForeignSideFiles(outDir, foreign, label);
}

/**
 * Writes `config` (naming the tokenizer's class where its model_type would name another: withTokenizerClass) as
 * config.json beside `output` and copies the tokenizer files of `tokenizerDir` there; tokenizer
 * files the tokenizer has none of (another model's, or an earlier run's with another tokenizer) are removed, so the
 * folder describes this model alone.
 */
export function writeOutputSideFiles(output: string, config: Record<string, unknown>, tokenizerDir: string): SideFilesRecord {
  const folder = dirname(output);
  writeConfig(folder, withTokenizerClass(config, tokenizerDir));
  copyModelFiles(tokenizerDir, folder, TOKENIZER_FILES);
  for (const name of TOKENIZER_FILES) {
    if (!existsSync(join(tokenizerDir, name))) rmSync(join(folder, name), { force: true });
  }
  // what a run killed while writing these (or the lineage, or a distill's learned projections) left beside them, as
  // saveModel removes the model's
  removeStaleTemporariesIn(folder, ['config.json', ...TOKENIZER_FILES, basename(lineagePath(output)), basename(projectionsPath(output))]);
  return { folder, config: 'config.json', tokenizer: { from: tokenizerDir, files: TOKENIZER_FILES.filter((f) => existsSync(join(folder, f))) } };
}

/** Writes `config` as the config.json of `folder`. */
function writeConfig(folder: string, config: Record<string, unknown>): void {
  writeFileAtomic(join(folder, 'config.json'), Buffer.from(JSON.stringify(config, null, 2) + '\n'));
}

/**
 * `config` naming the tokenizer class of `tokenizerDir`'s files where its model_type would name another
 * (tokenizerClassToName: a bert: or bilstm: student of an ALBERT, XLM-R, RoBERTa or DistilBERT teacher, whose
 * SentencePiece model is then read as the teacher's tokenizer); `config` itself where nothing need be named.
 */
function withTokenizerClass(config: Record<string, unknown>, tokenizerDir: string): Record<string, unknown> {
  const tokenizerClass = tokenizerClassToName(tokenizerDir, config);
  return tokenizerClass === undefined ? config : { ...config, tokenizer_class: tokenizerClass };
}

/**
 * Names in the config.json beside trained model `output` (its tokenizer files copied from `tokenizerDir`) the tokenizer
 * class writeOutputSideFiles names now, where an earlier version wrote the folder without it (a sweep's reused distill
 * stage, whose training is the same): true where it rewrote the file, as writeOutputSideFiles writes it.
 */
export function nameTokenizerClassIn(output: string, tokenizerDir: string): boolean {
  const folder = dirname(output);
  const config = readJsonObject(join(folder, 'config.json'));
  const named = withTokenizerClass(config, tokenizerDir);
  if (named === config) return false;
  writeConfig(folder, named);
  return true;
}
