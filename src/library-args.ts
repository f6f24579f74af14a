/**
 * Checks of the arguments of the package's entry points, for JavaScript callers (whose arguments no type checks):
 * a missing or wrong one is refused in one SettingsError naming the function and the argument
 * ('runTraining: output: missing; expected the output .onnx path'), where it failed deep inside with a TypeError
 * ('Cannot read properties of null').
 */
import { SettingsError, valueAndKind } from './errors.ts';
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
  const g = (m as Partial<Model> | null | undefined)?.graph;
  const isModel =
    typeof m === 'object' &&
    m !== null &&
    typeof g === 'object' &&
    g !== null &&
    Array.isArray(g.nodes) &&
    Array.isArray(g.inputs) &&
    Array.isArray(g.outputs) &&
    g.initializers instanceof Map &&
    Array.isArray((m as Model).opsetImports);
  if (!isModel) throw new SettingsError(`${fn}: ${name}: expected a model (what loadModel returns), got ${valueAndKind(m)}`);
}
