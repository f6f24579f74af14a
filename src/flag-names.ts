/**
 * Library code words its refusals for the command line, naming the flags (`--max-length 1000 is beyond the model's
 * position table`); a caller that is not the command line renames them on the way out, to what it was given: a sweep
 * point to its file's settings (`eval.maxLength`: src/sweep/setting-names.ts), the package's entry points to their
 * options (`maxLength`: evaluate, loadCalibration, benchModels as src/eval/index.ts and src/bench/index.ts export
 * them; runTraining, src/train/library.ts; runPipeline, parseSteps, compressFile and compressToTransformersJs by the
 * step that refused, src/pass/option-names.ts), where a library caller was told of a flag it cannot pass.
 */
import { isUserError, type UserError } from './errors.ts';

/** A shell word as shellWord writes it (a path quoted for its parentheses, quotes or spaces: '…', $'…', an escaped character). */
const SHELL_WORD = String.raw`(?:\\.|\$'(?:[^'\\]|\\.)*'|'[^']*'|\$(?!')|[^\s'\\$;])+`;

/**
 * Where a flag word starts: at the message's start, after a space, an opening bracket or a quote, or after other
 * flags joined by '/' ('-o/--output', '--task/--tasks'); not inside a path ('/x/-o/model.onnx', 'runs/--max-length'),
 * whose parts were renamed as flags ('/x/output/model.onnx').
 */
const FLAG_START = String.raw`(?<=(?:^|[\s(\[{'"\x60])(?:--?[a-z][a-z0-9-]*/)*)`;

/** Where a flag word ends: not in a word or a path going on ('-o/x', '--x.onnx', '-o_1'), a '/' before another flag and a sentence's '.' taken. */
const FLAG_END = String.raw`(?![\w\\-]|\.\S|/(?!--?[a-z]))`;

/**
 * A flag (a long one, `--max-length`, or a letter, `-o`); or the word `flag` or `flags` before one or more flags (`flag
 * --prune-heads`, `flag --a or --b`: a pass setting's frame, settings.ts flagNote), which a table may name as a whole
 * (`steps[0].settings.heads`, where the flag fills one setting or another); or a command a message gives to run, in
 * parentheses ('(compress train X --task SST-2 --new-head -o OUT)'), its words as shellWord writes them: a path with
 * parentheses or quotes is quoted ('…', $'…', an escaped quote between), so its parentheses do not end the command;
 * or such a command that ends the message without parentheses ('…: write it with compress X --quantize int8 -o OUT').
 * Each text reads one way only (a '$' before a quote opens $'…'), so a message whose '(compress' is never closed is
 * read in a time linear in its length, where a '$' read alone or as $'…' made it exponential in the $'…' words it held.
 */
const FLAG_OR_COMMAND = new RegExp(
  [
    String.raw`\(compress (?:\\.|\$'(?:[^'\\]|\\.)*'|'[^']*'|\$(?!')|[^()'\\$])*\)`,
    String.raw`(?<![\w(-])compress ${SHELL_WORD}(?: ${SHELL_WORD})*$`,
    String.raw`(?<![\w-])flags? --[a-z][a-z0-9-]*(?: or --[a-z][a-z0-9-]*)*(?![\w-])`,
    // (the frame of a setting no flag fills: flagNote's, renamed whole where names has it)
    String.raw`(?<=\()no command-line flag for [A-Za-z_$][\w$]*(?=\))`,
    `${FLAG_START}--[a-z][a-z0-9-]*${FLAG_END}`,
    `${FLAG_START}-[a-z]${FLAG_END}`,
  ].join('|'),
  'g',
);

/**
 * A pass setting's frame FLAG_OR_COMMAND found ('flag --a or --b') with each flag renamed as `names` says, without its
 * word `flag` where `names` renames them all (they are no flags then); the text as it is where it renames none.
 */
function renamedFlags(found: string, names: FlagNames): string {
  const flags = found.match(/--[a-z][a-z0-9-]*/g) ?? [];
  const renamed = found.replace(/--[a-z][a-z0-9-]*/g, (flag) => names[flag] ?? flag);
  return flags.every((f) => names[f] !== undefined) ? renamed.replace(/^flags? /, '') : renamed;
}

/**
 * What a caller's words name each flag (or command text) of a message by: `--max-length` → `maxLength`; a key of a
 * flag and the words after it (`--quantize int8`, `--format transformers.js`), or before it (`an --intermediate
 * preset`: a caller's words that read well, `a distill.intermediate preset`), names them together, before the flag
 * alone; a key `flag --prune-heads` names a pass setting's frame (`(flag --prune-heads)`) as a whole, which otherwise
 * keeps its word `flag` and renames its flags.
 */
export type FlagNames = Readonly<Record<string, string>>;

/** A key of FlagNames that names a flag with words around it: the words `before` its first flag, and from the flag on. */
interface Phrase {
  key: string;
  before: string;
  from: string;
}

/** The phrases of `names` (keys of a flag and words before or after it), longest first. */
function phrasesOf(names: FlagNames): Phrase[] {
  const phrases = Object.keys(names).flatMap((key) => {
    const flag = /(?<![\w-])--?[a-z][a-z0-9-]*/.exec(key);
    if (key.startsWith('flag') || flag === null || flag[0] === key) return [];
    return [{ key, before: key.slice(0, flag.index), from: key.slice(flag.index) }];
  });
  return phrases.sort((a, b) => b.key.length - a.key.length);
}

/**
 * `message` with each flag of `names` ('--teacher', '-o') replaced by its setting ('distill.teacher'), a key of a flag
 * and the words around it (`--quantize int8`, `an --intermediate preset`) first; other text as it is, and a command
 * it gives to run (FLAG_OR_COMMAND), whose flags are the command's.
 */
export function renameFlags(message: string, names: FlagNames): string {
  const phrases = phrasesOf(names);
  /** Whether the phrase `p` is written where `flag` is found at `index`, its words before it after `from` (as yet unrenamed). */
  const written = (p: Phrase, flag: string, index: number, from: number): boolean => {
    const start = index - p.before.length;
    return (
      p.from.startsWith(flag) &&
      !/[\w-]/.test(p.from[flag.length] ?? '') &&
      message.startsWith(p.from, index) &&
      !/[\w-]/.test(message[index + p.from.length] ?? '') &&
      start >= from &&
      message.slice(start, index) === p.before &&
      !/[\w-]/.test(message[start - 1] ?? '')
    );
  };
  let out = '';
  let at = 0;
  for (const m of message.matchAll(FLAG_OR_COMMAND)) {
    const found = m[0];
    if (m.index < at) continue; // (inside a phrase renamed whole)
    const from = at;
    out += message.slice(at, m.index);
    at = m.index + found.length;
    if (found.startsWith('(') || found.startsWith('compress ')) out += found;
    else if (found.startsWith('flag')) out += names[found] ?? renamedFlags(found, names);
    else {
      const phrase = phrases.find((p) => written(p, found, m.index, from));
      if (phrase !== undefined) {
        out = out.slice(0, out.length - phrase.before.length) + names[phrase.key];
        at = m.index + phrase.from.length;
      } else out += names[found] ?? found;
    }
  }
  return out + message.slice(at);
}

/** `e` with its flags renamed as `names` says (for it), where it is a UserError: the same error, its message changed. */
function renamedError(e: unknown, names: FlagNames | ((e: UserError) => FlagNames)): unknown {
  if (isUserError(e)) e.message = renameFlags(e.message, typeof names === 'function' ? names(e) : names);
  return e;
}

/**
 * Runs `stage` (its result, or its promise); a UserError it throws leaves with its flags renamed as `names` says (same
 * class, same cause); `names` may be a function of the error (a pipeline's: by the step that refused, stepOf).
 */
export function namingSettings<T>(names: FlagNames | ((e: UserError) => FlagNames), stage: () => T): T {
  let result: T;
  try {
    result = stage();
  } catch (e) {
    throw renamedError(e, names);
  }
  if (result instanceof Promise)
    return result.catch((e: unknown) => {
      throw renamedError(e, names);
    }) as T;
  return result;
}
