/**
 * Training checkpoints, for resuming after the process is killed. A checkpoint is one safetensors file,
 * `checkpoint-<step>.safetensors`, holding the parameters (`param/<name>`), the AdamW moments
 * (`adam/exp_avg/<name>`, `adam/exp_avg_sq/<name>`) as raw float32, and the rest (step, epoch, optimizer step
 * counts and hyperparameters, the caller's `extra` JSON) as JSON in its `__metadata__`. Any safetensors reader can
 * open it. The metadata also holds a SHA-256 of the tensors, checked on reading.
 *
 * Files are written under a temporary name and renamed (`writeSafetensors` → `writeFileAtomic`), so a kill during a
 * save leaves the previous checkpoints whole and never a half-written file under a checkpoint's name. Older
 * checkpoints are deleted only after the new one is in place; by default the newest two are kept, so a damaged
 * newest file (disk trouble, not a kill) still leaves one to resume from.
 */
import { sha256Bytes, temporaryTarget } from '../files.ts';
import { processAlive } from '../processes.ts';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, quotedText, valueText } from '../errors.ts';
import { readSafetensors, writeSafetensors, type SafetensorsInput } from '../bert/safetensors.ts';
import type { AdamWState } from './optimizer.ts';

const FORMAT = 'bert-compress-checkpoint/1';
const FILE_PATTERN = /^checkpoint-(\d+)\.safetensors$/;

export interface Checkpoint {
  /** Optimizer steps done. */
  step: number;
  /** The epoch in progress (or the next one, as the caller defines it). */
  epoch: number;
  params: ReadonlyMap<string, Float32Array>;
  optimizer: AdamWState;
  /** Anything else the trainer needs to resume (data position, RNG seeds, settings); JSON. */
  extra?: unknown;
}

export interface SaveCheckpointOptions {
  /** Checkpoints kept, the new one included (default 2, at least 1). */
  keep?: number;
}

/** The metadata JSON stored with the tensors. */
interface CheckpointMeta {
  step: number;
  epoch: number;
  params: string[];
  optimizer: Omit<AdamWState, 'expAvg' | 'expAvgSq'>;
  extra: unknown;
}

/** The checkpoint file of `step` in `dir`. */
export function checkpointPath(dir: string, step: number): string {
  return join(dir, `checkpoint-${step}.safetensors`);
}

/** The checkpoint files in `dir`, newest (highest step) first; none when the folder does not exist. */
export function listCheckpoints(dir: string): Array<{ step: number; path: string }> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names
    .map((n) => FILE_PATTERN.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ step: Number(m[1]), path: join(dir, m[0]) }))
    .sort((a, b) => b.step - a.step);
}

/**
 * Writes a checkpoint atomically and returns its path. Then removes temporary files of killed saves, checkpoints of
 * later steps (a run restarted from an earlier checkpoint supersedes them) and all but the `keep` newest.
 */
export function saveCheckpoint(dir: string, c: Checkpoint, opts: SaveCheckpointOptions = {}): string {
  const keep = opts.keep ?? 2;
  if (!(Number.isInteger(keep) && keep >= 1)) throw new RangeError(`'keep' must be an integer ≥ 1, got ${keep}`);
  if (!(Number.isSafeInteger(c.step) && c.step >= 0)) throw new RangeError(`checkpoint 'step' must be an integer ≥ 0, got ${c.step}`);
  if (!(Number.isSafeInteger(c.epoch) && c.epoch >= 0)) throw new RangeError(`checkpoint 'epoch' must be an integer ≥ 0, got ${c.epoch}`);
  const tensors = new Map<string, SafetensorsInput>();
  const add = (name: string, data: Float32Array) => tensors.set(name, { dims: [data.length], data });
  for (const [name, p] of c.params) add(`param/${name}`, p);
  for (const [name, m] of c.optimizer.expAvg) add(`adam/exp_avg/${name}`, m);
  for (const [name, v] of c.optimizer.expAvgSq) add(`adam/exp_avg_sq/${name}`, v);
  const { format, betas, eps, weightDecay, steps } = c.optimizer;
  const meta: CheckpointMeta = {
    step: c.step,
    epoch: c.epoch,
    params: [...c.params.keys()],
    optimizer: { format, betas, eps, weightDecay, steps },
    extra: c.extra ?? null,
  };
  const path = checkpointPath(dir, c.step);
  const sha256 = tensorsSha256([...tensors].map(([name, t]) => [name, t.data as Float32Array]));
  writeSafetensors(path, tensors, { format: FORMAT, checkpoint: JSON.stringify(meta), sha256 });
  removeSuperseded(dir, c.step, keep);
  return path;
}

/** Deletes other processes' temporary files, checkpoints after `step`, and checkpoints beyond the newest `keep`. */
function removeSuperseded(dir: string, step: number, keep: number): void {
  // temporaries `writeFileAtomic` left when killed mid-write (the folder is one run's: any other process's)
  for (const name of readdirSync(dir)) {
    const t = temporaryTarget(name);
    if (t && FILE_PATTERN.test(t.target) && t.pid !== process.pid) rmSync(join(dir, name), { force: true });
  }
  const older = listCheckpoints(dir).filter((f) => f.step !== step);
  for (const f of older.filter((f) => f.step > step)) rmSync(f.path, { force: true });
  for (const f of older.filter((f) => f.step < step).slice(keep - 1)) rmSync(f.path, { force: true });
}

/** Deletes the checkpoint temporaries in `dir` of processes no longer running (the folder is one run's). */
function removeDeadTemporaries(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // no folder (a fresh run), or one this run cannot list: listCheckpoints says so
  }
  for (const name of names) {
    const t = temporaryTarget(name);
    if (t && FILE_PATTERN.test(t.target) && t.pid !== process.pid && !processAlive(t.pid)) rmSync(join(dir, name), { force: true });
  }
}

/**
 * SHA-256 of the tensors' names and float32 bytes, by name: stored in the metadata, so that bytes garbled in place
 * (a whole file of the right length) are found on reading, as the teacher-logits cache finds them.
 */
function tensorsSha256(tensors: ReadonlyArray<readonly [string, Float32Array]>): string {
  const sorted = [...tensors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha256Bytes(sorted.flatMap(([name, data]) => [Buffer.from(`${name}\0`), new Uint8Array(data.buffer, data.byteOffset, data.byteLength)]));
}

/** Reads one checkpoint file; DataError if it is not a whole checkpoint or its tensors fail the checksum. */
export function readCheckpoint(path: string): Checkpoint {
  const file = readSafetensors(path);
  const fail = (why: string): never => {
    throw new DataError(`${path}: ${why}`);
  };
  if (file.metadata.format !== FORMAT) fail(`not a bert-compress checkpoint (format ${valueText(file.metadata.format)})`);
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(file.metadata.checkpoint ?? '') as CheckpointMeta;
  } catch {
    return fail('checkpoint metadata is not valid JSON');
  }
  // checkpoints written before the checksum have none; the others must match it
  if (file.metadata.sha256 !== undefined && tensorsSha256([...file.tensors].map(([name, t]) => [name, t.data])) !== file.metadata.sha256) {
    fail('tensor checksum mismatch (bytes changed since it was written)');
  }
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (
    !isObject(meta) ||
    !Number.isSafeInteger(meta.step) ||
    !Number.isSafeInteger(meta.epoch) ||
    !Array.isArray(meta.params) ||
    !isObject(meta.optimizer) ||
    !isObject(meta.optimizer.steps)
  ) {
    fail('checkpoint metadata lacks step, epoch, params or optimizer steps');
  }
  const tensor = (name: string): Float32Array => {
    const t = file.tensors.get(name);
    if (t?.dtype !== 'F32') return fail(`tensor ${quotedText(name)} is missing or not F32`);
    return t.data;
  };
  const params = new Map(meta.params.map((name) => [name, tensor(`param/${name}`)]));
  const names = Object.keys(meta.optimizer.steps);
  const optimizer: AdamWState = {
    ...meta.optimizer,
    expAvg: new Map(names.map((n) => [n, tensor(`adam/exp_avg/${n}`)])),
    expAvgSq: new Map(names.map((n) => [n, tensor(`adam/exp_avg_sq/${n}`)])),
  };
  return { step: meta.step, epoch: meta.epoch, params, optimizer, extra: meta.extra };
}

/**
 * The newest readable checkpoint in `dir`, or undefined when there is none. A newest file that cannot be read is
 * reported through `log` and the next one is tried; if checkpoints exist but none is readable, that is a DataError
 * (starting over silently would lose the run). The temporaries of saves whose process is gone (killed while writing)
 * are removed first: a resumed run leaves none of them in the folder, though it may write no checkpoint of its own.
 */
export function loadCheckpoint(dir: string, opts: { log?: (line: string) => void } = {}): Checkpoint | undefined {
  const files = listCheckpoints(dir);
  removeDeadTemporaries(dir);
  const problems: string[] = [];
  for (const f of files) {
    try {
      return readCheckpoint(f.path);
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      problems.push(e.message);
      opts.log?.(`skipping unreadable checkpoint: ${e.message}`);
    }
  }
  if (files.length) throw new DataError(`${dir}: no readable checkpoint (${problems.join('; ')})`);
  return undefined;
}
