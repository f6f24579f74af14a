/**
 * Passes described for people and tools, from their declarations alone (settings.ts): each setting's type, default
 * and description come from its zod schema (through its JSON Schema), each flag's help from the setting it fills.
 * `compress passes` prints this; the compress command's flag help is built from it.
 */
import { z } from 'zod';
import { integerRange } from '../errors.ts';
import { flagsFilling, type PassFlag, type PassSettings } from './settings.ts';

export interface SettingDescription {
  /** The key in a sweep file's `settings` (and in lineage). */
  name: string;
  /** e.g. 'number in [0, 1)', 'ablation | gradient | …', 'int8 | int8-static | …'. */
  type: string;
  /** Absent when the setting has no default. */
  default?: unknown;
  /** Must be given (it has no default). */
  required: boolean;
  description: string;
  /** The flags that fill it, e.g. ['--prune-heads']; empty when only a sweep file or the library can set it. */
  flags: string[];
}

export interface FlagDescription {
  /** e.g. '--prune-heads'. */
  flag: string;
  /** Whether the flag adds the pass to the pipeline (else it modifies a step that another flag adds). */
  addsPass: boolean;
  /** yargs type: a boolean switch, or a string that the setting's schema reads. */
  type: 'string' | 'boolean';
  /** The setting its value fills. */
  setting: string;
  /** Another setting that values of a given form fill instead, with that form in words. */
  alternative?: { setting: string; form: string };
  /** The switch sets its setting to false. */
  negated?: boolean;
  /** One line of help. */
  help: string;
}

export interface PassDescription {
  name: string;
  version: number;
  description: string;
  flags: FlagDescription[];
  settings: SettingDescription[];
}

type JsonSchema = {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  description?: string;
  syntax?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
};

/**
 * A JSON Schema type in a few words: an integer setting as its refusal words it ('integer from 1 to 2^53 − 1'); a
 * list's integers (layer indices, which the model bounds) by their least ('list of integers ≥ 0').
 */
function typeText(s: JsonSchema, item = false): string {
  if (s.syntax) return s.syntax;
  if (s.enum) return s.enum.join(' | ');
  if (s.const !== undefined) return String(s.const);
  if (s.anyOf) return s.anyOf.map((a) => typeText(a, item)).join(' | ');
  if (s.type === 'array') return `list of ${s.items ? typeText(s.items, true) : 'values'}`.replace(/integer /, 'integers ');
  if (s.type === 'integer' && s.minimum !== undefined && !item) return integerRange(s.minimum, s.maximum);
  if (s.type === 'number' || s.type === 'integer') {
    const low = s.minimum !== undefined ? `[${s.minimum}` : s.exclusiveMinimum !== undefined ? `(${s.exclusiveMinimum}` : undefined;
    const high =
      s.exclusiveMaximum !== undefined
        ? `${s.exclusiveMaximum})`
        : s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER
          ? `${s.maximum}]`
          : undefined;
    if (low && high) return `${s.type} in ${low}, ${high}`;
    if (low) return `${s.type} ${low.startsWith('[') ? '≥' : '>'} ${low.slice(1)}`;
    return s.type;
  }
  return s.type ?? 'any';
}

/** The JSON Schema of a pass's settings, as input (what a user writes). */
function settingsJsonSchema(p: PassSettings<unknown>): JsonSchema {
  return z.toJSONSchema(p.settings, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

/**
 * A setting's default, as the schema fills it in (JSON Schema loses the defaults of fields read through a
 * transform): `{}` when it has none.
 */
function defaultOf(p: PassSettings<unknown>, name: string): { default?: unknown } {
  const r = (p.settings.shape[name] as z.ZodType).safeParse(undefined);
  return r.success && r.data !== undefined ? { default: r.data } : {};
}

export function describePass(p: PassSettings<unknown>): PassDescription {
  const schema = settingsJsonSchema(p);
  const props = schema.properties ?? {};
  const settings: SettingDescription[] = Object.entries(props).map(([name, s]) => ({
    name,
    type: typeText(s),
    ...defaultOf(p, name),
    required: (schema.required ?? []).includes(name),
    description: s.description ?? '',
    flags: flagsFilling(p.flags, name),
  }));
  const byName = new Map(settings.map((s) => [s.name, s]));
  const flag = (f: PassFlag, addsPass: boolean): FlagDescription => {
    const s = byName.get(f.setting)!;
    const alt = f.alternative ? byName.get(f.alternative.setting)! : undefined;
    const type = props[f.setting]?.type === 'boolean' ? 'boolean' : 'string';
    const what = f.negated ? `${s.name} false` : type === 'boolean' ? s.name : `${s.name} (${s.type})`;
    const otherwise = alt ? `; ${f.alternative!.form} is its ${alt.name} (${alt.type})` : '';
    // A negated flag's default is the opposite of its setting's (--per-tensor is off: perChannel true).
    const shown = f.negated && typeof s.default === 'boolean' ? `false, i.e. ${s.name} ${JSON.stringify(s.default)}` : JSON.stringify(s.default);
    const dflt = !addsPass && s.default !== undefined ? ` [default ${shown}]` : '';
    return {
      flag: `--${f.flag}`,
      addsPass,
      type,
      setting: f.setting,
      ...(f.alternative ? { alternative: { setting: f.alternative.setting, form: f.alternative.form } } : {}),
      ...(f.negated ? { negated: true } : {}),
      help: `${p.name} ${what}: ${s.description}${otherwise}${dflt}`,
    };
  };
  return {
    name: p.name,
    version: p.version,
    description: p.description,
    flags: [...p.flags.adds.map((f) => flag(f, true)), ...p.flags.modifiers.map((f) => flag(f, false))],
    settings,
  };
}

/** The text of `compress passes`: each pass with its version, flags and settings. */
export function formatPasses(passes: readonly PassDescription[]): string {
  const lines: string[] = [];
  for (const p of passes) {
    lines.push(`${p.name} (version ${p.version}): ${p.description}`);
    lines.push(
      `  flags: ${p.flags.map((f) => `${f.flag}${f.type === 'string' ? ` → ${f.setting}${f.alternative ? ` (or ${f.alternative.setting})` : ''}` : f.negated ? ` → ${f.setting} false` : ` → ${f.setting}`}`).join(', ')}`,
    );
    const width = Math.max(...p.settings.map((s) => s.name.length));
    for (const s of p.settings) {
      const dflt = s.default !== undefined ? `, default ${JSON.stringify(s.default)}` : s.required ? ', required' : '';
      lines.push(`  ${s.name.padEnd(width)}  ${s.type}${dflt}: ${s.description}${s.flags.length ? ` [${s.flags.join(', ')}]` : ''}`);
    }
    lines.push('');
  }
  return lines.join('\n').trimEnd();
}
