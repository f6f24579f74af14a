/**
 * Checks of the arguments of the package's entry points, for JavaScript callers (whose arguments no type checks):
 * a missing or wrong one is refused in one SettingsError naming the function and the argument
 * ('runTraining: output: missing; expected the output .onnx path'), where it failed deep inside with a TypeError
 * ('Cannot read properties of null').
 */
import { choiceWords, SettingsError, valueAndKind } from './errors.ts';
import type { Model } from './onnx/graph.ts';

/** `o` as an options object (a plain object, not a list); else refused: 'compressFile: expected an options object ({input, output, steps}), got null'. */
export function checkOptions<T>(fn: string, o: T, fields: string): T & object {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new SettingsError(`${fn}: expected an options object (${fields}), got ${valueAndKind(o)}`);
  return o;
}

/** A required string option `name` of `fn`'s options (a path, a task): refused when missing or not a non-empty string. */
export function checkStringOption(fn: string, name: string, v: unknown, what: string): asserts v is string {
  if (v === undefined || v === null) throw new SettingsError(`${fn}: ${name}: missing; expected ${what}`);
  if (typeof v !== 'string' || v === '') throw new SettingsError(`${fn}: ${name}: expected ${what}, got ${valueAndKind(v)}`);
}

/** An optional string option: refused when given and not a non-empty string. */
export function checkOptionalString(fn: string, name: string, v: unknown, what: string): void {
  if (v !== undefined) checkStringOption(fn, name, v, what);
}

/** A model argument (what loadModel returns): refused when it is not one ('findBert: expected a model (what loadModel returns), got null'). */
export function checkModelArg(fn: string, m: unknown, name = 'model'): asserts m is Model {
  if (!isModelValue(m)) throw new SettingsError(`${fn}: ${name}: expected a model (what loadModel returns), got ${valueAndKind(m)}`);
}

/** Whether `m` is a model (what loadModel returns): checkModelArg's test, and an option kind's (checkOptionKinds). */
export function isModelValue(m: unknown): m is Model {
  const g = (m as Partial<Model> | null | undefined)?.graph;
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof g === 'object' &&
    g !== null &&
    Array.isArray(g.nodes) &&
    Array.isArray(g.inputs) &&
    Array.isArray(g.outputs) &&
    g.initializers instanceof Map &&
    Array.isArray((m as Model).opsetImports)
  );
}

/**
 * The kind of value an option of an entry point takes, as checkOptionKinds reads it: a string (non-empty), true or
 * false, a function, an AbortSignal, one of fixed words, options of their own (`settings`: an object of these kinds),
 * a value a test tells (`is`, `expected` its words), a value `refuse` words the refusal of (undefined: taken; of the
 * `kind` given first, else its own check reads it later), or `checked`, a value whose own check reads it later with its range in its words (a number,
 * a task list).
 */
export type OptionKind =
  | 'string'
  | 'boolean'
  | 'function'
  | 'signal'
  | 'checked'
  | readonly string[]
  | { readonly options: OptionKinds }
  | { readonly is: (v: unknown) => boolean; readonly expected: string }
  | { readonly refuse: (v: unknown) => string | undefined; readonly kind?: 'string' | { readonly is: (v: unknown) => boolean; readonly expected: string } };

/** A seed option's kind (runPipeline's context.seed, exportHuggingFaceFolder's seedMissing): an integer 0 or greater. */
export const SEED_OPTION = { is: (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0, expected: 'an integer 0 or greater' } as const;

/** Each option of an entry point (every key its options type has, `satisfies Record<keyof …, OptionKind>`) by its kind. */
export type OptionKinds = Readonly<Record<string, OptionKind>>;

/** What a value of `kind` is, for a refusal ('expected true or false'); undefined where `v` is of it. */
function kindProblem(kind: Exclude<OptionKind, { readonly options: OptionKinds } | { readonly refuse: unknown }>, v: unknown): string | undefined {
  if (kind === 'checked') return undefined;
  if (kind === 'string') return typeof v === 'string' && v !== '' ? undefined : 'expected a non-empty string';
  if (kind === 'boolean') return typeof v === 'boolean' ? undefined : 'expected true or false';
  if (kind === 'function') return typeof v === 'function' ? undefined : 'expected a function';
  if (kind === 'signal') return v instanceof AbortSignal ? undefined : 'expected an AbortSignal (AbortController.signal)';
  if (Array.isArray(kind)) return kind.includes(v as string) ? undefined : `expected ${choiceWords(kind)}`;
  const test = kind as { is: (v: unknown) => boolean; expected: string };
  return test.is(v) ? undefined : `expected ${test.expected}`;
}

/**
 * Checks the options `o` of entry point `fn` by `kinds` before any work (for a JavaScript caller, whose options no
 * types check): an option it does not take is refused, naming the ones it takes ('runTraining: maxLenght: not an
 * option of runTraining (its options: …)'), where it was read as nothing; one of another kind, naming what it takes
 * ('runTraining: newHead: expected true or false, got string "x"'), where it was read as something else (a string as
 * true) or failed deep inside with a TypeError. An option given as undefined is one left out. `at`: the options'
 * place in the call's ('settings.').
 */
export function checkOptionKinds(fn: string, o: object, kinds: OptionKinds, at = ''): void {
  for (const [key, v] of Object.entries(o)) {
    const kind = Object.hasOwn(kinds, key) ? kinds[key] : undefined;
    const name = `${at}${key}`;
    if (kind === undefined) {
      const of = at === '' ? fn : `${fn}'s ${at.slice(0, -1)}`;
      throw new SettingsError(`${fn}: ${name}: not an option of ${of} (its options: ${Object.keys(kinds).join(', ')})`);
    }
    if (v === undefined) continue;
    if (typeof kind === 'object' && 'options' in kind) {
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        throw new SettingsError(`${fn}: ${name}: expected an object of options, got ${valueAndKind(v)}`);
      checkOptionKinds(fn, v, kind.options, `${name}.`);
      continue;
    }
    const problem = kindProblem(typeof kind === 'object' && 'refuse' in kind ? (kind.kind ?? 'checked') : kind, v);
    if (problem !== undefined) throw new SettingsError(`${fn}: ${name}: ${problem}, got ${valueAndKind(v)}`);
    const refusal = typeof kind === 'object' && 'refuse' in kind ? kind.refuse(v) : undefined;
    if (refusal !== undefined) throw new SettingsError(`${fn}: ${name} ${refusal}`);
  }
}
