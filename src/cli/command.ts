/**
 * How a CLI command is declared: a yargs command module whose handler returns an exit code. Commands only parse
 * flags into typed options, call library functions and print; they hold no compression or evaluation logic.
 */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { SettingsError, UsageError } from '../errors.ts';
import { checkFolderOutputName, checkFolderPath } from '../destination.ts';
import { checkModelOutputName } from '../export/destination.ts';

export interface GlobalFlags {
  verbose?: boolean;
}

export interface CliCommand<A = object> {
  /** yargs command string, e.g. 'inspect <model>'. */
  command: string | readonly string[];
  describe: string;
  /** Declares the flags; may be async (yargs awaits it), e.g. to read defaults from a lazily loaded library. */
  builder: (y: Argv<GlobalFlags>) => Argv<A> | Promise<Argv<A>>;
  /** Runs the command; resolves to the process exit code. */
  run: (args: ArgumentsCamelCase<A & GlobalFlags>) => Promise<number>;
  /**
   * false for a command that never starts onnxruntime (report, passes, data): BERT_COMPRESS_ORT_LOG_LEVEL, which it
   * never reads, is not checked for it (every other command refuses a value it cannot read before it runs).
   */
  runsOnnxruntime?: false;
}

/**
 * --force of the commands that write a model folder (compress, export, train, distill): without it, an output folder
 * holding another model's config.json or tokenizer files is refused before any work.
 */
export const FORCE_FLAG = {
  type: 'boolean',
  default: false,
  describe: "write over another model's config.json and tokenizer files in the output's folder (refused otherwise)",
} as const;

/**
 * --tokenizer of the commands that read one (compress, eval, train, distill): `use`, what the command reads it for and
 * its default, follows what it takes, said once for all of them.
 */
export function tokenizerFlag(use: string) {
  return {
    type: 'string',
    describe: `tokenizer folder or file (tokenizer.json, vocab.txt, vocab.json with merges.txt, or an ALBERT / XLM-R / CamemBERT SentencePiece model; a file names its folder) ${use}`,
  } as const;
}

/** The length where no --max-length is given, as evalLength and runMaxLength take it (eval, training, calibration). */
const MAX_LENGTH_DEFAULT = "(default: config.json's max_length, else the length the model's inputs fix, else 128 or the tokenizer's smaller model_max_length)";

/**
 * --max-length of the commands that feed examples to a model (eval, train, distill): the length where none is given,
 * said once for all of them (and compress's calibration: COMPRESS_MAX_LENGTH_FLAG).
 */
export const MAX_LENGTH_FLAG = { type: 'number', describe: `maximum tokens per example ${MAX_LENGTH_DEFAULT}` } as const;

/** compress's --max-length: its --calibrate examples', cut by the same default as the other commands' examples. */
export const COMPRESS_MAX_LENGTH_FLAG = { type: 'number', describe: `maximum tokens per calibration example ${MAX_LENGTH_DEFAULT}` } as const;

/**
 * The checks of a model command's -o `output` (compress, export) for its --format and --force, before any file is
 * read, each a usage mistake: an .onnx output's name (checkModelOutputName), --force with transformers.js
 * (checkForceFormat), a transformers.js -o named like an .onnx file (checkFormatOutput) or not a folder
 * (checkFolderOutputName).
 */
export function checkModelOutputFlags(output: string, format: string | undefined, force: boolean | undefined): void {
  if (format !== 'transformers.js') commandLineCheck(() => checkModelOutputName(output));
  checkForceFormat(force, format);
  checkFormatOutput(output, format);
  if (format === 'transformers.js') commandLineCheck(() => checkFolderOutputName(output));
}

/**
 * Refuses --force with --format transformers.js in one line: that -o is a new or empty folder, so there is nothing
 * of another model's for --force to write over.
 */
function checkForceFormat(force: boolean | undefined, format: string | undefined): void {
  if (force && format === 'transformers.js')
    throw new UsageError('--force: with --format transformers.js, -o is a new or empty folder, with nothing of another model to write over; drop --force');
}

/**
 * Refuses, with --format transformers.js, an -o named like an .onnx file: that -o is the folder written (config.json,
 * tokenizer, onnx/model.onnx), and `-o web/model.onnx` would make a folder model.onnx holding onnx/model.onnx.
 */
function checkFormatOutput(output: string, format: string | undefined): void {
  if (format !== 'transformers.js' || !/\.onnx$/i.test(output.replace(/[\\/]+$/, ''))) return;
  const folder = output.replace(/[\\/]+$/, '').replace(/\.onnx$/i, '') || 'web';
  throw new UsageError(
    `-o ${output}: with --format transformers.js, -o is the folder to write (config.json, tokenizer, onnx/model.onnx), not an .onnx file; give a folder, e.g. ${folder}`,
  );
}

/**
 * The refusal of a command line that leaves out a flag the command needs (or a positional argument's flag form):
 * `missing --teacher: the model to distil from (see --help)`, `what` saying what it gives; yargs' own missing-flag
 * refusal (`missing --queue (see --help)`, usageLine) reads the same without it.
 */
export function missingFlag(flag: string, what?: string): UsageError {
  return new UsageError(`missing ${flag}${what === undefined ? '' : `: ${what}`} (see --help)`);
}

/**
 * Runs `check`, a library's check of settings the command line gives (a pass flag's value, a task name), before any
 * file is read: its refusal is a usage mistake (a UsageError, exit 2) as the CLI's own checks are.
 */
export function commandLineCheck<T>(check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof SettingsError && !(e instanceof UsageError)) throw new UsageError(e.message, { cause: e });
    throw e;
  }
}

/**
 * Refuses, as usage mistakes (exit 2), the folders a command line names (`--work-dir`, `--cache-dir`, report's
 * `--out`…: `flag` → the value given, undefined when not given) that a name cannot make folders of: one that is a file
 * (or a device), or lies under one (checkFolderPath), as an -o naming a folder is refused; creates nothing. A folder
 * that takes no new files (permissions, a read-only file system) is the machine's, refused where it is made (exit 1).
 */
export function checkFolderFlags(folders: Readonly<Record<string, string | undefined>>): void {
  for (const [flag, dir] of Object.entries(folders)) if (dir !== undefined) commandLineCheck(() => checkFolderPath(dir, `${flag} ${dir}`));
}

/** Exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it. */
export const INTERRUPTED_EXIT_CODE = 130;
/** Exit status of a command stopped by SIGTERM (128 + 15), after it saved what it could. */
export const TERMINATED_EXIT_CODE = 143;

/**
 * Listens for Ctrl-C and SIGTERM (timeout, docker stop, systemd) until `remove()`: each calls `stop` with how it came;
 * `exitCode()` is the status to end with, 130, or 143 once a SIGTERM came.
 */
export function listenForStop(stop: (how: 'Ctrl-C' | 'SIGTERM') => void): { exitCode(): number; remove(): void } {
  let code = INTERRUPTED_EXIT_CODE;
  const onSigint = () => stop('Ctrl-C');
  const onSigterm = () => {
    code = TERMINATED_EXIT_CODE;
    stop('SIGTERM');
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  return {
    exitCode: () => code,
    remove: () => {
      process.removeListener('SIGINT', onSigint);
      process.removeListener('SIGTERM', onSigterm);
    },
  };
}

/** Set by abandonLeftovers. */
let leftoversAbandoned = false;

/**
 * Said by a command whose libraries may keep the event loop alive for a while once its work is done, with nothing of
 * its own left: `compress worker` and `compress sweep --queue` with Redis out of reach or silent, where BullMQ's forced
 * close leaves its blocking fetch to a watchdog (up to 6 s) and ioredis waits 2 s to destroy a socket it closed;
 * bin/compress.mjs ends the process once main has returned and its output is written (endsOnReturn), where it exited
 * seconds after its last line. Main's in-process callers (the tests) are not ended.
 */
export function abandonLeftovers(): void {
  leftoversAbandoned = true;
}

/** Called by main as each command starts: what a command run before it in this process (a test's) abandoned is not its. */
export function forgetLeftovers(): void {
  leftoversAbandoned = false;
}

/** Whether the command run abandoned its libraries' leftovers (abandonLeftovers): bin/compress.mjs then ends the process. */
export function endsOnReturn(): boolean {
  return leftoversAbandoned;
}

/** The streams whose reader has gone (`compress … | head -1`, `compress sweep … 2>&1 | head`): output to them is dropped from then on. */
const closedOutputs = new Set<NodeJS.WriteStream>();

/**
 * Makes a reader that closes stdout or stderr early (EPIPE) a quiet end: the rest of that stream's output is dropped
 * and the command finishes its work, instead of an unhandled 'error' event (on stderr it ended a sweep at its next
 * progress line, exit 1, the point it was running left unfinished). Other stream errors are thrown.
 */
export function quietOnClosedOutput(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) if (!stream.listeners('error').includes(onOutputError)) stream.on('error', onOutputError);
}

function onOutputError(this: NodeJS.WriteStream, e: NodeJS.ErrnoException): void {
  if (e.code === 'EPIPE' || (closedOutputs.has(this) && e.code === 'ERR_STREAM_DESTROYED')) {
    closedOutputs.add(this);
    return;
  }
  throw e;
}

/** Writes a line to stdout (nothing once its reader has gone: see quietOnClosedOutput). */
export function out(line = ''): void {
  outText(`${line}\n`);
}

/** Writes `text` to stdout as it is (a rendered report, JSON ending in its own newline). */
export function outText(text: string): void {
  if (!closedOutputs.has(process.stdout)) process.stdout.write(text);
}

/** Writes a line to stderr (nothing once its reader has gone: see quietOnClosedOutput). */
export function err(line: string): void {
  if (!closedOutputs.has(process.stderr)) process.stderr.write(line + '\n');
}
