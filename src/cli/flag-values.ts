/**
 * The one yargs middleware that checks flag values for every command, before the command runs:
 * - a boolean flag given a value (`--json=yes`, `--quantize-embeddings=0`) takes it as written, yes/true/1 or
 *   no/false/0, instead of yargs' reading of anything but `true` as false; any other value is refused (`--no-json=yes`
 *   negates it: negatedBooleanValues, run before yargs' strict check, which took `no-json` for an unknown flag);
 * - a flag that takes a value written negated (`--no-out`, `--no-seed`, which yargs reads as false and 0) is refused;
 * - a flag that takes one value and was given twice (`-o a -o b`, which yargs turns into an array the command does
 *   not expect) is refused;
 * - a number flag whose value is not a decimal number (`--lr abc`, which yargs turns into NaN; `--lr 0x10`,
 *   which yargs reads as 16, where the pass flags refuse it), is not finite (`--lr
 *   1e400`, which yargs turns into Infinity), is empty (`--lr ''`,
 *   which yargs turns into 0) or is missing (`--lr` last or before another flag, which yargs takes as absent,
 *   so the default ran) is refused; its value as typed is noted (noteFlagText) for a refusal to quote (`--seed
 *   9007199254740993: expected an integer …`, not the 9007199254740992 yargs rounds it to); every number flag is
 *   declared as an integer flag or a number flag taking fractions, with its range (a number flag declared as neither
 *   is an internal error):
 * - an integer flag (declared by integerFlags, with its range) is refused in the one integer wording of
 *   src/errors.ts, whatever its fault: `--seed '0x10'`, `--seed ''`, `--epochs 1.5`, `--max-length -3`, `--epochs 1e16`
 *   all say `expected an integer from MIN to MAX`, before the command runs;
 * - a number flag that takes fractions (declared by numberFlags, with its range) is refused in the one number wording
 *   of src/errors.ts (numberProblem), whatever its fault: `--lr 0`, `--lr '0x10'`, `--warmup 1.5`, `--lr 1e400` say
 *   `expected a number greater than 0`, `expected a number in [0, 1]` (a finite one for 1e400), before the command runs;
 * - a string flag or positional argument given an empty value (`--out ''`, `--tasks=`, `report ''`, or a bare
 *   `--out`) is refused: it would name the current folder, be taken as absent, or (SQLite) open a temporary
 *   database. Flags whose bare form means something (`--optimize` alone: its default set) take that meaning when
 *   bare and are refused only when given '' explicitly. A positional argument given as '-' (`report -`), which yargs
 *   reads as '', is refused as '-': no argument reads stdin or writes stdout.
 * Each refusal is one line (a UsageError: the CLI exits 2).
 */
import type { Argv } from 'yargs';
import {
  checkIntegerFlag,
  checkNumberFlag,
  choiceRefusal,
  type IntegerRange,
  integerOfText,
  integerProblem,
  isNumberText,
  type NumberRange,
  noteFlagText,
  numberProblem,
  TOO_SMALL_TO_HOLD,
  tooSmallToHold,
  typedValueText,
  UsageError,
  valueText,
} from '../errors.ts';
import { shellWord } from '../shell-word.ts';

/** What the middleware reads of yargs' declared options (`getOptions()`). */
export interface DeclaredOptions {
  array: string[];
  boolean: string[];
  number: string[];
  string: string[];
  alias: Record<string, string[]>;
  key: Record<string, unknown>;
}

/** The options yargs declared for the command being parsed (its `getOptions()`, which its typings leave out). */
export function declaredOptions(y: Argv<unknown> | Argv): DeclaredOptions {
  return (y as unknown as { getOptions(): DeclaredOptions }).getOptions();
}

/** The ranges of the integer flags declared on a yargs instance (integerFlags), by flag. */
const integerRanges = new WeakMap<object, Record<string, IntegerRange>>();

/**
 * Notes that the number flags `ranges` names, declared on `y` (as `type: 'number'` options), take integers, each in
 * its range: the one table where a command declares its integer flags, whose values the middleware then refuses in
 * the one integer wording (checkFlagValues) before the command runs. Returns `y`.
 */
export function integerFlags<T>(y: Argv<T>, ranges: Readonly<Record<string, IntegerRange>>): Argv<T> {
  integerRanges.set(y, { ...integerRanges.get(y), ...ranges });
  return y;
}

/** The ranges of the number flags that take fractions declared on a yargs instance (numberFlags), by flag. */
const numberRanges = new WeakMap<object, Record<string, NumberRange>>();

/**
 * Notes the ranges of the number flags `ranges` names, declared on `y` (as `type: 'number'` options) and taking
 * fractions (a rate, a weight, seconds): the one table where a command declares them, as integerFlags its integer
 * flags, whose values the middleware then refuses in the one number wording (numberProblem) before the command runs.
 * Returns `y`.
 */
export function numberFlags<T>(y: Argv<T>, ranges: Readonly<Record<string, NumberRange>>): Argv<T> {
  numberRanges.set(y, { ...numberRanges.get(y), ...ranges });
  return y;
}

/** The number flags that take fractions declared on `y` (numberFlags) with their ranges, by flag. */
export function declaredNumberFlags(y: Argv<unknown> | Argv): Readonly<Record<string, NumberRange>> {
  return numberRanges.get(y) ?? {};
}

/** The integer flags declared on `y` (integerFlags) with their ranges, by flag: none where it declares none. */
export function declaredIntegerFlags(y: Argv<unknown> | Argv): Readonly<Record<string, IntegerRange>> {
  return integerRanges.get(y) ?? {};
}

export interface FlagValueRules {
  /** The integer flags of the command being parsed, by flag (integerFlags): each one a number flag. */
  integers?: Readonly<Record<string, IntegerRange>>;
  /** The number flags that take fractions of the command being parsed, by flag (numberFlags): each one a number flag. */
  numbers?: Readonly<Record<string, NumberRange>>;
  /** String flags whose bare form (`--optimize` alone) has a meaning of its own; only an explicit '' is refused. */
  bareAllowed?: ReadonlySet<string>;
  /** Where to look a flag's values up, for the message about an empty one (default: '--help'). */
  helpFor?: (key: string) => string;
}

const TRUE = ['yes', 'true', '1'];
const FALSE = ['no', 'false', '0'];

/** 'yes' → true, 'no' → false (case-insensitive); a UsageError naming `flag` for anything else. */
export function parseBooleanValue(flag: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (TRUE.includes(v)) return true;
  if (FALSE.includes(v)) return false;
  throw new UsageError(choiceRefusal(flag, value, [...TRUE, ...FALSE]));
}

const camel = (s: string) => s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * A flag's names (`names`: it and its aliases) with yargs' camel-case form of each that has one (`maxLength` for
 * `max-length`), which yargs reads as the flag: each form is looked for where the flag is typed.
 */
const withCamelForms = (names: readonly string[]): string[] => [...new Set(names.flatMap((n) => [n, camel(n)]))];

/** '--out' or '-o' as written on the command line. */
const dashed = (name: string) => (name.length === 1 ? `-${name}` : `--${name}`);

/** '-o/--output' for a flag and its aliases. */
function flagName(key: string, aliases: readonly string[]): string {
  return [...aliases.filter((a) => a.length === 1), key].map(dashed).join('/');
}

/**
 * Where `names` (a flag and its aliases) appear in `argv` before `--`, in order: `typed` is the value as written
 * (`--key=V`, `-kV` for a one-letter alias, as yargs reads `-j2.5`, or the word after `--key`; undefined for a bare flag
 * at the end), for messages (yargs keeps only NaN or ''); `inline` when written `--key=V` or `-kV`. Empty when the flag
 * is absent (a positional argument has no flag).
 */
function occurrences(argv: readonly string[], names: readonly string[]): Array<{ typed: string | undefined; inline: boolean }> {
  const found: Array<{ typed: string | undefined; inline: boolean }> = [];
  for (let i = 0; i < argv.length && argv[i] !== '--'; i++) {
    for (const flag of names.map(dashed)) {
      if (argv[i] === flag) found.push({ typed: argv[i + 1], inline: false });
      else if (argv[i]!.startsWith(`${flag}=`)) found.push({ typed: argv[i]!.slice(flag.length + 1), inline: true });
      else if (flag.length === 2 && argv[i]!.startsWith(flag) && !argv[i]!.startsWith('--')) found.push({ typed: argv[i]!.slice(2), inline: true });
    }
  }
  return found;
}

/** The first of `names` (a flag and its aliases) written negated (`--no-NAME`) before `--`, else undefined. */
function negation(argv: readonly string[], names: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length && argv[i] !== '--'; i++) {
    const name = names.find((n) => argv[i] === `--no-${n}` || argv[i]!.startsWith(`--no-${n}=`));
    if (name !== undefined) return name;
  }
  return undefined;
}

/** The first of `occurrences`, or undefined. */
const occurrence = (argv: readonly string[], names: readonly string[]) => occurrences(argv, names)[0];

/** A flag written without its value: last on the line, or followed by another flag (not by a negative number). */
const bare = (o: { typed: string | undefined; inline: boolean }) =>
  !o.inline && (o.typed === undefined || (o.typed.startsWith('-') && o.typed !== '-' && Number.isNaN(Number(o.typed))));

/** Sets each boolean flag written `--flag=VALUE` (or `--no-flag=VALUE`, which negates it) on `args`. */
function applyBooleanValues(args: Record<string, unknown>, options: Pick<DeclaredOptions, 'boolean' | 'alias'>, argv: readonly string[]): void {
  for (const key of options.boolean) {
    // (and yargs' camel-case forms: `--newHead=no` is --new-head's no, which yargs reads as true)
    const names = withCamelForms([key, ...(options.alias[key] ?? [])]);
    for (const token of argv) {
      if (token === '--') break;
      const m = /^--(no-)?([^=]+)=(.*)$/s.exec(token);
      if (!m || !names.includes(m[2]!)) continue;
      const value = parseBooleanValue(`--${m[1] ?? ''}${m[2]}`, m[3]!) !== !!m[1];
      for (const n of names) {
        args[n] = value;
        args[camel(n)] = value;
      }
    }
  }
}

/**
 * Applies boolean values and throws a UsageError for the first flag or positional argument whose value is
 * refused (see the module's comment); `args` is yargs' result, `argv` the command line as typed.
 */
export function checkFlagValues(args: Record<string, unknown>, options: DeclaredOptions, argv: readonly string[], rules: FlagValueRules = {}): void {
  applyBooleanValues(args, options, argv);
  for (const key of Object.keys(rules.integers ?? {}))
    if (!options.number.includes(key)) throw new Error(`integer flag --${key}: not declared as a number flag`);
  for (const key of Object.keys(rules.numbers ?? {})) if (!options.number.includes(key)) throw new Error(`number flag --${key}: not declared as a number flag`);
  const aliasOf = new Set(Object.values(options.alias).flat());
  // (every number flag declares its range, so that each refusal of its value says what it takes)
  for (const key of options.number)
    if (!aliasOf.has(key) && !rules.integers?.[key] && !rules.numbers?.[key])
      throw new Error(`number flag --${key}: declared with neither integerFlags nor numberFlags`);
  for (const key of Object.keys(options.key)) {
    if (aliasOf.has(key) || options.boolean.includes(key)) continue;
    const aliases = options.alias[key] ?? [];
    // (and yargs' camel-case forms, which it reads as the flag: `--maxLength 0x10` is --max-length's 0x10)
    const names = withCamelForms([key, ...aliases]);
    // yargs reads `--no-out` as out false and `--no-seed` as seed 0, which the command then takes for a path (an
    // internal error), a list or a number never typed: only a boolean flag has a negated form
    const negated = negation(argv, names);
    if (negated !== undefined) {
      throw new UsageError(
        `--no-${negated}: ${dashed(negated)} takes a value and has no --no- form; leave it out for its default (see ${rules.helpFor?.(key) ?? '--help'})`,
      );
    }
    if (options.array.includes(key) || !(key in args)) continue;
    const value = args[key];
    const integer = options.number.includes(key) ? rules.integers?.[key] : undefined;
    const range = options.number.includes(key) ? rules.numbers?.[key] : undefined;
    const written = occurrences(argv, names);
    // yargs adds a repeated number flag's later value of 1 to the one before (its count increment: `--epochs 3
    // --epochs 1` reads 4), an array no more
    if (Array.isArray(value) || (options.number.includes(key) && written.length > 1)) {
      // as typed (yargs' array of a repeated number flag can lose occurrences)
      const typed = written.map((o) => o.typed ?? '');
      const count = Array.isArray(value) ? value.length : 1;
      // a "value" that is the next flag (`--optimize --optimize -o x`) was not given one
      // (each as a shell takes it, shellWord: a blank in one shown, '3 ')
      const shown = (typed.length >= count ? typed : (value as unknown[]).map(String)).map((v) =>
        v === '' || /^-[^\d.]/.test(v) ? 'without a value' : shellWord(v),
      );
      throw new UsageError(`${flagName(key, aliases)} given ${shown.length} times (${shown.join(', ')}): give it once`);
    }
    if ((options.number.includes(key) || options.string.includes(key)) && !rules.bareAllowed?.has(key)) {
      // yargs takes a bare flag (`--epochs` last, or before another flag) as absent: its default would run
      const given = occurrence(argv, names);
      const needed = integer ? 'an integer' : options.number.includes(key) ? 'a number' : 'a value';
      if (given && bare(given)) throw new UsageError(`${flagName(key, aliases)}: ${needed} is needed after it`);
    }
    if (integer && typeof value === 'number') {
      checkIntegerValue(flagName(key, aliases), value, occurrence(argv, names)?.typed, integer);
      continue;
    }
    if (range && typeof value === 'number') {
      checkNumberValue(flagName(key, aliases), value, occurrence(argv, names)?.typed, range);
      continue;
    }
    if (options.string.includes(key) && typeof value === 'string' && value.trim() === '') {
      const given = occurrence(argv, names);
      // bare (`--optimize` alone, or followed by another flag) is not an explicit '' (`--optimize ''`, `--optimize=`)
      if (rules.bareAllowed?.has(key) && given?.typed !== '') continue;
      // not given as a flag: a positional argument, named as its usage line names it; yargs reads a '-' there as ''
      const name = given ? flagName(key, aliases) : key;
      const end = argv.includes('--') ? argv.indexOf('--') : argv.length;
      if (!given && argv.slice(0, end).includes('-') && !argv.slice(0, end).includes(''))
        throw new UsageError(`${name} '-': no argument takes '-' for stdin or stdout; write ./- to give a file named '-' (see --help)`);
      throw new UsageError(`${name} ${valueText(value)}: an empty value; give one (see ${rules.helpFor?.(key) ?? '--help'})`);
    }
  }
}

/**
 * Refuses the value of an integer flag `flag` (as its refusals name it: '-j/--jobs') unless it is an integer in `range`,
 * in the one integer wording (integerProblem): `typed` as written (undefined where not found: its default, or a form
 * such as `-j2`), `value` as yargs read it. A text that writes no decimal number ('0x10', '', 'Infinity', which yargs reads as 16, 0, Infinity) is
 * quoted as typedValueText quotes it (`--seed '0x10': expected an integer from 0 to 2^53 − 1`); a number is shown as typed (checkIntegerFlag:
 * `--epochs 1.5: …`, `--seed 9007199254740993: …`, not the 9007199254740992 yargs read).
 */
function checkIntegerValue(flag: string, value: number, typed: string | undefined, range: IntegerRange): void {
  // (and a fraction that reads as an integer, judged by its digits: `--threads 1e-400` read as 0, one per physical core)
  if (typed !== undefined && Number.isNaN(integerOfText(typed))) {
    const note = range.note === undefined ? '' : ` ${range.note}`;
    throw new UsageError(`${flag} ${typedValueText(typed)}: ${integerProblem(Number.NaN, range.min, range.max)}${note}`);
  }
  if (typed !== undefined) noteFlagText(flag, typed);
  checkIntegerFlag(flag, value, range.min, { max: range.max, note: range.note, error: UsageError });
}

/**
 * Refuses the value of a number flag `flag` that takes fractions (as its refusals name it) unless it is a number in
 * `range`, in the one number wording (numberProblem), as checkIntegerValue an integer flag's: a text that writes no
 * decimal number ('0x10', '', 'Infinity') quoted (`--lr '0x10': expected a number greater than 0`), a number shown as
 * typed (checkNumberFlag: `--lr 0.0: …`, `--lock-seconds 0.0000000001: …`, not the 0 and 1e-10 yargs read); one too small to hold,
 * which yargs reads as 0, refused as such (tooSmallToHold: `--weight-decay 1e-400: too small for a number to hold (…)`).
 */
function checkNumberValue(flag: string, value: number, typed: string | undefined, range: NumberRange): void {
  if (typed !== undefined && !isNumberText(typed)) {
    throw new UsageError(`${flag} ${typedValueText(typed)}: ${numberProblem(Number.NaN, range)}${range.note === undefined ? '' : ` ${range.note}`}`);
  }
  if (typed !== undefined && tooSmallToHold(typed)) {
    // (`--weight-decay 1e-400` read as 0 unsaid; `--lr 1e-400: expected a number greater than 0` said what it was)
    const problem = numberProblem(0, range);
    const then = problem === undefined ? 'write 0 for 0' : `${problem}${range.note === undefined ? '' : ` ${range.note}`}`;
    throw new UsageError(`${flag} ${typed.trim()}: ${TOO_SMALL_TO_HOLD}; ${then}`);
  }
  if (typed !== undefined) noteFlagText(flag, typed);
  checkNumberFlag(flag, value, range, { error: UsageError });
}

/**
 * The middleware run before yargs' strict check: yargs reads `--no-json=yes` as an unknown flag `no-json`; for a
 * declared boolean (or alias) it is taken as the negation of the value (json false), and the `no-json` keys dropped.
 */
export function negatedBooleanValues(argv: readonly string[]) {
  return (args: Record<string, unknown>, y: Argv): void => {
    const options = declaredOptions(y);
    applyBooleanValues(args, options, argv);
    // (the camel-case key yargs adds of a `--no-json=yes` it read, not a `--noJson` typed as such, which yargs does not
    // read as the negation: left for the strict check to refuse as an unknown flag, as `--nojson` is)
    const end = argv.includes('--') ? argv.indexOf('--') : argv.length;
    const typed = (name: string) => argv.slice(0, end).some((t) => t === `--${name}` || t.startsWith(`--${name}=`));
    for (const key of options.boolean) {
      for (const n of withCamelForms([key, ...(options.alias[key] ?? [])])) {
        // (only the keys of a `--no-json=VALUE` this reads: `--no-no-json` or `--no-noJson`, which yargs reads as no-json
        // or noJson false, are left for the strict check to refuse, where they were dropped unread)
        if (!argv.slice(0, end).some((t) => t.startsWith(`--no-${n}=`)) || typed(`no-no-${n}`) || typed(`no-${camel(`no-${n}`)}`)) continue;
        delete args[`no-${n}`];
        if (!typed(camel(`no-${n}`))) delete args[camel(`no-${n}`)];
      }
    }
  };
}

/**
 * Whether yargs reads `-kV` (k a one-letter flag, V the rest of the word) as k given V: where V is '-', a decimal
 * number as yargs writes one (digits, a fraction, a lower-case exponent) or starts with a character that is no letter,
 * digit, '_' or '.' (`-j=3`, `-j+3`, `-o/tmp/m.onnx`); anything else it reads as the one-letter flags k, V's first
 * character, … (`-j0x10`: j, 0, x, 1, 0), or from a '.' as a flag named `k.V` (`-j.5`, `-o./m.onnx`: its dot notation,
 * which the CLI turns off, so an unknown flag). `-j=` (no value after the '=') it reads as the one-letter flags j and '='.
 */
const gluedValueRead = (rest: string): boolean =>
  rest !== '=' && (rest === '-' || /^-?\d+(\.\d*)?(e-?\d+)?$/.test(rest) || (/^\W/.test(rest) && !rest.startsWith('.')));

/**
 * The middleware run before yargs' strict check: a one-letter flag that takes a value glued to a value yargs splits
 * into one-letter flags (`-j0x10`, `-j3abc`, `-oout.onnx`, which its strict check called unexpected arguments '0',
 * 'x' or 'u', 't', or reads as a dotted flag name: `-j.5`) is refused: a number flag's as the flag given that value
 * (`-j/--jobs '0x10': expected an integer from 1 to 2^53 − 1`, as `--jobs 0x10` is), one whose value is a decimal
 * number yargs does not read so (`-j1E3`, `-j.5`)
 * or a string flag's (`-oout.onnx`) asked to be written apart (the word and the value as a shell takes them, shellWord:
 * `'-j3 ': write -j '3 '`, its blank shown); `-j=` and `-o=` are the flag given an empty value, as `--jobs=` and
 * `--output=` are.
 */
export function gluedFlagValues(argv: readonly string[]) {
  return (_args: Record<string, unknown>, y: Argv): void => {
    const options = declaredOptions(y);
    const integers = declaredIntegerFlags(y);
    const numbers = declaredNumberFlags(y);
    const end = argv.includes('--') ? argv.indexOf('--') : argv.length;
    for (const key of [...options.number, ...options.string]) {
      const aliases = options.alias[key] ?? [];
      for (const letter of aliases.filter((a) => a.length === 1)) {
        const token = argv.slice(0, end).find((t) => t.length > 2 && t.startsWith(`-${letter}`) && !gluedValueRead(t.slice(2)));
        if (token === undefined) continue;
        const typed = token === `-${letter}=` ? '' : token.slice(2);
        const flag = flagName(key, aliases);
        if (!options.number.includes(key)) {
          if (typed === '') throw new UsageError(`${flag} '': an empty value; give one (see --help)`);
          throw new UsageError(
            `${shellWord(token)}: write -${letter} ${shellWord(typed)} (glued to -${letter}, a value that starts with a letter, a digit, '_' or '.' is not read as its value)`,
          );
        }
        if (isNumberText(typed))
          throw new UsageError(
            `${shellWord(token)}: write -${letter} ${shellWord(typed)} (glued to -${letter}, only digits with a '.' or a lower-case 'e' within are read as its value)`,
          );
        const integer = integers[key];
        if (integer) checkIntegerValue(flag, Number.NaN, typed, integer);
        const range = numbers[key];
        if (range) checkNumberValue(flag, Number.NaN, typed, range);
      }
    }
  };
}

/**
 * The names of the flags typed in `argv` before `--` that the command, as `options` declares it, does not take (`bogus`
 * for `--bogus`, `x` for `-x`; each letter of an undeclared `-xyz`), as yargs' strict check names them, in order; a
 * negative number (`-1`, `-.5`) is no flag, `--no-json` is json's negation where json is a boolean. For the refusal
 * of such a flag where yargs refused first the missing positional argument the flag took as its value (`compress eval
 * --bogus MODEL`: 'missing <model>').
 */
export function undeclaredFlags(argv: readonly string[], options: DeclaredOptions): string[] {
  const known = new Set(withCamelForms([...Object.keys(options.key), ...Object.values(options.alias).flat()]));
  const booleans = new Set(withCamelForms(options.boolean.flatMap((b) => [b, ...(options.alias[b] ?? [])])));
  const end = argv.includes('--') ? argv.indexOf('--') : argv.length;
  const names = argv.slice(0, end).flatMap((t) => {
    const long = /^--([^=]+)/s.exec(t)?.[1];
    if (long !== undefined) return known.has(long) || (long.startsWith('no-') && booleans.has(long.slice(3))) ? [] : [long];
    const short = /^-([^-\d.][^=]*)/s.exec(t)?.[1];
    if (short === undefined || known.has(short[0]!)) return [];
    return [...short].filter((c) => !known.has(c));
  });
  return [...new Set(names)];
}

/** The middleware: runs `checkFlagValues` with the options yargs declared for the command being run. */
export function checkedFlagValues(argv: readonly string[], rules: FlagValueRules = {}) {
  return (args: Record<string, unknown>, y: Argv): void =>
    checkFlagValues(args, declaredOptions(y), argv, {
      integers: declaredIntegerFlags(y),
      numbers: declaredNumberFlags(y),
      ...rules,
    });
}
