/**
 * A pass's settings, declared once: a strict zod object whose fields carry their type, default and description,
 * and the `compress` flags that fill them. Everything else is derived from that declaration: the validation of a
 * sweep file's step and of the command line (the same parse, so a pipeline means the same thing in both), the
 * canonical settings that lineage records and sweep keys hash (defaults applied, unknown keys refused), the flags'
 * help and `compress passes`. Every refusal is one line that names the pass, the setting (the sweep-file key) and
 * its flag, e.g. `prune-heads: ratio 1.5: expected a number in [0, 1) (flag --prune-heads)`; a sweep file's step is
 * refused in a file's words, at the setting (fileSettingsProblem: `settings.ratio: expected a number in [0, 1), got
 * number 1.5`).
 *
 * This module and the declarations (e.g. src/prune/settings.ts) import no model code, so the CLI can build its
 * flags without loading onnxruntime.
 */
import { z } from 'zod';
import {
  choiceProblem,
  choiceWords,
  integerOfText,
  integerProblem,
  integerRange,
  type IntegerRule,
  integerRuleProblem,
  integerText,
  isNumberText,
  type NumberRange,
  numberProblem,
  numberRange,
  SettingsError,
  shownNumber,
  TOO_SMALL_TO_HOLD,
  tooSmallToHold,
  typedValueText,
  plural,
  quotedText,
  valueAndKind,
} from '../errors.ts';

/** A pass's settings schema: a strict zod object (unknown keys are refused). */
export type SettingsSchema = z.ZodObject<z.ZodRawShape, z.core.$strict>;

/** A `compress` flag and the setting it fills. */
export interface PassFlag {
  /** The flag's name without dashes, e.g. 'prune-heads'. */
  flag: string;
  /** The setting the flag's value fills. */
  setting: string;
  /** A value of this form fills another setting instead (`--prune-heads 0:1,2` fills `heads`, not `ratio`). */
  alternative?: { setting: string; when: RegExp; form: string };
  /** A boolean flag that sets its setting to the opposite (`--per-tensor`: perChannel false). */
  negated?: boolean;
}

/** The flags of one pass. */
export interface PassFlags {
  /** Flags that add the pass to the pipeline, with their value as a setting. */
  adds: readonly PassFlag[];
  /** Flags that set one more setting of the pass; they need one of the `adds` flags. */
  modifiers: readonly PassFlag[];
}

/** What a pass declares about its settings. */
export interface PassDeclaration<S extends SettingsSchema, O> {
  /** Registry name, e.g. 'prune-heads'. */
  name: string;
  description: string;
  /**
   * Bumped (by one) whenever the pass writes a different model for the same input and settings (a fix, a changed
   * default): sweep points computed by an older version are then stale instead of silently reused. Starts at 1.
   */
  version: number;
  settings: S;
  flags: PassFlags;
  /** The typed options `run` takes, from canonical settings. */
  options: (settings: z.output<S>) => O;
  /** Whether a pass with these settings measures the model on calibration data (default: never). */
  needsCalibration?: (settings: z.output<S>) => boolean;
  /**
   * Whether a pass with these settings draws random numbers from the run's seed (PassContext.seed; default: never):
   * only then does a sweep point's key hold the sweep's seed, so another seed does not recompute the other points.
   */
  readsSeed?: (settings: z.output<S>) => boolean;
  /**
   * These settings with the seed they draw with written as their own: the run's (`runSeed`, a sweep's seed; undefined:
   * none) where they draw from it, the default left out (default: as they are). A sweep point's key holds these, so
   * that a step's own seed and the sweep's, equal, or the default written out and none, are one point.
   */
  seeded?: (settings: z.output<S>, runSeed: number | undefined) => z.output<S>;
  /**
   * The version a sweep point of these settings is keyed with, drawing from the run's seed `runSeed` where they draw
   * from it (default: `version`): a bump that changes what the pass writes for some settings only gives those the new
   * version, the others keep the one before it, so their stored points stay current. At most `version`.
   */
  keyVersion?: (settings: z.output<S>, runSeed: number | undefined) => number;
  /**
   * These settings as earlier code made them canonical, where it made them otherwise (default: never): a sweep point
   * stored under the key of those is this point, its result reused rather than computed again (key.ts pointKeys).
   */
  earlierSettings?: (settings: z.output<S>) => z.output<S> | undefined;
  /**
   * What of these settings reads the model's class scores (a loss on calibration data), and what to use instead on a
   * model without a classifier; undefined when nothing does (default: never).
   */
  needsClassifier?: (settings: z.output<S>) => ClassifierNeed | undefined;
  /**
   * Whether a pass with these settings reads the calibration examples' gold labels (a loss against them, not against
   * the model's own predictions; default: never): only then does the order they are read in (config.json's id2label)
   * matter to it.
   */
  readsLabels?: (settings: z.output<S>) => boolean;
  /**
   * These settings as they act on a model of `shape`, in one form (drop-layers: the layers it removes, whichever way
   * they were named), and the shape they leave; default: the settings as they are and the shape unchanged. What tells
   * two pipelines that are one point on a sweep's model (sweep/plan.ts), not part of a point's key (computed without
   * the model), and what tells the depth a sweep's later distill step gets. Settings the model cannot take are given
   * back as they are, with no shape (undefined: the pass refuses the model, so what it would leave is not known).
   */
  onModel?: (settings: z.output<S>, shape: ModelShape) => { settings: Record<string, unknown>; shape: ModelShape | undefined };
}

/** What `onModel` reads of a model. */
export interface ModelShape {
  numLayers: number;
}

/** A setting that reads the model's class scores: `what` (e.g. "importance 'ablation'") and the way around it. */
export interface ClassifierNeed {
  what: string;
  /** What to use instead on a model without a classifier, e.g. "use importance 'magnitude'". */
  instead: string;
}

/** A pass's settings declaration with its parsing; a `Pass` adds `run` to it. */
export interface PassSettings<O> {
  readonly name: string;
  readonly description: string;
  readonly version: number;
  readonly settings: SettingsSchema;
  readonly flags: PassFlags;
  /** Validates raw settings (from flags, a sweep file or a library call): canonical JSON settings; SettingsError. */
  check(raw: Record<string, unknown>): Record<string, unknown>;
  /** The typed options of canonical settings (see `check`). */
  options(settings: Record<string, unknown>): O;
  /** `check`, then `options`. */
  parse(raw: Record<string, unknown>): O;
  /** Whether canonical settings make the pass measure the model on calibration data. */
  needsCalibration(settings: Record<string, unknown>): boolean;
  readsSeed(settings: Record<string, unknown>): boolean;
  /** Canonical settings with the seed they draw with written as their own (see PassDeclaration.seeded). */
  seeded(settings: Record<string, unknown>, runSeed: number | undefined): Record<string, unknown>;
  /** The version a sweep point of canonical settings is keyed with (see PassDeclaration.keyVersion). */
  keyVersion(settings: Record<string, unknown>, runSeed: number | undefined): number;
  /** Canonical settings as earlier code made them canonical, where it made them otherwise (see PassDeclaration.earlierSettings). */
  earlierSettings(settings: Record<string, unknown>): Record<string, unknown> | undefined;
  /** What of canonical settings reads the model's class scores (see PassDeclaration.needsClassifier). */
  needsClassifier(settings: Record<string, unknown>): ClassifierNeed | undefined;
  /** Whether canonical settings read the calibration labels (see PassDeclaration.readsLabels). */
  readsLabels(settings: Record<string, unknown>): boolean;
  /** Canonical settings as they act on a model of `shape` (see PassDeclaration.onModel). */
  onModel(settings: Record<string, unknown>, shape: ModelShape): { settings: Record<string, unknown>; shape: ModelShape | undefined };
}

/** Checks a declaration's consistency (a bug otherwise) and adds the parsing derived from it. */
export function declarePass<S extends SettingsSchema, O>(d: PassDeclaration<S, O>): PassSettings<O> {
  if (!Number.isInteger(d.version) || d.version < 1) throw new Error(`pass ${quotedText(d.name)}: version must be a positive integer`);
  const keys = Object.keys(d.settings.shape);
  for (const f of [...d.flags.adds, ...d.flags.modifiers]) {
    for (const s of [f.setting, f.alternative?.setting])
      if (s !== undefined && !keys.includes(s)) throw new Error(`pass ${quotedText(d.name)}: flag --${f.flag} fills unknown setting ${quotedText(s)}`);
  }
  for (const k of keys)
    if (!(d.settings.shape[k] as z.ZodType).description) throw new Error(`pass ${quotedText(d.name)}: setting ${quotedText(k)} has no description`);
  const check = (raw: Record<string, unknown>): Record<string, unknown> => {
    const r = d.settings.safeParse(raw);
    if (!r.success) throw new SettingsError(issueMessage(d, raw, r.error.issues));
    return r.data as Record<string, unknown>;
  };
  const options = (settings: Record<string, unknown>): O => d.options(settings as z.output<S>);
  return {
    name: d.name,
    description: d.description,
    version: d.version,
    settings: d.settings,
    flags: d.flags,
    check,
    options,
    parse: (raw) => options(check(raw)),
    needsCalibration: (settings) => d.needsCalibration?.(settings as z.output<S>) ?? false,
    readsSeed: (settings) => d.readsSeed?.(settings as z.output<S>) ?? false,
    seeded: (settings, runSeed) => (d.seeded ? (d.seeded(settings as z.output<S>, runSeed) as Record<string, unknown>) : settings),
    keyVersion: (settings, runSeed) => {
      const v = d.keyVersion?.(settings as z.output<S>, runSeed) ?? d.version;
      if (!Number.isInteger(v) || v < 1 || v > d.version)
        throw new Error(`pass ${quotedText(d.name)}: keyVersion ${v} is not a version from 1 to ${d.version}`);
      return v;
    },
    earlierSettings: (settings) => d.earlierSettings?.(settings as z.output<S>) as Record<string, unknown> | undefined,
    needsClassifier: (settings) => d.needsClassifier?.(settings as z.output<S>),
    readsLabels: (settings) => d.readsLabels?.(settings as z.output<S>) ?? false,
    onModel: (settings, shape) => d.onModel?.(settings as z.output<S>, shape) ?? { settings, shape },
  };
}

/** The flags that fill `key` (as its value or its alternative's), e.g. ['--prune-heads']. */
export function flagsFilling(flags: PassFlags, key: string): string[] {
  return [...flags.adds, ...flags.modifiers].filter((f) => f.setting === key || f.alternative?.setting === key).map((f) => `--${f.flag}`);
}

/**
 * The flags that fill `key`, for messages: 'flag --prune-heads', or for a setting no flag fills (a pass a library
 * caller registered) 'no command-line flag for KEY', which a library caller's refusal names by its step
 * (`steps[0].settings.KEY`: pipelineOptionNames).
 */
export function flagNote(flags: PassFlags, key: string): string {
  const names = flagsFilling(flags, key);
  return names.length ? `flag ${names.join(' or ')}` : `${NO_FLAG_FOR} ${key}`;
}

/** The words of flagNote before a setting no flag fills. */
export const NO_FLAG_FOR = 'no command-line flag for';

/**
 * The one-line message of a setting's fault: `pass: key value: problem (flag --x)`, the value as typedValueText shows it
 * (a flag's number text bare, as number flags show theirs: `prune-ffn: ratio 1.5`, other text quoted).
 */
export function settingMessage(pass: { name: string; flags: PassFlags }, key: string, value: unknown, problem: string): string {
  return `${pass.name}: ${key}${value === undefined ? '' : ` ${typedValueText(value)}`}: ${problem} (${flagNote(pass.flags, key)})`;
}

/** A SettingsError for a setting that cannot be applied (to the model at hand, say), in the same form. */
export function settingError(pass: { name: string; flags: PassFlags }, key: string, value: unknown, problem: string): SettingsError {
  return new SettingsError(settingMessage(pass, key, value, problem));
}

/** The first issue (unknown keys first: a misspelt key explains a missing one), as one line. */
function issueMessage(d: PassDeclaration<SettingsSchema, unknown>, raw: Record<string, unknown>, issues: readonly z.core.$ZodIssue[]): string {
  const unknown = issues.find((i) => i.code === 'unrecognized_keys');
  if (unknown) {
    const keys = unknown.keys;
    const known = Object.keys(d.settings.shape);
    // (a pass without settings, a caller's: it said '(known: )')
    return `${d.name}: unknown ${plural(keys.length, 'setting')} ${keys.map(quotedText).join(', ')} (${known.length ? `known: ${known.join(', ')}` : 'it takes no settings: give {}'})`;
  }
  const issue = issues[0]!;
  const key = issue.path[0];
  // a refusal a pass words of settings together names the pass as it wants ('quantize int8', by its mode, as its
  // run's refusals name it): the issue's params.pass
  const params = issue.code === 'custom' ? (issue.params as { pass?: unknown } | undefined) : undefined;
  const name = typeof params?.pass === 'string' ? params.pass : d.name;
  if (typeof key !== 'string') return `${name}: ${issue.message}`;
  return settingMessage({ name, flags: d.flags }, key, raw[key], issue.message);
}

/** A setting's input JSON Schema, as far as fileValueProblem reads it. */
type InputSchema = { type?: string; anyOf?: InputSchema[]; items?: InputSchema; enum?: string[] };

/** The types of input schema `s` and its alternatives ('integer', 'array', …; empty: any). */
function inputTypes(s: InputSchema): string[] {
  return s.anyOf ? s.anyOf.flatMap(inputTypes) : s.type === undefined ? [] : [s.type];
}

/**
 * The first fault of a pass step's `raw` settings as a sweep file (YAML or JSON, which type their values) words it, in
 * the words of every value a file gives, as a train step's settings and the sweep's own fields are refused: `field`
 * (the setting, `[i]` after it for an item of a list; none for a fault of the settings together) and the problem, the
 * pass's own words without the flag's frame (`prune-ffn: ratio 1.5: … (flag --prune-ffn)`, which `check` gives a flag's
 * value). A value of another type the parse would read or a word outside its choices first (fileValueProblem); then
 * the parse's first issue: an unknown setting (`unknown prune-heads setting (known: …)`, the first, as a train step's);
 * a problem that is the setting's expectation of its value (`expected …`) followed by the value with its kind
 * (`expected a number in [0, 1), got number 1.5`, `expected 'all' or 'groups:N' …, got string "sideways"`); any
 * other problem (a fault inside a text's grammar, a rule between settings) after the text quoted where the value is
 * text (`'groups:0': the number of groups 0: expected …`, as a train step's layerMap `'2:x': …`), alone otherwise
 * (`only importance random uses a seed (importance is magnitude)`, `layer 1 is given twice`). Undefined where the
 * settings pass `check`.
 */
export function fileSettingsProblem(
  pass: Pick<PassSettings<unknown>, 'name' | 'settings'>,
  raw: Record<string, unknown>,
): { field?: string; problem: string } | undefined {
  for (const [key, value] of Object.entries(raw)) {
    const found = fileValueProblem(pass, key, value);
    if (found) return { field: `${key}${found.index === undefined ? '' : `[${found.index}]`}`, problem: found.problem };
  }
  const r = pass.settings.safeParse(raw);
  if (r.success) return undefined;
  const unknown = r.error.issues.find((i) => i.code === 'unrecognized_keys');
  if (unknown) return { field: unknown.keys[0], problem: `unknown ${pass.name} setting (known: ${Object.keys(pass.settings.shape).join(', ')})` };
  const issue = r.error.issues[0]!;
  const key = issue.path[0];
  if (typeof key !== 'string') return { problem: issue.message };
  const value = raw[key];
  if (value === undefined) return { field: key, problem: issue.message };
  if (issue.message.startsWith('expected ')) return { field: key, problem: `${issue.message}, got ${valueAndKind(value, 'file')}` };
  return { field: key, problem: typeof value === 'string' ? `${quotedText(value)}: ${issue.message}` : issue.message };
}

/**
 * Why `value`, given for setting `key` of `pass` in a file that types its values (a sweep file, YAML or JSON), is
 * refused there, in the words of every value a file gives: the setting's expectation, then the value with its kind
 * (valueAndKind: `expected a number in [0, 1), got string "0.5"`), as a train step's settings and the sweep's own
 * fields are refused. Two faults are judged here: a value outside a word setting's choices (oneOf: importance
 * 'gr ad', or a number, null, a list; choiceProblem's words: `expected one of ablation, …, random, got string "gr
 * ad"`, where the flag's refusal frames the value as typed: `prune-heads: importance 'gr ad': … (flag
 * --importance)`); and a value of another type that the setting's parse would read, as it reads a flag's text: text
 * for a number, an integer or a boolean ('0.5' for a ratio, 'true'), a number for a boolean (1), text in a list of
 * integers (layers: ['1', '3']; the text '1,3' is the list's own form, as the flag's, and a number the list of that
 * one). `index`: in a list, the item's. Undefined for any other value (the setting's parse judges it), or a `key`
 * that is not a setting (the pass's check refuses it).
 */
function fileValueProblem(pass: Pick<PassSettings<unknown>, 'settings'>, key: string, value: unknown): { problem: string; index?: number } | undefined {
  const field = pass.settings.shape[key] as z.ZodType | undefined;
  if (field === undefined) return undefined;
  const schema = z.toJSONSchema(field, { io: 'input', unrepresentable: 'any' }) as InputSchema;
  // (undefined, which no file holds, a library caller's setting left out: the setting's default, as its parse reads it)
  if (schema.enum && value !== undefined) {
    const words = schema.enum;
    return words.includes(settingWord(value, words) as string) ? undefined : { problem: choiceProblem(value, words, { from: 'file' }) };
  }
  const types = inputTypes(schema);
  const scalar = types.length > 0 && types.every((t) => t === 'number' || t === 'integer' || t === 'boolean');
  const items = (schema.anyOf ?? [schema]).flatMap((s) => (s.type === 'array' && s.items ? inputTypes(s.items) : []));
  const numericItems = items.length > 0 && items.every((t) => t === 'number' || t === 'integer');
  const index = numericItems && Array.isArray(value) ? value.findIndex((v) => typeof v === 'string') : -1;
  const read = (scalar && typeof value === 'string') || (scalar && typeof value === 'number' && types.every((t) => t === 'boolean')) || index >= 0;
  if (!read) return undefined;
  // (the setting's words for a value of no type it reads: null, which no field takes)
  const expected = field.safeParse(null).error?.issues[0]?.message ?? `expected ${types.join(' or ')}`;
  const given = index >= 0 ? (value as unknown[])[index] : value;
  const problem = `${expected}, got ${valueAndKind(given, 'file')}`;
  return index >= 0 ? { problem, index } : { problem };
}

// ---- Field builders: each accepts what a sweep file (YAML) and a flag (a string) give, and says what it expects.

/**
 * Numeric text (a flag's value) as a number; anything else unchanged, for the schema to refuse. Text of a number too
 * small to hold (tooSmallToHold: `--prune-heads 1e-400`, which reads as 0, a ratio removing nothing) is refused as a
 * number flag's is.
 */
function numberFromText(v: unknown, ctx: z.RefinementCtx): unknown {
  if (typeof v === 'string' && tooSmallToHold(v)) ctx.addIssue({ code: 'custom', message: `${TOO_SMALL_TO_HOLD}; write 0 for 0`, input: v });
  return typeof v === 'string' && isNumberText(v) ? Number(v) : v;
}

/**
 * Numeric text (a flag's value) as the integer it writes, NaN where it writes none (integerOfText: '1e-400', which
 * reads as 0, is a fraction); anything else unchanged, for the schema to refuse.
 */
function integerFromText(v: unknown): unknown {
  return typeof v === 'string' && isNumberText(v) ? integerOfText(v) : v;
}

/**
 * The text of a word or grammar value as every setting reads it (the convention of `--quantize`): spaces around it
 * and letter case do not matter, so ' Ablation ' reads as 'ablation'; anything but a string is left unchanged.
 */
export function settingText(v: unknown): unknown {
  return typeof v === 'string' ? v.trim().toLowerCase() : v;
}

/**
 * `v` as the one of `words` it reads as (settingText: ' CE ' is 'ce'), else `v` as given, so that the check refusing
 * it quotes what was typed ('toString', not 'tostring').
 */
export function settingWord(v: unknown, words: readonly string[]): unknown {
  const w = settingText(v);
  return typeof w === 'string' && words.includes(w) ? w : v;
}

/** The error of a field: `missing; expected …` when absent, `expected …` otherwise. */
function expected(what: string, missing = `missing; expected ${what}`) {
  return (issue: { input?: unknown }) => (issue.input === undefined ? missing : `expected ${what}`);
}

/**
 * A number in [0, 1), in the one number wording (numberProblem: 'expected a number in [0, 1)'; an infinite one, `1e400`
 * typed or `.inf` in a file, 'expected a finite number in [0, 1)', as every number flag's refusal says it).
 */
export function fraction() {
  const range: NumberRange = { min: 0, max: 1, below: true };
  const what = `a ${numberRange(range)}`;
  const error = (issue: { input?: unknown }) =>
    issue.input === undefined ? `missing; expected ${what}` : (numberProblem(issue.input, range) ?? `expected ${what}`);
  return z.preprocess(numberFromText, z.number({ error }).min(0, { error }).lt(1, { error }));
}

/**
 * An integer from `min` to `rule.max` (2^53 − 1 where not given), checked and worded by integerProblem (`expected an
 * integer from 1 to 2^53 − 1`), which `compress passes` and the flags' help show as its type; or (with `rule.test`) one
 * that passes `rule.test`, described by `rule.what` (within `min` and `rule.max`, which the help shows).
 */
export function integer(min: number, rule?: IntegerRule) {
  const max = rule?.max ?? Number.MAX_SAFE_INTEGER;
  const what = rule?.what ?? `an ${integerRange(min, max)}`;
  const n = z
    .number({ error: expected(what) })
    .check((ctx) => {
      const p = integerRuleProblem(ctx.value, min, rule);
      if (p !== undefined) ctx.issues.push({ code: 'custom', message: p, input: ctx.value });
    })
    // (the type `compress passes` and fileValueProblem read, which a custom check does not give the JSON Schema)
    .meta({ type: 'integer', minimum: min, ...(max < Number.MAX_SAFE_INTEGER ? { maximum: max } : {}) });
  return z.preprocess(integerFromText, n);
}

/** true or false (also 'true'/'false', 1/0 as text or number). */
export function boolean() {
  const map = (raw: unknown) => {
    const v = settingText(raw);
    return v === 'true' || v === '1' || v === 1 ? true : v === 'false' || v === '0' || v === 0 ? false : raw;
  };
  return z.preprocess(map, z.boolean({ error: expected('true or false') }));
}

/** One of `values` (lowercase words, read as settingText reads them: ' Ablation ' is 'ablation'). */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.preprocess(settingText, z.enum(values, { error: expected(choiceWords(values)) }));
}

/**
 * A string in a small grammar (`syntax`, e.g. 'all | groups:N'), canonicalized: `read` parses it, trimmed, reading it
 * as settingText does (spaces around it and letter case do not matter; 'GROUPS:2' is 'groups:2'; given the text as
 * typed, so that its messages quote that) (throwing a SettingsError whose message is the problem) and `write` prints
 * the parsed value back in one canonical form.
 */
export function grammar<T>(syntax: string, read: (s: string) => T, write: (t: T) => string, missing?: string) {
  return z
    .string({ error: expected(`a string (${syntax})`, missing) })
    .transform((s, ctx) => {
      try {
        return write(read(s.trim()));
      } catch (e) {
        if (!(e instanceof SettingsError)) throw e;
        ctx.issues.push({ code: 'custom', message: e.message, input: s });
        return z.NEVER;
      }
    })
    .meta({ syntax });
}

/** A layer a file gives as a number, or a SettingsError 'the layer 1.5: expected an integer from 0 to 2^53 − 1'. */
function layerNumber(n: number): number {
  const p = integerProblem(n, 0);
  if (p !== undefined) throw new SettingsError(`the layer ${shownNumber(n)}: ${p}`);
  return n;
}

/**
 * Layer indices, as a list or as text '1,3,5' (each number read by integerText, as every integer a user types: '1e3',
 * ' 3', '3.0'; an empty item is the list's syntax fault): sorted; a layer given twice ('1,1') is refused. With `word`,
 * that word ('every-other') is accepted too; with `ascending`, a list out of order ('3,0') is refused instead of
 * sorted, for lists whose order a reader could take to mean something (the layers kept stay in the model's order).
 */
export function layerList<const W extends string = never>(o: { word?: W; ascending?: boolean } = {}) {
  const what = o.word ? `${quotedText(o.word)} or layer indices such as 0,2,4` : 'layer indices such as 1,3,5';
  const toList = (v: unknown, ctx: z.RefinementCtx) => {
    if (typeof v === 'number') {
      // (one layer, a number a sweep file types: refused as a number setting is, its value shown once by the frame)
      const p = integerProblem(v, 0);
      if (p === undefined) return [v];
      ctx.addIssue({ code: 'custom', message: p, input: v });
      return z.NEVER;
    }
    if (typeof v === 'string' && o.word && settingText(v) === o.word) return o.word;
    const items: unknown[] | undefined = typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v : undefined;
    // (an empty item, or none: the list's own fault, which the list's words refuse)
    if (!items || items.some((x) => typeof x === 'string' && x.trim() === '')) return v;
    // (one word, where the list takes one: a misspelt 'every-other' more likely than a layer)
    if (o.word && typeof v === 'string' && items.length === 1 && !isNumberText(v)) return v;
    try {
      // (a number a sweep file types, checked here so that a list beside a word is refused naming it too)
      return items.map((x) => (typeof x === 'string' ? integerText('the layer', x, 0) : typeof x === 'number' ? layerNumber(x) : x));
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      ctx.addIssue({ code: 'custom', message: e.message, input: v });
      return z.NEVER;
    }
  };
  // (a number of a list a sweep file types, checked by toList: 'the layer 1.5: expected an integer from 0 to 2^53 − 1')
  const index = z.number({ error: `expected ${what}` }).meta({ type: 'integer', minimum: 0 });
  const list = z.array(index, { error: expected(what) }).min(1, { error: `expected ${what}` });
  const checked = (l: number[], ctx: z.RefinementCtx<number[]>): number[] => {
    const twice = l.find((x, i) => l.indexOf(x) !== i);
    if (twice !== undefined) {
      ctx.issues.push({ code: 'custom', message: `layer ${twice} is given twice`, input: l });
      return z.NEVER;
    }
    const sorted = [...l].sort((a, b) => a - b);
    if (o.ascending && sorted.some((x, i) => x !== l[i])) {
      ctx.issues.push({ code: 'custom', message: `layers stay in the model's order: list them ascending (${sorted.join(',')})`, input: l });
      return z.NEVER;
    }
    return sorted;
  };
  if (!o.word) return z.preprocess(toList, list).transform(checked);
  const word: W = o.word;
  return z
    .preprocess(toList, z.union([z.literal(word), list], { error: `expected ${what}` }))
    .transform((v, ctx): number[] | W => (v === word ? word : checked(v as number[], ctx as z.RefinementCtx<number[]>)));
}
