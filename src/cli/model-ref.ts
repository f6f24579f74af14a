/**
 * Model arguments of the CLI: a local path is used as it is; an `hf:org/name[@revision]` reference is downloaded
 * into the Hugging Face cache (and exported to ONNX once for a safetensors checkpoint) by the library's
 * resolveModelRef, which each command calls here, once per model argument. Progress and notices go to stderr.
 * Only the reference syntax (src/hub/ref.ts) is loaded at start-up; the hub code is loaded when a reference is given.
 */
import { isHubRef } from '../hub/ref.ts';
import { err } from './command.ts';

/** The local model path for a model argument (see the module comment). */
export async function localModel(arg: string): Promise<string>;
export async function localModel(arg: string | undefined): Promise<string | undefined>;
export async function localModel(arg: string | undefined): Promise<string | undefined> {
  if (arg === undefined || !isHubRef(arg)) return arg;
  const { resolveModelRef } = await import('../export/model-ref.ts');
  return resolveModelRef(arg, { log: err });
}

/** The snapshot folder of an `hf:` reference with its safetensors checkpoint (for `compress export`); paths unchanged. */
export async function localCheckpoint(arg: string): Promise<string> {
  if (!isHubRef(arg)) return arg;
  const { downloadCheckpoint } = await import('../export/model-ref.ts');
  return (await downloadCheckpoint(arg, { log: err })).dir;
}
