/**
 * The process side of `compress`: parse argv with yargs, run the matched command, map errors to exit codes.
 * A UserError prints one line (`compress: <message>`) and exits 1, a UsageError (a mistake on the command line: yargs'
 * refusals and the commands' own) 2; with --verbose a UserError's stack follows. Anything else
 * is a bug and prints its stack. A command that fails leaves none of the empty folders it created.
 */
import { existsSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { isUserError, errorMessage, quotedText, UsageError, valueText, withFlagTexts, choiceRefusal, plural } from '../errors.ts';
import { nearestFlag } from '../glue/registry.ts';
import { fileSystemError, removeCreatedFolders } from '../destination.ts';
import { checkedFlagValues, declaredOptions, gluedFlagValues, negatedBooleanValues, undeclaredFlags } from './flag-values.ts';
import { barePassFlagNames, passFlagNames } from './pass-flags.ts';
import { type CliCommand, type GlobalFlags, forgetLeftovers, missingFlag, quietOnClosedOutput } from './command.ts';
import { commands } from './commands/index.ts';
import { ortLogLevel } from '../runtime/ort-log-level.ts';
import { shellWord } from '../shell-word.ts';
import { shellTildeWord } from '../environment.ts';

const PASS_FLAGS = passFlagNames();
const BARE_PASS_FLAGS = barePassFlagNames();

/** A command's name, the first word of its usage (`eval <model>`: eval; the default command: $0). */
const commandName = (c: { command?: unknown }): string => String(c.command).split(' ')[0]!;

/** The command whose name is `word`, if any. */
const commandNamed = (word: string | undefined) => commands.find((c) => commandName(c) === word);

/** Whether `argv` runs the default command (`compress MODEL [pass flags]`): its first word names no command. */
function runsPasses(argv: readonly string[]): boolean {
  return !commandNamed(argv.find((a) => !a.startsWith('-')));
}

export { endsOnReturn } from './command.ts';

export async function main(words: string[]): Promise<number> {
  const argv = shellTildeWords(words); // (a quoted "~/my models/m.onnx", an --out=~/report: the home folder, as the shell's ~)
  quietOnClosedOutput(); // `compress … | head -1`, `… 2>&1 | head`: a quiet end, not an EPIPE stack trace
  forgetLeftovers(); // (endsOnReturn speaks of this command alone)
  let code = 0;
  let verbose = argv.includes('--verbose');
  let y: Argv<GlobalFlags> = yargs(argv)
    .scriptName('compress')
    .usage('$0 <command> [options]\n$0 MODEL [pass flags] -o OUT')
    .option('verbose', { type: 'boolean', describe: 'Print stack traces on errors', global: true })
    .strict()
    // no flag has a dot: `--task.x SST-2` is an unknown flag, not tasks {"x":"SST-2"} (yargs' option paths)
    .parserConfiguration({ 'dot-notation': false })
    .demandCommand(1, 'give a command or a model (see --help)')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .middleware(negatedBooleanValues(argv) as never, true)
    .middleware(gluedFlagValues(argv) as never, true)
    .middleware(
      checkedFlagValues(argv, {
        // bare pass flags (`--optimize` alone) mean something on the default command only: train's `--seed` is its own
        bareAllowed: runsPasses(argv) ? BARE_PASS_FLAGS : undefined,
        helpFor: (key) => (PASS_FLAGS.has(key) ? 'compress passes' : '--help'),
      }) as never,
    )
    .fail((msg, e) => {
      if (e) throw e;
      // a one-letter flag glued to a value that yargs split into flags, the last of which took the next word (`-j'3 '
      // FILE`: the flags j, 3 and ' ' given FILE) is refused as itself, where yargs' check of positional arguments, run
      // before the middleware, said 'missing <file>'; (yargs builds the matched command's options into this same instance)
      gluedFlagValues(argv)({}, y as Argv);
      // an unknown flag, which yargs gave the next word as its value (`compress eval --bogus MODEL`), is refused as
      // unknown, where yargs' check of positional arguments, run before its strict check, said 'missing <model>'
      const unknown = /^Not enough non-option arguments/.test(msg) ? undeclaredFlags(argv, declaredOptions(y)) : [];
      const said = unknown.length > 0 ? `Unknown arguments: ${unknown.join(', ')}` : msg;
      throw new UsageError(usageLine(said, argv, declaredFlags(y), valueFlags(y), commandUsage(argv)));
    })
    .help()
    .alias('help', 'h') // (no command has a flag -h)
    .version();
  withoutHelpCache(y);
  for (const c of commands as CliCommand<any>[]) {
    y = y.command({
      command: c.command as string | string[],
      describe: c.describe,
      builder: c.builder as any,
      handler: async (args: any) => {
        verbose = !!args.verbose;
        // a BERT_COMPRESS_ORT_LOG_LEVEL it cannot read is refused before any work, not at the first session; --help,
        // --version and a command that starts no onnxruntime session never read it
        if (c.runsOnnxruntime !== false) ortLogLevel();
        code = await c.run(args);
      },
    });
  }
  try {
    if (!argv.length) {
      process.stderr.write(`${await y.getHelp()}\n`);
      return 2;
    }
    const misspelt = misspeltCommand(argv);
    if (misspelt) throw new UsageError(misspelt);
    const afterDashes = wordsAfterDashes(argv);
    if (afterDashes) throw new UsageError(afterDashes);
    await withFlagTexts(() => y.parseAsync());
    return code;
  } catch (e) {
    removeCreatedFolders(); // a failed command leaves none of the empty folders it created for its outputs
    if (e instanceof UsageError) {
      process.stderr.write(`compress: ${e.message}\n`);
      return 2;
    }
    const error = fileSystemError(e) ?? e; // a write that failed anyway (full disk, …): one line, not a stack trace
    if (isUserError(error)) {
      process.stderr.write(`compress: ${error.message}\n`);
      if (verbose && error.stack) process.stderr.write(error.stack + '\n');
      return 1;
    }
    process.stderr.write(`compress: internal error: ${errorMessage(error)}\n`);
    if (error instanceof Error && error.stack) process.stderr.write(error.stack + '\n');
    return 70;
  }
}

/**
 * `words` with a leading `~` or `~user` that no shell expanded read as the shell reads an unquoted one (shellTildeWord):
 * of an argument or a flag's value (a quoted "~/my models/m.onnx"), or of a `--flag=VALUE` word's value
 * (`--glue-dir=~/glue`, `-o=~/m.onnx`: bash expands no ~ there), where each named a folder `~` in the working folder.
 */
function shellTildeWords(words: readonly string[]): string[] {
  return words.map((word) => {
    const glued = /^(--?[^=]+=)(~.*)$/s.exec(word);
    if (glued) return glued[1]! + shellTildeWord(glued[2]!, process.env);
    return word.startsWith('~') ? shellTildeWord(word, process.env) : word;
  });
}

/** The part of yargs' internals that withoutHelpCache reaches (yargs 18: not in its typings). */
interface YargsUsageInternals {
  getInternalMethods?(): { getUsageInstance?(): { cacheHelpMessage?: () => void } };
}

/**
 * yargs builds the matched command's whole help text on every run, as its handler starts (cacheHelpMessage: for a
 * help shown after the command, which our .fail, throwing, never asks for): about 0.1 s of each command's start for a
 * text never printed. Here it builds none; help asked for (--help, no arguments) is built when asked, as before.
 */
function withoutHelpCache(y: Argv<GlobalFlags>): void {
  const usage = (y as unknown as YargsUsageInternals).getInternalMethods?.().getUsageInstance?.();
  if (typeof usage?.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}

/** A global flag as it may stand before the command: --verbose, --no-verbose, --verbose=VALUE. */
const GLOBAL_FLAG = /^--(no-)?verbose(=.*)?$/s;

/**
 * `compress pases`, `compress inspct MODEL`: a first word (after global flags: `compress --verbose pases`) that names no
 * command and no file or folder, one or two edits from a command (or one in another case), is refused asking whether
 * that command was meant, where the default command would take it as its model ('no pass given', or 'unexpected
 * argument MODEL'). yargs' recommendCommands does not look with a default command. A word (no path) far from every
 * command followed by a file, folder or hf: model (`compress evaluate MODEL`), or alone (`compress frobnicate`), is
 * refused as an unknown command, listing them.
 */
function misspeltCommand(argv: readonly string[]): string | undefined {
  const first = argv.find((a) => !GLOBAL_FLAG.test(a));
  if (first === undefined || first.startsWith('-') || existsSync(first)) return undefined;
  const names = commands.map(commandName).filter((n) => n !== '$0');
  if (names.includes(first)) return undefined;
  const word = first.toLowerCase();
  const near = names.includes(word) ? word : nearestFlag(word, names);
  if (near !== undefined) return `unknown command ${quotedText(first)} (did you mean ${near}?) (see --help)`;
  // `compress evaluate MODEL`: a word far from every command (a word, not a path), then a file, folder or hf: model;
  // `compress frobnicate`: such a word alone (the default command would say 'no pass given' of it)
  const rest = argv.slice(argv.indexOf(first) + 1);
  const next = rest[0];
  const alone = rest.every((a) => GLOBAL_FLAG.test(a));
  // (alone, it may as well be a model path typed wrong: the line says there is no such file or folder either)
  const list = `(the commands: ${names.join(', ')}) (see --help)`;
  if (/^[a-z][a-z0-9-]*$/i.test(first) && alone) return `unknown command ${quotedText(first)}, and no file or folder of that name ${list}`;
  if (/^[a-z][a-z0-9-]*$/i.test(first) && next !== undefined && !next.startsWith('-') && (existsSync(next) || next.startsWith('hf:')))
    return `unknown command ${quotedText(first)} ${list}`;
  return undefined;
}

/**
 * The refusal of words after `--`, which no command reads (yargs passes them over: neither its strict check nor a
 * positional argument takes them, so `compress inspect -- MODEL` missed its model and `compress report STORE -- --out
 * DIR` printed the report, dropping `--out DIR`); undefined when nothing follows `--`.
 */
function wordsAfterDashes(argv: readonly string[]): string | undefined {
  const words = argv.slice(argv.indexOf('--') + 1);
  if (!argv.includes('--') || words.length === 0) return undefined;
  return `unexpected ${plural(words.length, 'argument')} ${words.map(valueText).join(', ')} after '--': no command reads words after it; give them before '--' (a path starting with '-' as ./-x.onnx) (see --help)`;
}

/** The usage of the command `argv` runs, as its module declares it (`eval <model>`; the default command `<model>`). */
function commandUsage(argv: readonly string[]): string {
  const first = argv.find((a) => !a.startsWith('-'));
  const matched = commandNamed(first) ?? commandNamed('$0');
  return String(matched?.command ?? '').replace(/^\$0 /, '');
}

/** The long flags the failing command declares (as written: `max-length`, not `maxLength`), for suggestions. */
function declaredFlags(parser: Argv<GlobalFlags>): string[] {
  try {
    const keys = Object.keys(declaredOptions(parser).key);
    return keys.filter((k) => k.length > 1 && !/[A-Z]/.test(k) && k !== '$0' && k !== '_');
  } catch {
    return [];
  }
}

/** The flags the failing command declares that take a value (string, number or list), with their aliases (`o`). */
function valueFlags(parser: Argv<GlobalFlags>): string[] {
  try {
    const o = declaredOptions(parser);
    const keys = [...o.string, ...o.number, ...o.array];
    return [...keys, ...keys.flatMap((k) => o.alias[k] ?? [])];
  } catch {
    return [];
  }
}

/**
 * A yargs message as one line: `Invalid values:` followed by one `Argument: split, Given: "train", Choices: …` line
 * per argument becomes `--split 'train': expected one of dev, test` (choiceLine); an unknown argument that is a flag's value
 * starting with '-' (`--layer-map -1:1`; `-o -x.onnx` after a flag of `valued`, those taking a value) says to write
 * `--layer-map=-1:1` (each as a shell takes it, shellWord: `'--layer-map=-1:1, 2:3'`; `-` alone: that no flag reads it
 * as stdin or stdout); an unknown flag close to one of `known`
 * (the command's flags) asks whether that one was meant, and one followed by a value starting with '-' and a letter
 * (`--max-examples -Infinity`, which yargs reads as the one-letter flags I, n, f, …) is shown with it, another such
 * word as itself (`--json -Infinity`: unexpected argument '-Infinity'); a missing positional argument is named with `usage` (the
 * command's, `eval <model>`) and a missing required flag as a flag (`missing --queue`); other messages have their lines
 * joined.
 */
export function usageLine(msg: string, argv: readonly string[] = [], known: readonly string[] = [], valued: readonly string[] = [], usage = ''): string {
  // yargs' 'Not enough non-option arguments: got 0, need at least 1', 'Missing required argument: queue'
  const few = /^Not enough non-option arguments: got (\d+), need at least \d+$/.exec(msg.trim());
  const positionals = usage.match(/<[^>]+>/g) ?? [];
  if (few && positionals.length > Number(few[1])) return `missing ${positionals.slice(Number(few[1])).join(' ')} (compress ${usage}; see --help)`;
  const required = /^Missing required arguments?: (.+)$/.exec(msg.trim());
  if (required)
    return missingFlag(
      required[1]!
        .split(/,\s*/)
        .map((n) => (n.length === 1 ? `-${n}` : `--${n}`))
        .join(', '),
    ).message;
  // `--layer-map -1:1`, `-o -x.onnx`: yargs reads a value that starts with '-' as flags ('Unknown argument: 1', 'x')
  if (/^Unknown arguments?:/.test(msg)) {
    const end = argv.includes('--') ? argv.indexOf('--') : argv.length;
    const declared = (t: string) => [...known, ...valued].some((n) => t === (n.length === 1 ? `-${n}` : `--${n}`));
    const takesValue = (t: string) => valued.some((n) => t === (n.length === 1 ? `-${n}` : `--${n}`));
    // after any flag, a word starting with '-' and a digit or '.'; after a flag taking a value, any word starting with one
    // '-' that is no flag of the command ('--x' is a flag, or the flag's value missing), or with '--' and a name no flag
    // has (`--output --x.onnx`: yargs reads the dot as an option path); not a negative number, which yargs reads as a
    // value (-1, -0.5, -.5)
    const i = argv.findIndex((t, k) => {
      const next = argv[k + 1]!;
      if (k + 1 >= end || /^-(\d+(\.\d+)?|\.\d+)$/.test(next) || declared(next.replace(/=.*$/s, ''))) return false;
      return (/^--[^=]+$/.test(t) && /^-[\d.]/.test(next)) || (takesValue(t) && /^(-([^-]|$)|--[^=]*[^\w=-])/.test(next));
    });
    if (i >= 0 && argv[i + 1] === '-') return `${argv[i]} -: no flag takes '-' for stdin or stdout; write ${argv[i]}=- to give '-' itself`;
    // (as a glued flag's refusal shows them: a blank split what it asked for into two words)
    if (i >= 0)
      return `${shellWord(argv[i]!)} ${shellWord(argv[i + 1]!)}: a value starting with '-' is read as a flag; write ${shellWord(`${argv[i]}=${argv[i + 1]}`)}`;
    // yargs lists an unknown `--quantize-format` twice, as itself and camel-cased: once, as the user wrote it
    const names = msg
      .replace(/^Unknown arguments?:\s*/, '')
      .split(/,\s*/)
      .filter(Boolean);
    const written = names.filter((n) => !(/[A-Z]/.test(n) && names.includes(n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`))));
    // the flag as the user wrote it (without its =value): yargs names `--x` and `-x` both x, and a negated `--no-foo` foo
    const writtenAs = (n: string) =>
      argv
        .slice(0, end)
        .map((t) => t.replace(/=.*$/s, ''))
        .find((t) => t === `--${n}` || t === `--no-${n}` || (n.length === 1 && t === `-${n}`));
    const flags = written.filter((n) => writtenAs(n) !== undefined);
    const unflagged = written.filter((n) => writtenAs(n) === undefined);
    // the word after an unknown flag that starts with one '-' and that yargs read as one-letter flags the command lacks
    // (`--max-examples -Infinity`: 'I', 'n', 'f', …): the flag's value, shown with it
    const givenAfter = (flag: string): string | undefined => {
      const k = argv.slice(0, end).indexOf(flag);
      const next = argv[k + 1];
      return k >= 0 && k + 1 < end && next !== undefined && /^-[^-]/.test(next) && [...next.slice(1)].every((c) => unflagged.includes(c)) ? next : undefined;
    };
    const given = new Map(flags.map((n) => [n, givenAfter(writtenAs(n)!)]));
    const letters = new Set([...given.values()].flatMap((v) => (v === undefined ? [] : [...v.slice(1)])));
    const withSuggestion = (n: string) => {
      const flag = writtenAs(n)!;
      const near = n.length > 1 ? nearestFlag(n, known) : undefined;
      const value = given.get(n);
      const notes = [
        ...(value === undefined ? [] : [`given ${value}`]),
        // (a negated flag is asked about as the near flag negated, where that is a boolean: one taking no value)
        ...(near === undefined ? [] : [`did you mean --${flag.startsWith('--no-') && !valued.includes(near) ? 'no-' : ''}${near}?`]),
      ];
      return notes.length ? `${flag} (${notes.join('; ')})` : flag;
    };
    // any other such word whose letters yargs read as one-letter flags the command lacks (`--json -Infinity`): the word
    const clusters = argv
      .slice(0, end)
      .filter((t) => /^-[^-][^=]+$/.test(t) && ![...given.values()].includes(t) && [...t.slice(1)].every((c) => unflagged.includes(c) && !letters.has(c)));
    for (const t of clusters) for (const c of t.slice(1)) letters.add(c);
    const words = [...unflagged.filter((n) => !letters.has(n)), ...clusters];
    return (
      [
        ...(flags.length ? [`unknown ${plural(flags.length, 'flag')} ${flags.map(withSuggestion).join(', ')}`] : []),
        ...(words.length ? [`unexpected ${plural(words.length, 'argument')} ${words.map(valueText).join(', ')}`] : []),
      ].join('; ') + ' (see --help)'
    );
  }
  const lines = msg
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const choices = lines.map((l) => /^Argument: (.+?), Given: (.+?), Choices: (.+)$/.exec(l)).filter((m) => m !== null);
  if (choices.length > 0) return choices.map(([, name, given, allowed]) => choiceLine(name!, given!, allowed!, usage)).join('; ');
  return lines.join(' ');
}

/**
 * yargs' `Argument: split, Given: "$HOME", Choices: "dev", "test"` as every other refused value reads: the flag as
 * written (`--split`; a positional argument by its name, `action`), then choiceRefusal's words: the value as a shell
 * takes it (`'$HOME'`, which yargs' JSON quotes showed as `"$HOME"`, a text a shell expands), the choices bare.
 */
function choiceLine(name: string, given: string, allowed: string, usage: string): string {
  const text = (t: string): string => {
    try {
      const v: unknown = JSON.parse(t);
      return typeof v === 'string' ? v : t;
    } catch {
      return t;
    }
  };
  const shown = usage.includes(`<${name}>`) ? name : name.length === 1 ? `-${name}` : `--${name}`;
  return choiceRefusal(shown, text(given), allowed.split(/,\s*/).map(text));
}
