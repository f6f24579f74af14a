/**
 * Model references for every model argument: a local path is returned as it is; `hf:org/name[@revision]` is
 * downloaded into the Hugging Face cache (src/hub) and becomes a local model folder. A repo with `onnx/model.onnx`
 * is used as its snapshot folder (config.json and the tokenizer beside it). A safetensors checkpoint is exported to
 * ONNX once (exportHuggingFaceFolder) into `<HF_HUB_CACHE>/models--org--name/bert-compress/<version>/<commit>/`
 * (model.onnx, config.json, tokenizer), written to a temporary folder renamed into place, and reused from then on,
 * offline too. A checkpoint without a classification head (a base model) gets its head seeded with seed 0, as
 * transformers does ("newly initialized"), and says so through `log`.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { temporaryPathFor } from '../files.ts';
import { readHuggingFaceConfig } from '../bert/build-hf.ts';
import { type Snapshot, type SnapshotOptions, type WeightsKind, downloadSnapshot, isHubRef } from '../hub/index.ts';
import { checkSnapshotOptions } from '../hub/snapshot.ts';
import { toolVersion } from '../version.ts';
import { exportHuggingFaceFolder } from './from-huggingface.ts';
import { checkStringOption } from '../library-args.ts';

export type ModelRefOptions = SnapshotOptions;

/** A model argument resolved to a local path, with the hub commit it came from. */
export interface ResolvedModelRef {
  /** Local .onnx file or model folder. */
  path: string;
  /** Set for an `hf:` reference. */
  hub?: {
    repo: string;
    revision: string;
    commit: string;
    /** `hf:org/name@<commit>`: the reference pinned to the commit. */
    pinned: string;
  };
}

/** A local model path for any model argument (see the module comment). Plain paths are returned unchanged. */
export async function resolveModelRef(ref: string, opts: ModelRefOptions = {}): Promise<string> {
  return (await resolveSource('resolveModelRef', ref, opts)).path;
}

/** Like resolveModelRef, also giving the commit an `hf:` reference resolved to. */
export async function resolveModelSource(ref: string, opts: ModelRefOptions = {}): Promise<ResolvedModelRef> {
  return resolveSource('resolveModelSource', ref, opts);
}

/** resolveModelSource, its refusals naming `fn`, the function the caller called. */
async function resolveSource(fn: string, ref: string, opts: ModelRefOptions): Promise<ResolvedModelRef> {
  checkStringOption(fn, 'ref', ref, 'a model path or hf:org/name[@revision]');
  checkSnapshotOptions(fn, opts); // (a local path's too, before any request)
  if (!isHubRef(ref)) return { path: ref };
  const snapshot = await downloadSnapshot(ref, { ...opts, checkConfig: checkpointConfigCheck(ref, opts.checkConfig) });
  const hub = { repo: snapshot.ref.repo, revision: snapshot.ref.revision, commit: snapshot.commit, pinned: `hf:${snapshot.ref.repo}@${snapshot.commit}` };
  if (snapshot.weights === 'onnx') return { path: snapshot.dir, hub };
  return { path: await buildFromSnapshot(snapshot, opts.log), hub };
}

/**
 * The snapshot folder of an `hf:` reference with its safetensors checkpoint, even where the repo also has an ONNX
 * export (for `compress export`, which reads the checkpoint).
 */
export async function downloadCheckpoint(ref: string, opts: ModelRefOptions = {}): Promise<Snapshot> {
  return downloadSnapshot(ref, { ...opts, prefer: 'safetensors', checkConfig: checkpointConfigCheck(ref, opts.checkConfig) });
}

/**
 * SnapshotOptions.checkConfig of a reference: a safetensors checkpoint's config.json must be one the export builds
 * (refused in the export's words, naming the reference), checked before the weights are downloaded; then the
 * caller's own check (`theirs`, its options' checkConfig), which was dropped: never called.
 */
function checkpointConfigCheck(ref: string, theirs?: SnapshotOptions['checkConfig']): (file: string, weights: WeightsKind) => void {
  return (file, weights) => {
    if (weights !== 'onnx') readHuggingFaceConfig(file, `${ref} (config.json)`);
    theirs?.(file, weights);
  };
}

/** Where the ONNX export of a safetensors snapshot goes. */
export function exportedModelDir(snapshot: Pick<Snapshot, 'repoDir' | 'commit'>): string {
  return join(snapshot.repoDir, 'bert-compress', toolVersion(), snapshot.commit);
}

async function buildFromSnapshot(snapshot: Snapshot, log?: (line: string) => void): Promise<string> {
  const dir = exportedModelDir(snapshot);
  if (existsSync(join(dir, 'model.onnx'))) return dir;
  const tmp = temporaryPathFor(dir);
  try {
    await exportHuggingFaceFolder(snapshot.dir, join(tmp, 'model.onnx'), { log, label: snapshot.ref.text }); // a missing head seeded
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (existsSync(join(dir, 'model.onnx'))) return dir; // another process built it first
    throw e;
  }
  log?.(`${snapshot.ref.text}: exported the safetensors checkpoint to ${join(dir, 'model.onnx')}`);
  return dir;
}
