/**
 * The error classes of bert-compress. A `UserError` is a fault in what the user gave us (a file, a flag, a
 * model): the CLI prints its one-line message and exits non-zero without a stack trace. Anything else is a bug.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** A fault in the user's input. `message` is one line that names the file or argument and the problem. */
export class UserError extends Error {
  override name = 'UserError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(oneLine(message), options);
  }
}

/** Escapes control characters (names read from a corrupt file can hold anything) so a message stays one line. */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** The file is not a readable ONNX model (missing, truncated, corrupt, unknown opset, cyclic graph…). */
export class ModelLoadError extends UserError {
  override name = 'ModelLoadError';
}

/**
 * A model read (the input, a teacher, a student model) whose weights hold NaN or Infinity, or which computes them on
 * the data it is given: a refusal that depends only on the files read (models, data), so every run of the same code on
 * the same files repeats it (a sweep fails such a point again unrun until they change: SweepStore.fail's `refusedBy`).
 * Not for a NaN that training itself produces.
 */
export class NonFiniteInputError extends ModelLoadError {
  override name = 'NonFiniteInputError';
}

/**
 * `e` as the refusal of a model the run made itself (a pass or training before the step that refused it, not a file
 * read): a NonFiniteInputError as a plain ModelLoadError of the same line, which a sweep retries, since the files it read
 * did not hold the NaN (runPipeline's steps after the first, a point's stage of passes after a training stage).
 * Anything else as it is.
 */
export function madeModelRefusal(e: unknown): unknown {
  return e instanceof NonFiniteInputError ? new ModelLoadError(e.message, { cause: e }) : e;
}

/**
 * `e` with each path `from` its message names (a staging folder's or a temporary file's, which the user never sees)
 * replaced by the path `to` the user gave (the output or input): the same error, its message changed in place; the
 * longest `from` first, so a file in a staged folder is named by its place in the user's folder.
 */
export function namingUserPaths(e: unknown, paths: ReadonlyArray<readonly [from: string, to: string]>): unknown {
  if (!(e instanceof Error)) return e;
  let message = e.message;
  for (const [from, to] of [...paths].sort((a, b) => b[0].length - a[0].length)) if (from !== '') message = message.split(from).join(to);
  if (message !== e.message) e.message = message;
  return e;
}

/** The graph is valid ONNX but not a BERT-family encoder we understand. */
export class NotBertError extends UserError {
  override name = 'NotBertError';
}

/** Settings that cannot be applied (ratio out of range, rank above hidden size, unknown task…). */
export class SettingsError extends UserError {
  override name = 'SettingsError';
}

/**
 * Settings refused because what they ask would not fit in this machine's memory (an eval batch, a bench shape, a
 * student made from sizes): another machine, with more, may take them (a queue's worker gives such a point back).
 */
export class MemoryRefusal extends SettingsError {
  override name = 'MemoryRefusal';
}

/**
 * A mistake on the command line itself, seen before any file is read: an unknown command or flag, a flag's value that
 * is none of that flag's values, a missing argument, flags that do not go together; or a value of an environment
 * variable bert-compress reads that is none of its values (BERT_COMPRESS_ORT_LOG_LEVEL, BERT_COMPRESS_MACHINE_LOAD,
 * HF_HUB_DOWNLOAD_TIMEOUT, GLUE_BASE_URL…: the user's setting, as a flag's value is). The CLI exits 2 (1 for every
 * other UserError, a fault in the files, models or data the command read).
 */
export class UsageError extends SettingsError {
  override name = 'UsageError';
}

/**
 * The range of integers from `min` to `max`, as every refusal of an integer and every setting's help words it: `integer
 * from 1 to 2^53 − 1`, its own upper bound where it has one, else 2^53 − 1, the largest whole number a value is read
 * exactly up to (`--seed 1e16`, `rank: 1e16` are whole numbers, past it).
 */
export function integerRange(min: number, max: number = Number.MAX_SAFE_INTEGER): string {
  return `integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? '2^53 − 1' : max}`;
}

/**
 * `expected an integer from MIN to MAX` (integerRange) unless `value` is such an integer, undefined when it is: the
 * one check of every integer a user types (a flag, a pass's setting as a flag or in a sweep file, a sweep file's
 * setting, a train or distill step's), which each words in its own frame ('--seed 1.5: …', 'rank 1e16: …',
 * 'seed: …, got number 1.5').
 */
export function integerProblem(value: unknown, min: number, max: number = Number.MAX_SAFE_INTEGER): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max) return undefined;
  return `expected an ${integerRange(min, max)}`;
}

/**
 * A value with its kind, as every refusal shows what it got (`…, got string "x"`), where valueText writes a value alone
 * in its place: 'null', 'a list', 'string "x"', 'number 3' (shownNumber's words: 'number
 * 1e16 (past 2^53 − 1 …)', 'number Infinity (infinite: …)'), 'boolean true', 'bigint 1'; nothing and an object as a file
 * a user writes holds them ('nothing', 'a mapping': a sweep or matches file, YAML or JSON) or as a library caller gives
 * them ('undefined', 'an object').
 */
export function valueAndKind(v: unknown, from: 'file' | 'code' = 'code'): string {
  if (v === undefined) return from === 'file' ? 'nothing' : 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return from === 'file' ? 'a mapping' : 'an object';
  if (typeof v === 'number') return `number ${shownNumber(v)}`;
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

/**
 * How a message counts the values a model computes or a weight holds that are not finite: '4 non-finite values (NaN
 * or Infinity; the first NaN)', with `index` where the first lies in a weight ('(…; the first at index 5, NaN)').
 */
export function nonFiniteText({ count, value, index }: { count: number; value: number; index?: number }): string {
  const first = index === undefined ? String(value) : `at index ${index}, ${value}`;
  return `${counted(count, 'non-finite value')} (NaN or Infinity; the first ${first})`;
}

/**
 * A count and its noun, the one plural of messages: '1 model', '2 models', `plural` where the noun's is not NOUNs
 * ('1 batch', '2 batches'; `o` as a string, or `o.plural`); `o.grouped` writes the count's thousands apart as
 * groupedDigits does ('12,345 examples'), for counts that run large (a summary's examples and steps, a tensor's values).
 */
export function counted(n: number | bigint, noun: string, o: string | { plural?: string; grouped?: boolean } = {}): string {
  const { plural: many = `${noun}s`, grouped = false } = typeof o === 'string' ? { plural: o } : o;
  return `${grouped ? groupedDigits(n) : n} ${plural(n, noun, many)}`;
}

/**
 * The word of `n` things where a message does not show the count (counted's rule, without the number): `one` for one,
 * else `many`, by default ONEs ('the table' or 'the tables': plural(n, 'table')); a verb's form too, its own `many`
 * given (plural(n, 'folds', 'fold')).
 */
export function plural(n: number | bigint, one: string, many = `${one}s`): string {
  return n === 1 || n === 1n ? one : many;
}

/** The verb 'to be' of `n` things in a message, beside counted: 'is' for one, 'are' for more ('2 points are queued'). */
export function isAre(n: number): string {
  return plural(n, 'is', 'are');
}

/** The pronoun of `n` things in a message, beside counted: 'it' for one, 'them' for more ('rerun to retry it'). */
export function them(n: number): string {
  return plural(n, 'it', 'them');
}

/**
 * A whole number with its thousands set apart by commas, the one grouping of large numbers in messages ('12,345',
 * '-1,000', '999'; a fraction's digits after the point as they are), the same under every locale (toLocaleString's grouping follows ICU's data for its locale).
 */
export function groupedDigits(n: number | bigint): string {
  // (the digits before a point alone: 1234.5678 as 1,234.5678)
  return wholeDigits(n).replace(/^-?\d+/, (whole) => whole.replace(/\B(?=(\d{3})+$)/g, ','));
}

/**
 * `n` as String writes it, but a number of 21 digits or more (1e+21, which String writes with an exponent: a count of a
 * student's parameters from huge sizes) in its digits, those String gives followed by zeros ('1000000000000000000000').
 */
function wholeDigits(n: number | bigint): string {
  const text = String(n);
  const m = /^(-?)(\d)(?:\.(\d+))?e\+(\d+)$/.exec(text);
  if (!m) return text;
  const fraction = m[3] ?? '';
  return `${m[1]}${m[2]}${fraction}${'0'.repeat(Number(m[4]) - fraction.length)}`;
}

/**
 * `text` single-quoted as a shell takes it, the one quoting of text in messages (refusals suggest commands to type):
 * a quote in it as '\'' ('it'\''s'); a text holding a control character (a line break, a tab) in bash's $'…' quotes,
 * those characters escaped as oneLine escapes them in every message ($'3\n', $'\x09x'), so the message stays one line.
 */
export function quotedText(text: string): string {
  const quoted = text.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  const escaped = oneLine(quoted);
  return escaped === quoted ? `'${text.replace(/'/g, `'\\''`)}'` : `$'${escaped}'`;
}

/**
 * A value alone, as a message shows it in its place ('ratio 0.5', 'lr 0.001 (this run: 0.002)', 'num_hidden_layers: 2 → 1'):
 * text quoted as a shell takes it (quotedText: 'scaled', 'it'\''s', $'a\n': one line wherever the text goes), a number as shownNumber writes it, true, false and null as they are, none for a missing one,
 * anything else as JSON ([1,2], {"a":1}); where valueAndKind says what kind of value it is ('string "x"', 'number 3').
 */
export function valueText(v: unknown): string {
  if (v === undefined) return 'none';
  if (typeof v === 'string') return quotedText(v);
  if (typeof v === 'number') return shownNumber(v);
  if (typeof v === 'boolean' || v === null) return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * A value alone as a refusal shows it where it may come as typed text (a pass setting's flag, `--embedding-lr`, a
 * number in a setting's or spec's grammar): text that reads as a number written in decimal (isNumberText) bare as
 * typed, blanks trimmed ('ratio 1.5', 'rank 1e16', as number flags show theirs: '--lr 1.5'), other text quoted
 * ('rank '1e''), anything else as valueText writes it.
 */
export function typedValueText(v: unknown): string {
  return typeof v === 'string' && isNumberText(v) ? v.trim() : valueText(v);
}

/** How a choice's refusal words the choices: `or` (the other form the value may take) after them, `note` last. */
export interface Choices {
  or?: string;
  note?: string;
}

/**
 * `expected one of A, B` (`, or OTHER` where the value may also take another form: `or a list of matches`; the note
 * after), then the value as a file or a library caller gives it (valueAndKind, `from` where it comes from: `, got
 * string "kl"`, `got nothing`): the problem of a value outside a fixed list of choices where its frame names the
 * place (a sweep file's `settings.logitLoss: …`), as integerProblem is an integer's; choiceRefusal words it whole.
 */
export function choiceProblem(value: unknown, choices: readonly (string | number)[], o: Choices & { from?: 'file' | 'code' } = {}): string {
  return `${choicesExpected(choices, o)}, got ${valueAndKind(value, o.from)}`;
}

function choicesExpected(choices: readonly (string | number)[], o: Choices): string {
  return `expected ${choiceWords(choices, o)}`;
}

/**
 * The choices as every refusal of a value outside them words them, `one of A, B` (`, or OTHER`, then the note): what
 * choiceRefusal expects, and a pass setting's (oneOf in src/pass/settings.ts, whose refusal its setting frames).
 */
export function choiceWords(choices: readonly (string | number)[], o: Choices = {}): string {
  return `one of ${choices.join(', ')}${o.or ? `, or ${o.or}` : ''}${o.note ? ` ${o.note}` : ''}`;
}

/**
 * The one refusal of a value outside a fixed list of choices, `name` as the caller names it (a flag, `--logit-loss`;
 * an argument, `action`; a file's field, `config.json: model_type`; library code knows no flag: its caller passes the
 * name). Typed text (a flag's value; `from` not given) in its place as a shell takes it (typedValueText), as a number
 * flag's is (`--logit-loss 'kl': expected one of ce, mse`, `--split '$HOME': …`, `build opset 18: …`: a value of the
 * choices' kind); a value a file or a library caller gives (`from`), or one of another kind, after the choices with its
 * kind (choiceProblem: `model_type: expected one of bert, …, got string "gpt2"`), as every such value's refusal shows it.
 */
export function choiceRefusal(name: string, value: unknown, choices: readonly (string | number)[], o: Choices & { from?: 'file' | 'code' } = {}): string {
  if (o.from === undefined && typeof value === typeof choices[0]) return `${name} ${typedValueText(value)}: ${choicesExpected(choices, o)}`;
  return `${name}: ${choiceProblem(value, choices, o)}`;
}

/**
 * Throws a SettingsError `WHAT: expected an integer from MIN to MAX, got V` (integerProblem; V as valueAndKind shows it,
 * `from` where the value comes from: 'number 1.5', 'string "1"', 'a list', 'bigint 10'; 'nothing' and 'a mapping' in a
 * file) unless `value` is such an integer: the check of an integer a library caller gives in an option (a schedule's
 * totalSteps, augmentation's k) or a file gives (an intermediate match's layer), named by `what`.
 */
export function checkIntegerOption(what: string, value: unknown, min: number, o: { max?: number; from?: 'file' | 'code' } = {}): void {
  const problem = integerProblem(value, min, o.max);
  if (problem !== undefined) throw new SettingsError(`${what}: ${problem}, got ${valueAndKind(value, o.from)}`);
}

/**
 * A number read from a file a user writes (a sweep file, a matches file: YAML or JSON) as every message quotes it:
 * past 2^53 − 1 YAML and JSON read a whole number rounded (9007199254740993 as 9007199254740992), so the number
 * shown is not the one written and says why ('9007199254740992 (past 2^53 − 1 a number is not read exactly)'); an
 * infinity, written (YAML's .inf, -.inf) or read from a number past float64's range (1e400, -1e400), says it is one
 * and where it may come from ('-Infinity (infinite: -.inf, or a number too large to hold)'), the same whatever its sign;
 * -0 (YAML's and JSON's -0, a flag's `-0`) as -0, as a flag shows it typed, where String() wrote 0, a value the rule takes.
 */
export function shownNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (Object.is(n, -0)) return '-0';
  if (!Number.isFinite(n)) return `${n} (infinite: ${n < 0 ? '-' : ''}.inf, or a number too large to hold)`;
  if (!Number.isSafeInteger(n) && Number.isInteger(n)) return `${n} (past 2^53 − 1 a number is not read exactly)`;
  return String(n);
}

/** A number written in decimal: its integer digits (1), its fraction's digits after digits (2) or alone (3), its exponent (4). */
const NUMBER_TEXT = /^\s*[+-]?(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:e([+-]?\d+))?\s*$/i;

/**
 * Whether `text` is a number written in decimal (`3`, `-0.5`, `.5`, `1e3`, blanks around it): what every flag taking a
 * number reads, where JS's Number() also takes `0x10`, `0b11`, `0o7` and `Infinity`.
 */
export function isNumberText(text: string): boolean {
  return NUMBER_TEXT.test(text);
}

/** What an integer rule holds a value to: a greatest value (2^53 − 1 where not given), a test, and its words. */
export type IntegerRule = { max?: number; test?: (n: number) => boolean; what?: string };

/**
 * `expected …` unless `n` is an integer from `min` to `rule.max` (integerProblem's words) that passes `rule.test`
 * (`expected RULE.WHAT` where it does not), undefined when it is: the check of integer() and integerText.
 */
export function integerRuleProblem(n: unknown, min: number, rule: IntegerRule = {}): string | undefined {
  const problem = integerProblem(n, min, rule.max);
  if (!rule.test) return problem;
  return problem === undefined && rule.test(n as number) ? undefined : `expected ${rule.what ?? `an ${integerRange(min, rule.max)}`}`;
}

/**
 * The integer `text` writes where a setting's grammar, a spec or a list takes one (`groups:N`, `int8-group:G`,
 * `layer:K`, `entropy:BINS`, a student spec's sizes, each number of a head list, a layer map or a layer list), read as
 * every integer typed is (integerOfText: '1e3', '32.0', blanks around it; not '1e-400') and checked by integerProblem (or
 * `rule`); a SettingsError `WHAT TEXT: expected an integer from MIN to 2^53 − 1` otherwise, TEXT as typedValueText
 * shows it (a number bare: 'layers 0', other text quoted: 'rank '1e'').
 */
export function integerText(what: string, text: string, min: number, rule?: IntegerRule): number {
  const n = integerOfText(text);
  const problem = integerRuleProblem(n, min, rule);
  if (problem !== undefined) throw new SettingsError(`${what} ${typedValueText(text.trim())}: ${problem}`);
  // (-0, which '-0' reads as, is 0)
  return n + 0;
}

/**
 * The number `text` writes in decimal (isNumberText: '1e3', '32.0', blanks around it), else NaN ('0x10', '', 'x').
 */
export function numberOfText(text: string): number {
  return isNumberText(text) ? Number(text) : Number.NaN;
}

/**
 * The integer `text` writes in decimal (isNumberText: '1e3', '32.0', '1.5e1', blanks around it), judged by its digits,
 * else NaN ('0x10', '1.5', and a fraction that reads as an integer: '1e-400' as 0, '3.0000000000000001' as 3), for
 * integerProblem to judge: how every integer typed is read (an integer flag, integerText, bench's lists each size).
 */
export function integerOfText(text: string): number {
  const parts = NUMBER_TEXT.exec(text);
  if (!parts) return Number.NaN;
  const [, whole = '', afterDigits, alone, exponent = '0'] = parts;
  // (the digits past the point once the exponent has moved it: any of them not 0 makes a fraction)
  const point = whole.length + Number(exponent);
  return /[1-9]/.test(`${whole}${afterDigits ?? alone ?? ''}`.slice(Math.max(0, point))) ? Number.NaN : Number(text);
}

/** How a refusal says that a number typed reads as 0 (tooSmallToHold). */
export const TOO_SMALL_TO_HOLD = 'too small for a number to hold (it reads as 0)';

/**
 * Whether `text` writes in decimal a number other than 0 that reads as 0, too small for a float64 to hold ('1e-400',
 * '2e-325'): where every number typed that takes fractions (a flag, an environment variable) is refused
 * (TOO_SMALL_TO_HOLD) rather than read as 0, which may mean a default (--threads 0, a hub timeout of 0).
 */
export function tooSmallToHold(text: string): boolean {
  return isNumberText(text) && Number(text) === 0 && /[1-9]/.test(text.split(/e/i)[0]!);
}

/**
 * The text each number flag of the command line being run was typed as ('--epochs' → '1e16', '--seed' →
 * '9007199254740993'; the CLI's flag check notes them, noteFlagText), for a refusal of the value to quote what was
 * typed, not the number yargs read (10000000000000000, 9007199254740992): set for the run of one command line
 * (withFlagTexts), absent for a library caller.
 */
const flagTexts = new AsyncLocalStorage<Map<string, string>>();

/** Runs `run` (one command line's parse and command) with its flags' typed texts noted apart (flagTexts). */
export function withFlagTexts<T>(run: () => T): T {
  return flagTexts.run(new Map(), run);
}

/** Notes `text` as what `flag` ('--epochs') was typed as on the command line being run (flagTexts). */
export function noteFlagText(flag: string, text: string): void {
  flagTexts.getStore()?.set(flag, text);
}

/**
 * `value` of `flag` as a refusal quotes it: as typed on the command line being run where it reads as `value`
 * ('1e16', '9007199254740993', '-0', blanks trimmed; of a list flag's comma-separated text, `--batch 1e8,2`, the
 * element that reads as it), else the number.
 */
export function shownFlagValue(flag: string, value: number): string {
  const typed = flagTexts.getStore()?.get(flag);
  return (
    typed
      ?.split(',')
      .map((part) => part.trim())
      .find((part) => isNumberText(part) && Number(part) === value) ?? String(value)
  );
}

/**
 * The integers an integer flag or setting takes: from `min` to `max` (2^53 − 1 where not given; integerRange's words);
 * `note` follows its refusal.
 */
export interface IntegerRange {
  min: number;
  max?: number;
  note?: string;
}

/**
 * Throws `error` (SettingsError, or UsageError where the CLI checks the flag) `--flag V: expected an integer from MIN
 * to MAX` (integerProblem; `note` after it) unless `value` is such an integer: the check of every integer flag, `V` as
 * typed on the command line (shownFlagValue: '--epochs 1e16', '--seed 9007199254740993').
 */
export function checkIntegerFlag(
  flag: string,
  value: number,
  min: number,
  o: { max?: number; note?: string; error?: new (message: string) => UserError } = {},
): void {
  const problem = integerProblem(value, min, o.max);
  if (problem !== undefined) throw new (o.error ?? SettingsError)(flagValueRefusal(flag, value, `${problem}${o.note ? ` ${o.note}` : ''}`));
}

/**
 * The refusal of `value` given for `flag` (its `problem`, the range's note after it): `--lr 0.0: expected …` for a
 * number, shown as typed (shownFlagValue); another value, which only a library caller gives (`settings: {lr:
 * '0.001'}`), after the problem as valueAndKind shows it (`--lr: expected a number greater than 0, got string
 * "0.001"`), where a number's form would show a valid-looking 0.001.
 */
function flagValueRefusal(flag: string, value: unknown, problem: string): string {
  return typeof value === 'number' ? `${flag} ${shownFlagValue(flag, value)}: ${problem}` : `${flag}: ${problem}, got ${valueAndKind(value)}`;
}

/**
 * The numbers a number flag or setting that takes fractions takes (a rate, a weight, seconds, megabytes): finite, from
 * `min` (greater than it where `above`), to `max` where given (less than it where `below`); `unit` names what it counts
 * ('seconds'); `note` follows its refusal.
 */
export interface NumberRange {
  min: number;
  above?: boolean;
  max?: number;
  below?: boolean;
  unit?: string;
  note?: string;
}

/**
 * The numbers of `range` as every refusal of a number and every help words them: 'number greater than 0', 'number 0 or
 * greater', 'number in [0, 1)', 'number of seconds greater than 0' (the words integerRange gives an integer's range).
 */
export function numberRange(range: NumberRange): string {
  const what = `number${range.unit === undefined ? '' : ` of ${range.unit}`}`;
  const min = bound(range.min);
  if (range.max !== undefined) return `${what} in ${range.above ? '(' : '['}${min}, ${bound(range.max)}${range.below ? ')' : ']'}`;
  return `${what} ${range.above ? `greater than ${min}` : `${min} or greater`}`;
}

/** A range's bound as its words write it: 1e19, not the 10000000000000000000 String() writes. */
const bound = (n: number) => (Math.abs(n) >= 1e15 ? n.toExponential().replace('e+', 'e') : String(n));

/** Whether `value` is a finite number in `range`. */
function inNumberRange(value: unknown, range: NumberRange): value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (range.above ? !(value > range.min) : !(value >= range.min)) return false;
  return range.max === undefined || (range.below ? value < range.max : value <= range.max);
}

/**
 * `expected a number …` (numberRange: `expected a number greater than 0`; `expected a finite number …` for an infinite
 * one, which every range leaves out) unless `value` is a number in `range`, undefined when it is: the one check of every
 * number a user types that takes fractions (a flag, a sweep file's setting), as integerProblem is of every integer.
 */
export function numberProblem(value: unknown, range: NumberRange): string | undefined {
  if (inNumberRange(value, range)) return undefined;
  const infinite = typeof value === 'number' && !Number.isNaN(value) && !Number.isFinite(value);
  return `expected a ${infinite ? 'finite ' : ''}${numberRange(range)}`;
}

/**
 * Throws `error` (SettingsError, or UsageError where the CLI checks the flag) `--flag V: expected a number …`
 * (numberProblem; the range's note after it) unless `value` is a number in `range`: the check of every number flag
 * that takes fractions, `V` as typed on the command line (shownFlagValue: '--lr 0.0', '--lock-seconds 0.0000000001').
 */
export function checkNumberFlag(flag: string, value: number, range: NumberRange, o: { error?: new (message: string) => UserError } = {}): void {
  const problem = numberProblem(value, range);
  if (problem !== undefined) throw new (o.error ?? SettingsError)(flagValueRefusal(flag, value, `${problem}${range.note ? ` ${range.note}` : ''}`));
}

/** Malformed data files (GLUE TSV, config.json, tokenizer files). */
export class DataError extends UserError {
  override name = 'DataError';
}

/**
 * A text file refused for bytes that are not UTF-8 (readLines' strictUtf8, utf8Text), where the default decoding reads
 * U+FFFD: the tokenizer reading versions mark a folder whose tokenizer files hold such bytes (tokenizerTraits).
 */
export class NotUtf8Error extends DataError {
  override name = 'NotUtf8Error';
}

/** The sweep queue (Redis, BullMQ) cannot be used: a bad `redis://` URL, a server that does not answer, a missing driver. */
export class QueueError extends UserError {
  override name = 'QueueError';
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** A short string for any thrown value. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** The first line of `errorMessage(e)`, for one-line reports. */
export function errorLine(e: unknown): string {
  return errorMessage(e).split('\n')[0]!;
}

/**
 * A source location onnxruntime puts before the check that failed, with the C++ function when it names one:
 * '/onnxruntime_src/onnxruntime/core/providers/cpu/math/element_wise_ops.h:563 void
 * onnxruntime::BroadcastIterator::Init(ptrdiff_t, ptrdiff_t) ', 'matmul_helper.h:59 '.
 */
const ORT_SOURCE_LOCATION = /(?:[\w.+-]*\/)*[\w.+-]+\.(?:h|hpp|cc|cpp|c):\d+ (?:[\w:<>,*&~ ]*::[\w:<>,*&~]*\([^()]*\)(?: const)? )?/g;

/** onnxruntime's advice after an input of the wrong shape, which says nothing the message does not. */
const ORT_GENERIC_ADVICE = /\s*Please fix either the inputs\/outputs or the model\.?$/;

/**
 * An onnxruntime error in one line that keeps its detail, for every message that reports one: onnxruntime's lines
 * joined with '; ' ('Got invalid dimensions for input: attention_mask for the following indices' is followed by a
 * line per index, 'index: 1 Got: 8 Expected: 16', which errorLine's first line dropped), without the C++ source
 * locations before a failed check nor the advice to fix the inputs or the model.
 */
export function ortErrorLine(e: unknown): string {
  return errorMessage(e)
    .replace(ORT_SOURCE_LOCATION, '')
    .split('\n')
    .map((l) => l.replace(ORT_GENERIC_ADVICE, '').trim())
    .filter((l) => l !== '')
    .join('; ');
}

/** Why an fs call failed, in words, by errno code. */
export const FS_REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'is a folder',
  // (not an errno of Linux: file-lock.ts's code for a lock path holding a device, a pipe or a socket)
  EFTYPE: 'not a file (a device, a pipe or a socket)',
  // (nor this one: file-lock.ts's code for a lock path holding a symbolic link that names nothing)
  EDANGLING: 'a symbolic link to nothing',
  // (nor this one: file-lock.ts's code for a lock path holding a symbolic link, which no lock is made through)
  ESYMLINK: 'a symbolic link',
  ENOTDIR: 'a part of the path is not a folder',
  ENOENT: 'no such file or folder',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'a symbolic link loop (too many symbolic links)',
  EMFILE: 'too many open files',
  EBUSY: 'busy',
  EXDEV: 'cannot move across file systems',
  EIO: 'input/output error',
};

/** Why an fs call failed, in words (FS_REASONS by its errno code), else the error's first line. */
export function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return (code && FS_REASONS[code]) || errorLine(e);
}
