/**
 * Model arguments of the CLI: a local path is used as it is; an `hf:org/name[@revision]` reference is downloaded
 * into the Hugging Face cache (and exported to ONNX once for a safetensors checkpoint) by the library's
 * resolveModelRef, which each command calls here, once per model argument. Progress and notices go to stderr.
 * Only the reference syntax (src/hub/ref.ts) is loaded at start-up; the hub code is loaded when a reference is given.
 */
import { existsSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import { HubError } from '../hub/errors.ts';
import { isHubRef, parseHubRef } from '../hub/ref.ts';
import { err } from './command.ts';

/**
 * Refuses, as a usage mistake (a UsageError: exit 2), a model argument written as a hub reference that is none
 * (`hf:org/x@`, `hf:`, `hf:a/b/c`: parseHubRef's line), before any download: a command taking two model arguments
 * (distill's --teacher and --student, bench's model and --baseline) checks both first.
 */
export function checkModelRefs(...args: ReadonlyArray<string | undefined>): void {
  for (const arg of args) {
    if (arg === undefined || !isHubRef(arg)) continue;
    try {
      parseHubRef(arg);
    } catch (e) {
      throw e instanceof HubError ? new UsageError(e.message, { cause: e }) : e;
    }
  }
}

/**
 * Refuses, as a usage mistake (a UsageError: exit 2), a --tokenizer written as a hub reference (`hf:org/name`), which
 * no --tokenizer reads (it takes a local folder or file; an `hf:` model argument brings its own tokenizer files), before
 * any download; a local path of that name is read as it is.
 */
export function checkTokenizerRef(tokenizer: string | undefined): void {
  if (tokenizer === undefined || !isHubRef(tokenizer) || existsSync(tokenizer)) return;
  throw new UsageError(
    `--tokenizer ${tokenizer}: a hub reference, which --tokenizer does not take: give a local tokenizer folder or file (an hf: model argument brings its own tokenizer files)`,
  );
}

/** The local model path for a model argument (see the module comment). */
export async function localModel(arg: string): Promise<string>;
export async function localModel(arg: string | undefined): Promise<string | undefined>;
export async function localModel(arg: string | undefined): Promise<string | undefined> {
  if (arg === undefined || !isHubRef(arg)) return arg;
  checkModelRefs(arg);
  const { resolveModelRef } = await import('../export/model-ref.ts');
  return resolveModelRef(arg, { log: err });
}

/** The snapshot folder of an `hf:` reference with its safetensors checkpoint (for `compress export`); paths unchanged. */
export async function localCheckpoint(arg: string): Promise<string> {
  if (!isHubRef(arg)) return arg;
  checkModelRefs(arg);
  const { downloadCheckpoint } = await import('../export/model-ref.ts');
  return (await downloadCheckpoint(arg, { log: err })).dir;
}
