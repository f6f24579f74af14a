/**
 * Grid expansion, a pure function: every setting given as a list becomes an axis, and the grid is every
 * combination (the first axis varies slowest). A setting that is itself a list is written as a list of lists.
 */
import { quotedText, SettingsError } from '../errors.ts';
import type { PassStep } from '../pass/pass.ts';
import type { PipelineSpec } from './spec.ts';

export interface Axis {
  /** 'ratio', or 'prune-heads.ratio' when two steps have a setting of that name. */
  name: string;
  step: number;
  key: string;
  values: readonly unknown[];
}

/** The axes of a grid: its list-valued settings, in step then key order. */
export function gridAxes(steps: readonly PassStep[]): Axis[] {
  const axes: Axis[] = [];
  steps.forEach((s, step) => {
    for (const [key, v] of Object.entries(s.settings)) if (Array.isArray(v)) axes.push({ name: key, step, key, values: v });
  });
  for (const a of axes) {
    if (a.values.length === 0) throw new SettingsError(`${steps[a.step]!.pass}.${a.key}: the list of values is empty`);
    const clash = steps.some((s, i) => i !== a.step && a.key in s.settings);
    if (clash) a.name = `${steps[a.step]!.pass}.${a.key}`;
  }
  return axes;
}

/** Every combination of the axes' values, as {axis name: value} records. */
export function cartesian(axes: readonly Axis[]): Array<Record<string, unknown>> {
  let out: Array<Record<string, unknown>> = [{}];
  for (const a of axes) out = out.flatMap((partial) => a.values.map((v) => ({ ...partial, [a.name]: v })));
  return out;
}

/** The label of the pipeline without passes. */
export const BASELINE = 'baseline';

/** 'prune-heads 0.4 magnitude + quantize int8': each pass with its setting values. */
export function autoLabel(steps: readonly PassStep[]): string {
  if (steps.length === 0) return BASELINE;
  return steps.map((s) => [s.pass, ...Object.values(s.settings).map(labelValue)].join(' ')).join(' + ');
}

/** Formats a value for a label: numbers and strings as they are, anything else as JSON. */
export function labelValue(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

/**
 * Expands a grid pipeline into one pipeline per combination. `name` may hold `{axis}` placeholders
 * (`heads-{ratio}-{mode}`); without placeholders the values are appended, `name(ratio=0.2, mode=int8)`; without a
 * name the label lists each pass with its values.
 */
export function expandPipeline(steps: readonly PassStep[], name?: string): PipelineSpec[] {
  const axes = gridAxes(steps);
  return cartesian(axes).map((values) => {
    const concrete: PassStep[] = steps.map((s, i) => ({
      pass: s.pass,
      settings: Object.fromEntries(
        Object.entries(s.settings).map(([k, v]) => {
          const axis = axes.find((a) => a.step === i && a.key === k);
          return [k, axis ? values[axis.name] : v];
        }),
      ),
    }));
    return { label: gridLabel(name, concrete, values, axes), steps: concrete, values };
  });
}

function gridLabel(name: string | undefined, steps: readonly PassStep[], values: Record<string, unknown>, axes: readonly Axis[]): string {
  if (name === undefined) return autoLabel(steps);
  if (/\{[^}]+\}/.test(name)) {
    return name.replace(/\{([^}]+)\}/g, (_, key: string) => {
      const axis = axes.find(
        (a) => a.name === key || `${steps[a.step]!.pass}.${a.key}` === key || (a.key === key && axes.filter((b) => b.key === key).length === 1),
      );
      if (!axis) throw new SettingsError(`name ${quotedText(name)}: {${key}} is not a grid axis (axes: ${axes.map((a) => a.name).join(', ') || 'none'})`);
      return labelValue(values[axis.name]);
    });
  }
  return axes.length === 0 ? name : `${name}(${axes.map((a) => `${a.name}=${labelValue(values[a.name])}`).join(', ')})`;
}
