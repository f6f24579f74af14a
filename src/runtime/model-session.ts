/**
 * Sessions over models held in memory (a student between epochs, a teacher with extra outputs, a model being
 * pruned). A model is handed to onnxruntime as its serialized bytes while that fits in one protobuf message; past
 * EXTERNAL_DATA_AUTO_THRESHOLD of initializers (an XLM-R-large-sized model: 2.2 GB) no such message exists, and
 * onnxruntime refuses the bytes, so the model is written to a temporary folder with its weights in an external data
 * file and opened from there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fsReason, namingUserPaths, quotedText, UserError } from '../errors.ts';
import { writeFileAtomic } from '../files.ts';
import { onInterrupt } from '../interrupt.ts';
import type { Model } from '../onnx/graph.ts';
import { EXTERNAL_DATA_AUTO_THRESHOLD, encodeModel, serializeExternal, serializeInMemory, totalInitializerBytes } from '../onnx/save.ts';
import { formatMB } from '../units.ts';
import { openSession, openSessionWith, type RuntimeOptions, type Session } from './session.ts';

export interface ModelSessionOptions extends RuntimeOptions {
  /** Initializer bytes past which the model goes through an external data file (default EXTERNAL_DATA_AUTO_THRESHOLD). */
  inlineLimit?: number;
  /**
   * Called with what onnxruntime is given, in order: the model's bytes, or the model's bytes (naming its external
   * data) and the data file's pieces. Hashing them identifies the model (a cache key) without serializing it again.
   */
  onSerialized?: (parts: readonly Uint8Array[]) => void;
  /**
   * Hand onnxruntime the model's initializers where they are, as in-memory external data (`serializeInMemory`), not
   * as a serialized copy: the peak of opening it is a model's weights lower (a trainer's dev evaluation, each epoch),
   * and no temporary file is written past the inline limit. The arrays must stay unchanged until the session is
   * released. `onSerialized` then gets the ModelProto and the tensors' bytes.
   */
  inPlace?: boolean;
  /**
   * Write onnxruntime's profile of the session's runs (JSON: an event per node run, with its duration, op type and
   * shapes) when it is released, to `<profilePrefix>_<date>.json` (onnxruntime's name): the training benchmark's
   * --profile.
   */
  profilePrefix?: string;
}

/** Opens an onnxruntime session on `model` (see the file's comment); nothing is left on disk. */
export async function openModelSession(model: Model, opts: ModelSessionOptions = {}): Promise<Session> {
  const { inlineLimit = EXTERNAL_DATA_AUTO_THRESHOLD, onSerialized, inPlace, profilePrefix, ...runtime } = opts;
  if (inPlace) {
    const serialized = serializeInMemory(model);
    onSerialized?.([serialized.model, ...serialized.files.map((f) => f.data)]);
    return openSessionWith(serialized.model, runtime, serialized.files, profilePrefix);
  }
  if (totalInitializerBytes(model) <= inlineLimit) {
    const bytes = encodeModel(model);
    onSerialized?.([bytes]);
    return profilePrefix === undefined ? openSession(bytes, runtime) : openSessionWith(bytes, runtime, undefined, profilePrefix);
  }
  const serialized = serializeExternal(model, 'model.onnx.data');
  onSerialized?.([serialized.model, ...serialized.data]);
  const parent = tmpdir();
  let dir: string | undefined;
  let forget: (() => void) | undefined;
  const remove = () => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  };
  try {
    let path: string;
    try {
      dir = mkdtempSync(join(parent, 'bert-compress-session-'));
      // Ctrl-C or SIGTERM while onnxruntime reads the model (seconds, for a model this large) removes the copy too
      forget = onInterrupt(remove);
      writeFileAtomic(join(dir, 'model.onnx.data'), serialized.data);
      path = join(dir, 'model.onnx');
      writeFileAtomic(path, serialized.model);
    } catch (e) {
      throw tempWriteError(e, parent, totalInitializerBytes(model), inlineLimit);
    }
    try {
      return await openSessionWith(path, runtime, undefined, profilePrefix);
    } catch (e) {
      // (a model in memory: the temporary copy it was written to is no file the caller knows of)
      throw namingUserPaths(e, [[path, 'model bytes']]);
    }
  } finally {
    // onnxruntime has read the weights (or mapped them, which outlives the file's name) once the session is open
    forget?.();
    remove();
  }
}

/**
 * A model past the inline limit cannot be opened without writing it to the temporary folder: a full, read-only or
 * missing one is refused in one line naming the folder, the size written and the fix (TMPDIR), where Node's error
 * escaped with a stack trace. Anything but a file system error (a bug) is given as it is.
 */
function tempWriteError(e: unknown, parent: string, weightBytes: number, inlineLimit: number): unknown {
  if (typeof (e as NodeJS.ErrnoException | undefined)?.code !== 'string') return e;
  return new UserError(
    `cannot write the model (${formatMB(weightBytes)} of weights, past the ${formatMB(inlineLimit)} onnxruntime is given in memory) to a temporary folder in ${quotedText(parent)} for onnxruntime to open: ${fsReason(e)}; set TMPDIR to a writable folder with room for it`,
    { cause: e },
  );
}
