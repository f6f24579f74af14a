/**
 * The compress command's pass flags, all derived from the passes' declarations (src/pass/settings.ts): the yargs
 * options, and the pipeline steps they make. A flag that adds a pass (`--prune-heads 0.4`) fills one setting with
 * its value; modifier flags (`--importance ablation`) fill further settings of that pass's step. Values go to the
 * pass's schema as typed, so the command line and a sweep file are parsed by the same code and mean the same.
 */
import type { Argv, Options } from 'yargs';
import type { z } from 'zod';
import { UsageError } from '../errors.ts';
import type { PassStep } from '../pass/pass.ts';
import type { PassFlag, PassSettings } from '../pass/settings.ts';
import { describePass } from '../pass/describe.ts';
import { PASS_DECLARATIONS } from '../pass-declarations.ts';

type Declarations = ReadonlyArray<PassSettings<unknown>>;

/** Adds one yargs option per pass flag (no yargs defaults: absent flags leave the schema's defaults). */
export function withPassFlags<A>(y: Argv<A>, declarations: Declarations = PASS_DECLARATIONS): Argv<A> {
  const seen = new Set<string>();
  for (const d of declarations) {
    for (const f of describePass(d).flags) {
      if (seen.has(f.flag)) throw new Error(`flag ${f.flag} is declared by two passes`);
      seen.add(f.flag);
      const option: Options = { type: f.type, describe: f.help, group: 'Passes (in the order given):' };
      y = y.option(f.flag.slice(2), option) as Argv<A>;
    }
  }
  return y;
}

/** 'prune-heads' for '--prune-heads', '--prune-heads=0.4', '--no-per-tensor' or yargs' camel-case '--pruneHeads'. */
function flagOf(token: string): string | undefined {
  const m = /^--([A-Za-z][A-Za-z0-9-]*)(=.*)?$/.exec(token);
  if (!m) return undefined;
  const name = m[1]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return name.startsWith('no-') ? name.slice(3) : name;
}

/** The value a flag gives its setting: text as typed (the schema reads it), a switch's boolean (negated or not). */
function settingValue(f: PassFlag, value: unknown): [string, unknown] {
  if (typeof value === 'boolean') return [f.setting, f.negated ? !value : value];
  const text = String(value);
  return [f.alternative?.when.test(text) ? f.alternative.setting : f.setting, text];
}

/**
 * The pipeline steps of the pass flags in `args` (yargs' result), in the order their flags appear in `argv`.
 * Refuses a modifier flag whose pass is not given. (A pass flag given '' explicitly, or bare when its bare form means
 * nothing, is refused before, by the flag-value middleware: src/cli/flag-values.ts; a bare one whose schema takes ''
 * goes to its schema, `--optimize` alone meaning its default.)
 */
export function stepsFromFlags(argv: readonly string[], args: Record<string, unknown>, declarations: Declarations = PASS_DECLARATIONS): PassStep[] {
  const adders = new Map<string, { pass: PassSettings<unknown>; flag: PassFlag }>();
  for (const pass of declarations) for (const flag of pass.flags.adds) adders.set(flag.flag, { pass, flag });
  const order: string[] = [];
  for (const token of argv) {
    const name = flagOf(token);
    if (name !== undefined && adders.has(name) && args[name] !== undefined && !order.includes(name)) order.push(name);
  }
  for (const name of adders.keys()) if (args[name] !== undefined && !order.includes(name)) order.push(name);
  // flags that add the same pass (--drop-layers, --keep-layers) fill one step: its schema says whether they go together
  const steps: PassStep[] = [];
  const added = new Map<string, PassStep>();
  for (const name of order) {
    const { pass, flag } = adders.get(name)!;
    const [key, value] = settingValue(flag, args[name]);
    const step = added.get(pass.name);
    if (step) step.settings[key] = value;
    else {
      added.set(pass.name, { pass: pass.name, settings: { [key]: value } });
      steps.push(added.get(pass.name)!);
    }
  }
  for (const pass of declarations) {
    for (const flag of pass.flags.modifiers) {
      if (args[flag.flag] === undefined) continue;
      const own = steps.filter((s) => s.pass === pass.name);
      if (own.length === 0) {
        throw new UsageError(`--${flag.flag} sets ${pass.name}'s ${flag.setting}, but no ${pass.flags.adds.map((f) => `--${f.flag}`).join(' or ')} is given`);
      }
      const [key, value] = settingValue(flag, args[flag.flag]);
      for (const s of own) s.settings[key] = value;
    }
  }
  return steps;
}

/** Every pass flag's name ('prune-heads', 'importance', …). */
export function passFlagNames(declarations: Declarations = PASS_DECLARATIONS): Set<string> {
  return new Set(declarations.flatMap((d) => [...d.flags.adds, ...d.flags.modifiers].map((f) => f.flag)));
}

/**
 * The pass flags whose bare form (no value: last on the line, or before another flag) means something, because the
 * schema of the setting they fill takes '': `--optimize` alone, its default set. The flag-value middleware lets these
 * through bare, to their schema; any other pass flag written bare is refused as every flag is
 * ('--share-layers: a value is needed after it'), not read as a value '' the user never typed.
 */
export function barePassFlagNames(declarations: Declarations = PASS_DECLARATIONS): Set<string> {
  const takesEmpty = (d: PassSettings<unknown>, f: PassFlag) => (d.settings.shape[f.setting] as z.ZodType).safeParse('').success;
  return new Set(declarations.flatMap((d) => [...d.flags.adds, ...d.flags.modifiers].filter((f) => takesEmpty(d, f)).map((f) => f.flag)));
}

/** Every flag that adds a pass, for messages: '--prune-heads, --prune-ffn, …'. */
export function passFlagList(declarations: Declarations = PASS_DECLARATIONS): string {
  return declarations.flatMap((d) => d.flags.adds.map((f) => `--${f.flag}`)).join(', ');
}

/**
 * The one rule for calibration data on the command line: `--calibrate TASK` supplies it and changes no setting.
 * A step whose settings measure the model needs it; `--calibrate` with no such step is refused (it used to switch
 * prune-heads to ablation importance: say `--importance ablation` now).
 */
export function checkCalibrationFlag(steps: readonly PassStep[], calibrate: string | undefined, declarations: Declarations = PASS_DECLARATIONS): void {
  const byName = new Map(declarations.map((d) => [d.name, d]));
  const measuring = steps.filter((s) => {
    const d = byName.get(s.pass);
    return d?.needsCalibration(d.check(s.settings));
  });
  if (calibrate === undefined && measuring.length > 0) {
    throw new UsageError(
      `${measuring[0]!.pass} with these settings measures the model on calibration data: add --calibrate TASK (the GLUE task whose train split calibrates)`,
    );
  }
  if (calibrate !== undefined && measuring.length === 0) {
    throw new UsageError(
      `--calibrate ${calibrate}: no pass given uses calibration data (they are: --prune-heads with --importance ablation, gradient or confidence; --quantize int8-static or mixed:BUDGET; --factorize-weighting tokens)`,
    );
  }
}
