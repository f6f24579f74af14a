/**
 * Mapping model outputs to a task's labels. config.json's `id2label` names are matched to the task's label names
 * case-insensitively (and ignoring '-', '_' and space differences), so a model trained with another class order
 * (for MNLI, contradiction/entailment/neutral instead of Hugging Face's entailment/neutral/contradiction) is still
 * scored right. A generic id2label (`LABEL_0`, `LABEL_1`… or bare numbers), or none, means the task's canonical
 * order (Hugging Face `glue`'s): a generic name `LABEL_k` is the task's label k, whichever output it names (so
 * `{0: LABEL_1, 1: LABEL_0}` is the canonical order reversed), and a generic name whose number is no label's, or
 * that two outputs share, is refused. A regression task (STS-B) needs exactly one output.
 *
 * Names that are none of the task's labels (`bad`/`good` or `NEG`/`POS` for SST-2) are ignored for the canonical
 * order, as Hugging Face's run_glue ignores labels that do not match the dataset's ("Ignoring the model labels"), and
 * said in one warning line (ignoredLabelsNote); refused, though, where the names contradict that order (a task label
 * or LABEL_k naming another output than its own) or where one is another GLUE task's label (an MNLI model's
 * `entailment` for SST-2: a model of another task, not a naming of this one's classes).
 */
import { counted, SettingsError } from '../errors.ts';
import { GLUE_TASKS, type TaskDefinition } from '../glue/tasks.ts';

/**
 * `word` after its indefinite article, by how it is read aloud: 'an' before a vowel, and before an initialism whose
 * first letter is said with one (F, H, L, M, N, R, S, X before a consonant: an MNLI model, an SST-2 one, an
 * xlm-roberta config, an mpnet one); 'a' otherwise (a bert config, a QQP model, a roberta one).
 */
export function withArticle(word: string): string {
  return `${/^([aeiou]|[fhlmnrsx](?![aeiou]))/i.test(word) ? 'an' : 'a'} ${word}`;
}

export interface LabelMapping {
  /** For each model output j, the index of the task label it scores. */
  readonly outputToLabel: readonly number[];
  /**
   * Whether config.json's names decided the order, or the canonical order was assumed (no names, or generic ones:
   * LABEL_k read as the task's label k).
   */
  readonly from: 'id2label' | 'canonical';
  /**
   * id2label's names that are none of the task's labels, ignored for the canonical order (`from` 'canonical'), as
   * transformers' run_glue ignores them; absent when none was.
   */
  readonly ignored?: readonly string[];
}

/** Lower-case, with runs of '-', '_' and whitespace made one '_'. */
function normalizeLabel(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[-_\s]+/g, '_');
}

/** True for names that say nothing about the class: LABEL_0, label-1, 2. */
export function isGenericLabel(name: string): boolean {
  return /^(label[_\- ]?)?\d+$/i.test(name.trim());
}

/** The number of a generic name (LABEL_1 → 1). */
function genericNumber(name: string): number {
  return Number(/\d+$/.exec(name.trim())![0]);
}

/**
 * Where a config.json's label count comes from, as transformers' PretrainedConfig reads it (configLabels): the size of
 * `id2label` when it has one (a num_labels beside it is not read), else `num_labels`. Said in parentheses after the count.
 */
export function labelCountSource(id2label: ReadonlyMap<number, string> | null): string {
  return id2label ? "(its id2label's size, as transformers reads it)" : '(its num_labels, as transformers reads it without an id2label)';
}

/**
 * Maps `numOutputs` model outputs to the task's labels, using id2label when it names the classes. Throws
 * SettingsError when the output count does not fit the task or the names do not match the task's labels.
 * `countedBy` names a config.json when the count comes from it rather than from the model's output, so that the
 * message blames the right file (its id2label too).
 */
export function mapModelLabels(task: TaskDefinition, id2label: ReadonlyMap<number, string> | null, numOutputs: number, countedBy?: string): LabelMapping {
  const count = countedBy
    ? `${countedBy} says ${counted(numOutputs, 'label')} ${labelCountSource(id2label)}`
    : `the model has ${counted(numOutputs, 'output')}`;
  if (task.regression) {
    if (numOutputs !== 1) {
      throw new SettingsError(
        countedBy
          ? `${task.name} is a regression task (1 output) but ${count}`
          : `${task.name} is a regression task: the model must have 1 output, it has ${numOutputs}`,
      );
    }
    return { outputToLabel: [0], from: 'canonical' };
  }
  const n = task.labels.length;
  if (numOutputs !== n) {
    throw new SettingsError(
      `${task.name} has ${counted(n, 'label')} (${task.labels.join(', ')}) but ${count}` +
        (task.modelTask !== task.name ? ` (${task.name} needs ${withArticle(task.modelTask)} model)` : ''),
    );
  }
  const canonical: LabelMapping = { outputToLabel: task.labels.map((_, i) => i), from: 'canonical' };
  if (!id2label || id2label.size === 0) return canonical;
  const names = Array.from({ length: n }, (_, j) => id2label.get(j));
  const shown = () => names.map((s, j) => `${j}: ${s ?? '(missing)'}`).join(', ');
  const file = countedBy ?? 'config.json';
  if (names.every((s) => s === undefined || isGenericLabel(s))) {
    // LABEL_k is the task's label k (an output without a name: its own index)
    const outputToLabel = names.map((s, j) => (s === undefined ? j : genericNumber(s)));
    if (outputToLabel.every((label, j) => label === j)) return canonical;
    if (outputToLabel.some((label) => label >= n) || new Set(outputToLabel).size !== n) {
      throw new SettingsError(
        `${file} id2label {${shown()}} numbers ${task.name}'s ${n} labels ambiguously: generic names (LABEL_k: the task's label k of ${task.labels.join(', ')}) must be LABEL_0 to LABEL_${n - 1}, each once; fix id2label or name the classes`,
      );
    }
    return { outputToLabel, from: 'canonical' };
  }
  const wanted = task.labels.map(normalizeLabel);
  const outputToLabel = names.map((s) => (s === undefined ? -1 : isGenericLabel(s) ? genericNumber(s) : wanted.indexOf(normalizeLabel(s))));
  const refuse = (): never => {
    throw new SettingsError(
      `${file} id2label {${shown()}} does not name ${task.name}'s labels (${task.labels.join(', ')}); fix id2label or use LABEL_0… for the canonical order`,
    );
  };
  if (outputToLabel.every((i) => i >= 0 && i < n) && new Set(outputToLabel).size === n) return { outputToLabel, from: 'id2label' };
  // names nobody knows: the canonical order, unless a name says otherwise (a label or LABEL_k of another output's
  // index, or beyond the labels), one is missing, or one is another GLUE task's label
  const ignored = names.filter((s, j) => s !== undefined && !isGenericLabel(s) && outputToLabel[j] === -1) as string[];
  const contradicts = outputToLabel.some((label, j) => label !== -1 && label !== j);
  if (names.includes(undefined) || contradicts || ignored.some((name) => otherTasksLabel(task, name))) refuse();
  return { outputToLabel: task.labels.map((_, i) => i), from: 'canonical', ignored };
}

/**
 * The id2label names `task` reads in its canonical order (mapModelLabels' `ignored`: none of its labels); undefined
 * when there are none, for a regression task, and where the names do not fit `task` (refused where the model is read).
 */
export function ignoredLabelNames(task: TaskDefinition, id2label: ReadonlyMap<number, string> | null, numLabels: number): readonly string[] | undefined {
  if (task.regression) return undefined;
  try {
    const { ignored } = mapModelLabels(task, id2label, numLabels);
    return ignored?.length ? ignored : undefined;
  } catch (e) {
    if (e instanceof SettingsError) return undefined;
    throw e;
  }
}

/** Whether `name` is the label of a GLUE task other than `task` (and not one of `task`'s own). */
function otherTasksLabel(task: TaskDefinition, name: string): boolean {
  const own = normalizeLabel(name);
  return GLUE_TASKS.some((t) => t.modelTask !== task.modelTask && t.labels.some((l) => normalizeLabel(l) === own));
}

/**
 * The warning line for `tasks` whose outputs are read in the canonical order although `file`'s id2label names
 * classes (`ignored`: the names none of the tasks' labels are), as transformers' run_glue reads them.
 */
export function ignoredLabelsNote(tasks: readonly TaskDefinition[], file: string, ignored: readonly string[]): string {
  const one = tasks.length === 1 ? tasks[0]! : undefined;
  const order = one ? one.labels.join(', ') : `of each (${tasks.map((t) => `${t.name}: ${t.labels.join(', ')}`).join('; ')})`;
  return (
    `${tasks.map((t) => t.name).join(', ')}: ${file}'s id2label names ${ignored.join(', ')}, not ${one ? `${one.name}'s` : 'their'} labels, ` +
    `so the model's ${tasks[0]!.labels.length} outputs are read in GLUE's order ${order}, as transformers' run_glue ignores labels that do not match the task's; ` +
    'if the scores are near chance, name the classes in id2label'
  );
}

/**
 * The GLUE tasks other than `task` whose labels `id2label` names (all of them, in any order), as the words naming
 * them ("SST-2's"; "QNLI's, RTE's and WNLI's": the three share their label names, so an RTE model's are each's), when
 * they are not `task`'s own (labels that fit `task` are its own); undefined otherwise.
 */
export function anotherTasksLabels(task: TaskDefinition, id2label: ReadonlyMap<number, string> | null, numLabels: number): string | undefined {
  if (!id2label) return undefined;
  try {
    mapModelLabels(task, id2label, numLabels);
    return undefined;
  } catch (e) {
    if (!(e instanceof SettingsError)) throw e;
  }
  const owners = GLUE_TASKS.filter((t) => {
    if (t.modelTask === task.modelTask || t.regression || t.labels.length !== numLabels) return false;
    try {
      return mapModelLabels(t, id2label, numLabels).from === 'id2label';
    } catch {
      return false; // (not this task's labels)
    }
  }).map((t) => `${t.name}'s`);
  if (owners.length === 0) return undefined;
  return owners.length === 1 ? owners[0] : `${owners.slice(0, -1).join(', ')} and ${owners.at(-1)}`;
}
