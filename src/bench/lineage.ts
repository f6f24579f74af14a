/**
 * Whether a benchmark's baseline is a model its subject was made from. A speed-up compares a model with the one it
 * was compressed or distilled from; checkComparable (inputs.ts) refuses baselines that cannot be compared at all,
 * and this says when the lineage sidecars (`MODEL.onnx.json`, written by compress, train and distill) show the two
 * are unrelated, e.g. a model cut from one teacher benchmarked against another teacher of the same shape.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { lineagePath, lineageSourceCandidates } from '../destination.ts';
import { sha256FileSync } from '../files.ts';
import { locateModel } from '../onnx/locate.ts';

/**
 * - 'ancestor': the baseline is the model's input, teacher or student init, or one of theirs; or the same input
 *   through a part of the model's passes (a transformers.js folder's onnx/model.onnx beside its q8 file, written from
 *   one input by the model's pipeline without its quantize steps);
 * - 'descendant': the other way round (the arguments swapped?);
 * - 'unrelated': the model's lineage is known and does not name the baseline (nor the baseline's the model);
 * - 'unknown': the model has no lineage sidecar (made by another tool).
 */
export type BaselineRelation = 'ancestor' | 'descendant' | 'unrelated' | 'unknown';

/** Keys of a lineage record that name models the output was made from (each a { path, sha256 } record). */
const SOURCE_KEYS = new Set(['input', 'teacher', 'student', 'lineage']);

/** A source as a lineage record names it: an input, a teacher (a distilled student's), a student init. */
export interface SourceRecord {
  path?: unknown;
  sha256?: unknown;
}

/** sha256FileSync memoized by resolved path: a file a chain names twice, or a baseline that is also a source, is read once. */
export function memoizedSha256Sync(): (file: string) => string {
  const hashes = new Map<string, string>();
  return (file) => {
    const at = resolve(file);
    if (!hashes.has(at)) hashes.set(at, sha256FileSync(at));
    return hashes.get(at)!;
  };
}

/**
 * The .onnx file (resolved; a folder stands for its model) that `source`, recorded in `sidecar`, names: the first of
 * its candidate paths (lineageSourceCandidates) that `wanted` takes and whose bytes hash to the record's sha256 (any
 * file, for a record without one: another tool's, or written by hand). A model written at that path since, or the
 * sidecar's own model (an older record's relative path read from the sidecar's folder), is not that source.
 */
export function lineageSource(source: SourceRecord, sidecar: string, wanted: (onnx: string) => boolean, hashOf: (file: string) => string): string | undefined {
  if (typeof source.path !== 'string') return undefined;
  for (const candidate of lineageSourceCandidates(source.path, sidecar)) {
    let onnx: string;
    try {
      onnx = resolve(locateModel(candidate).onnx); // (a folder: its model.onnx, or onnx/model.onnx)
    } catch {
      continue; // a source that moved or is a spec (bert:…, every-other): its record is all there is
    }
    if (!wanted(onnx)) continue;
    try {
      if (typeof source.sha256 !== 'string' || hashOf(onnx) === source.sha256) return onnx;
    } catch {
      // unreadable: not known to be that source
    }
  }
  return undefined;
}

/** The steps of a lineage record's passes (each { pass, version, settings }), or undefined for a record without a list of them. */
function recordSteps(record: unknown): Array<{ pass?: unknown }> | undefined {
  const passes = (record as { passes?: unknown } | undefined)?.passes;
  if (!Array.isArray(passes)) return undefined;
  const steps = passes.map((p) => (p as { step?: unknown } | null)?.step);
  return steps.every((t) => t && typeof t === 'object') ? (steps as Array<{ pass?: unknown }>) : undefined;
}

/** The lineage sidecar of `onnx` parsed, where it is a JSON object; undefined otherwise (none, unreadable, not an object). */
function readRecord(onnx: string): Record<string, unknown> | undefined {
  try {
    const r: unknown = JSON.parse(readFileSync(lineagePath(onnx), 'utf8'));
    return r && typeof r === 'object' ? (r as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // (no sidecar, or an unreadable one)
  }
}

/**
 * The mode of the quantize step that wrote `onnx` (its lineage's last pass: 'int8', 'int4-block:32', 'float16'), as
 * its --quantize flag takes it; undefined where its lineage names none.
 */
export function quantizedWith(onnx: string): string | undefined {
  const last = recordSteps(readRecord(onnx))?.at(-1) as { pass?: unknown; settings?: { mode?: unknown } } | undefined;
  return last?.pass === 'quantize' && typeof last.settings?.mode === 'string' ? last.settings.mode : undefined;
}

/**
 * The float model that `onnx` (a model stored quantized, as compress wrote it) was quantized from, as its lineage
 * sidecar tells it and where that file is still there with the bytes recorded: the input of a record whose only pass
 * is quantize; else, beside it (a transformers.js folder's onnx/model_quantized.onnx and onnx/model.onnx), the float
 * file `model.onnx` made from the same input by the same passes less the last quantize. Undefined otherwise.
 */
export function quantizedFrom(onnx: string, hashOf: (file: string) => string = memoizedSha256Sync()): string | undefined {
  const record = readRecord(onnx);
  const passes = recordSteps(record);
  if (!record || !passes || passes[passes.length - 1]?.pass !== 'quantize') return undefined;
  const input = record.input as SourceRecord | undefined;
  if (passes.length === 1 && input) {
    const found = lineageSource(input, lineagePath(onnx), (f) => f !== resolve(onnx), hashOf);
    if (found) return found;
  }
  const sibling = join(dirname(resolve(onnx)), 'model.onnx');
  if (sibling === resolve(onnx) || !existsSync(sibling)) return undefined;
  const other = readRecord(sibling);
  const otherPasses = recordSteps(other);
  const otherInput = other?.input as SourceRecord | undefined;
  const otherOutput = other?.output as SourceRecord | undefined;
  if (!otherPasses || JSON.stringify(otherPasses) !== JSON.stringify(passes.slice(0, -1))) return undefined;
  if (typeof input?.sha256 !== 'string' || otherInput?.sha256 !== input.sha256 || typeof otherOutput?.sha256 !== 'string') return undefined;
  try {
    return hashOf(sibling) === otherOutput.sha256 ? sibling : undefined;
  } catch {
    return undefined;
  }
}

/** A walk up the lineage sidecars from one model (lineageWalk), reaching each file once. */
export interface LineageWalk {
  /** The parsed lineage sidecar of `file` (a resolved .onnx); undefined where it has none, it cannot be read or is no object. */
  record(file: string): Record<string, unknown> | undefined;
  /**
   * The file `source`, recorded in the sidecar of `file`, names (lineageSource, by the walk's `hashOf`) where `wanted`
   * takes it and the walk has not reached it yet, then reached; else undefined.
   */
  follow(source: SourceRecord, file: string, wanted?: (onnx: string) => boolean): string | undefined;
}

/** A walk up the lineage sidecars from `onnx`, which it has reached (so a record naming it is not followed back to it). */
export function lineageWalk(onnx: string, hashOf: (file: string) => string): LineageWalk {
  const reached = new Set<string>([resolve(onnx)]);
  return {
    // (no sidecar, or an unreadable one: it names nothing)
    record: readRecord,
    follow(source, file, wanted = () => true) {
      const found = lineageSource(source, lineagePath(file), (f) => !reached.has(f) && wanted(f), hashOf);
      if (found) reached.add(found);
      return found;
    },
  };
}

/**
 * The sha256 of every model the lineage sidecar of `onnx` names as a source, following their own sidecars (each file
 * once, and only where it is the file its record hashed); undefined without one.
 */
export function sourceHashes(onnx: string, hashOf: (file: string) => string = memoizedSha256Sync()): Set<string> | undefined {
  if (!existsSync(lineagePath(onnx))) return undefined;
  const hashes = new Set<string>();
  const lineage = lineageWalk(onnx, hashOf);
  // (a source without a sidecar names nothing more: not hashed)
  const withSidecar = (file: string) => existsSync(lineagePath(file));
  const visit = (file: string, depth: number) => {
    if (depth > 16) return;
    const walk = (node: unknown) => {
      if (!node || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node)) {
        if (!SOURCE_KEYS.has(key) || !value || typeof value !== 'object') continue;
        const source = value as SourceRecord;
        if (typeof source.sha256 === 'string') hashes.add(source.sha256);
        const found = lineage.follow(source, file, withSidecar);
        if (found) visit(found, depth + 1);
        walk(value);
      }
    };
    walk(lineage.record(file));
  };
  visit(resolve(onnx), 0);
  return hashes;
}

/** The input hash and the pass steps (each as JSON) of the compress lineage sidecar of `onnx`, if it has one. */
function compressSteps(onnx: string): { input: string; steps: string[] } | undefined {
  try {
    const record = JSON.parse(readFileSync(lineagePath(onnx), 'utf8')) as { input?: { sha256?: unknown }; passes?: unknown };
    if (typeof record.input?.sha256 !== 'string' || !Array.isArray(record.passes)) return undefined;
    return { input: record.input.sha256, steps: record.passes.map((p) => JSON.stringify((p as { step?: unknown } | null)?.step ?? null)) };
  } catch {
    return undefined; // no sidecar, an unreadable one, or not compress's
  }
}

/** Whether `part` is `whole` with some steps left out (in the same order). */
function isSubsequence(part: readonly string[], whole: readonly string[]): boolean {
  let i = 0;
  for (const step of whole) if (i < part.length && part[i] === step) i++;
  return i === part.length;
}

/** How `baseline` relates to `model` by their lineage sidecars (both .onnx files). */
export async function baselineRelation(model: string, baseline: string): Promise<BaselineRelation> {
  const hashOf = memoizedSha256Sync();
  const modelSources = sourceHashes(model, hashOf);
  if (modelSources?.has(hashOf(baseline))) return 'ancestor';
  if (sourceHashes(baseline, hashOf)?.has(hashOf(model))) return 'descendant';
  // Two outputs of one input, one through a part of the other's passes: the fp32 file of a transformers.js folder
  // beside its q8 file (both written from the input, the fp32 one without the quantize steps), or a pipeline's
  // output beside the output of its first steps.
  const ours = compressSteps(model);
  const theirs = compressSteps(baseline);
  if (ours && theirs && ours.input === theirs.input) {
    if (isSubsequence(theirs.steps, ours.steps)) return 'ancestor';
    if (isSubsequence(ours.steps, theirs.steps)) return 'descendant';
  }
  return modelSources ? 'unrelated' : 'unknown';
}

/** The warning a benchmark shows for a baseline its lineage does not support, or undefined. */
export function describeRelation(relation: BaselineRelation | undefined, model: string, baseline: string): string | undefined {
  if (relation === 'unrelated')
    return `${baseline} is not among the models ${model} was compressed or distilled from (by its lineage file): the speed-up compares unrelated models`;
  if (relation === 'descendant')
    return `${baseline} was made from ${model}, not the other way round: the speed-up is inverted (swap --baseline and the model?)`;
  return undefined;
}
