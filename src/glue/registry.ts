/**
 * Looking tasks up by name. Names are matched case-insensitively and without '-', '_' or spaces, so `sst2`,
 * `SST-2` and `sst_2` are the same task. `MNLI` names both MNLI-m and MNLI-mm; `all` names every task that has
 * the requested split. An unknown name is a SettingsError with "did you mean" suggestions, as
 * lm-evaluation-harness does.
 */
import { SettingsError, valueAndKind, valueText, quotedText } from '../errors.ts';
import { GLUE_TASKS, MNLI_M, MNLI_MM, type Split, type TaskDefinition } from './tasks.ts';

/** Names that stand for several tasks. */
const GROUPS: Readonly<Record<string, readonly TaskDefinition[]>> = {
  mnli: [MNLI_M, MNLI_MM],
};

/** Lower-cases and drops '-', '_' and whitespace. */
export function normalizeTaskName(name: string): string {
  return name.toLowerCase().replace(/[-_\s]/g, '');
}

/** Every accepted spelling, normalized, with the tasks it stands for and the name to suggest for it. */
function lookupTable(): Map<string, { tasks: readonly TaskDefinition[]; display: string }> {
  const table = new Map<string, { tasks: readonly TaskDefinition[]; display: string }>();
  for (const t of GLUE_TASKS) {
    for (const n of [t.name, ...t.aliases]) table.set(normalizeTaskName(n), { tasks: [t], display: t.name });
  }
  for (const [n, tasks] of Object.entries(GROUPS)) table.set(n, { tasks, display: n.toUpperCase() });
  return table;
}

const TABLE = lookupTable();

/**
 * Returns the task definition for one name (not a group such as MNLI, nor `all`); with `split`, the task must have
 * that split. Throws a SettingsError listing exactly the names accepted here (with suggestions) otherwise.
 */
export function getTask(name: string, split?: Split): TaskDefinition {
  const known = singleTaskNames(split);
  const entry = TABLE.get(normalizeTaskName(name));
  if (!entry) throw unknownTask(name, known);
  if (entry.tasks.length !== 1) {
    throw new SettingsError(`task ${quotedText(name)} names ${entry.tasks.map((t) => t.name).join(' and ')}; give one of them`);
  }
  const task = entry.tasks[0]!;
  if (split && !task.splits[split]) throw new SettingsError(`task ${task.name} has no ${split} split; give one of ${known.join(', ')}`);
  return task;
}

/** Display names of the single tasks (no groups, no `all`), those with `split` when given: what getTask accepts. */
export function singleTaskNames(split?: Split): string[] {
  return GLUE_TASKS.filter((t) => !split || t.splits[split]).map((t) => t.name);
}

/**
 * Returns the tasks one name stands for (a task, an alias or a group such as MNLI). An unknown name is a SettingsError
 * listing `known` (default: every task, MNLI and all), the names the caller accepts.
 */
export function lookupTasks(name: string, known: readonly string[] = [...knownTaskNames(), 'all']): readonly TaskDefinition[] {
  const entry = TABLE.get(normalizeTaskName(name));
  if (entry) return entry.tasks;
  throw unknownTask(name, known);
}

/** The error for a name that is no task: the names of `known` it may be a misspelling of, and `known`. */
function unknownTask(name: string, known: readonly string[]): SettingsError {
  const suggestions = suggestTaskNames(name).filter((s) => known.includes(s));
  const hint = suggestions.length > 0 ? ` Did you mean ${suggestions.map(quotedText).join(' or ')}?` : '';
  return new SettingsError(`unknown task ${quotedText(name)}.${hint} Known tasks: ${known.join(', ')}`);
}

/** Display names of every task, and MNLI (both halves). */
export function knownTaskNames(): string[] {
  return [...GLUE_TASKS.map((t) => t.name), 'MNLI'];
}

/**
 * The refusal of a command line that names no task, one for every command taking `--task/--tasks` (eval, data
 * download; the flags are one).
 */
export const NO_TASK_GIVEN = 'no task given: use --task NAME[,NAME…] or --tasks all';

/**
 * The refusal of a task list that names no task (`[]`, `['']`, `[' , ']`) given to the library's evaluate, in the
 * words of its option `tasks` (taskNameList's refusals): the command line refuses its own first (NO_TASK_GIVEN).
 */
export function noTaskListed(names: readonly string[] | 'all'): string {
  return `tasks: expected a list of GLUE task names (e.g. ['SST-2']) or 'all', got ${valueText(names)}, which names none`;
}

/**
 * Resolves the task list of `--task/--tasks`: names (each may be a group, or a comma-separated list) or `all`,
 * in registry order without duplicates. With `all`, only tasks that have `split` are returned; a named task
 * without that split is a SettingsError.
 */
export function resolveTasks(names: readonly string[] | 'all', split: Split): TaskDefinition[] {
  const list = taskNameList(names);
  if (list.length === 0) throw new SettingsError(noTaskListed(names));
  const chosen = new Set<TaskDefinition>();
  for (const n of list) {
    if (normalizeTaskName(n) === 'all') {
      for (const t of GLUE_TASKS) if (t.splits[split]) chosen.add(t);
      continue;
    }
    for (const t of lookupTasks(n)) {
      if (!t.splits[split]) {
        const has = Object.keys(t.splits).join(', ');
        throw new SettingsError(`task ${t.name} has no ${split} split (it has: ${has})`);
      }
      chosen.add(t);
    }
  }
  return GLUE_TASKS.filter((t) => chosen.has(t));
}

/** The names of a task list option, each entry split at commas and trimmed, empties dropped; 'all' as ['all']. */
export function taskNameList(names: readonly string[] | 'all'): string[] {
  // (the library's options, whose types a JavaScript caller can miss: tasks: 'SST-2', ['SST-2', 3])
  if (names !== 'all' && !Array.isArray(names)) {
    throw new SettingsError(`tasks: expected a list of GLUE task names (e.g. ['SST-2']) or 'all', got ${valueAndKind(names)}`);
  }
  const notName = names === 'all' ? -1 : names.findIndex((n) => typeof n !== 'string');
  if (notName >= 0) throw new SettingsError(`tasks[${notName}]: expected a GLUE task name, got ${valueAndKind(names[notName])}`);
  return names === 'all'
    ? ['all']
    : names
        .flatMap((n) => n.split(','))
        .map((n) => n.trim())
        .filter((n) => n !== '');
}

/** Up to three known names close to `name` (edit distance, or one containing the other). */
export function suggestTaskNames(name: string): string[] {
  const key = normalizeTaskName(name);
  const scored: Array<{ display: string; distance: number }> = [];
  for (const [n, entry] of TABLE) {
    const d = editDistance(key, n);
    const close = d <= Math.max(1, Math.floor(n.length / 3)) || (key.length >= 3 && (n.includes(key) || key.includes(n)));
    if (close) scored.push({ display: entry.display, distance: d });
  }
  scored.sort((a, b) => a.distance - b.distance);
  return [...new Set(scored.map((s) => s.display))].slice(0, 3);
}

/**
 * The declared flag an unknown one is a likely misspelling of (`prune-head` → `prune-heads`, `max-lenght` →
 * `max-length`): the nearest by edit distance, within 1 edit for short names and 2 for names of 5 letters or more.
 */
export function nearestFlag(name: string, known: readonly string[]): string | undefined {
  const limit = name.length >= 5 ? 2 : 1;
  let best: { flag: string; d: number } | undefined;
  for (const flag of known) {
    const d = editDistance(name, flag);
    if (d > 0 && d <= limit && (!best || d < best.d)) best = { flag, d };
  }
  return best?.flag;
}

/** Levenshtein distance (insertions, deletions, substitutions each cost 1). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
