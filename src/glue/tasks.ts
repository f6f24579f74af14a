/**
 * The GLUE tasks, one declarative definition each (after lm-evaluation-harness's task YAML files): where each split
 * lives under the GLUE folder, which columns hold the text and the label (by header name; only CoLA's headerless
 * train/dev files are read by position), the label names in Hugging Face `glue` order, how the file writes labels,
 * the metrics (those of Hugging Face `evaluate`'s `glue` metric) and whether the task is a regression.
 *
 * A variant overrides only what differs from its parent: MNLI-mm is MNLI-m with the mismatched files.
 */

/** The metric keys of Hugging Face `evaluate`'s `glue` metric (src/eval/metrics computes them). */
export type MetricName = 'accuracy' | 'f1' | 'matthews_correlation' | 'pearson' | 'spearmanr';

export type Split = 'train' | 'dev' | 'test';
export const SPLITS: readonly Split[] = ['train', 'dev', 'test'];

export type TaskName = 'CoLA' | 'SST-2' | 'MRPC' | 'STS-B' | 'QQP' | 'MNLI-m' | 'MNLI-mm' | 'QNLI' | 'RTE' | 'WNLI' | 'AX';

/** One split's file, relative to the GLUE folder. */
export interface SplitFile {
  readonly path: string;
  /** Column names by position, for a file with no header line (CoLA train/dev). */
  readonly headerlessColumns?: readonly string[];
  /** Whether the file has the label column (GLUE test files do not). */
  readonly labelled: boolean;
}

/**
 * How the label column is written in the file: `index` is the position in `labels` ("0", "1"); `name` is the
 * label name itself ("entailment"); `score` is a real number (STS-B). Submission files use the same format.
 */
export type LabelFormat = 'index' | 'name' | 'score';

export interface TaskDefinition {
  /** Display name, also the key in results and the submission file name (`<name>.tsv`). */
  readonly name: TaskName;
  /** Other accepted spellings (matched case-insensitively, ignoring '-' and '_'). */
  readonly aliases: readonly string[];
  readonly description: string;
  readonly splits: Readonly<Partial<Record<Split, SplitFile>>>;
  /** The text column (single-sentence task) or the two columns of a sentence pair, by header name. */
  readonly textColumns: readonly [string] | readonly [string, string];
  /** The label column by header name. */
  readonly labelColumn: string;
  /** Column holding the example id written to submission files; the row position is used when absent. */
  readonly idColumn: string;
  /** Class names in Hugging Face `glue` order; empty for a regression task. */
  readonly labels: readonly string[];
  readonly labelFormat: LabelFormat;
  /** For `score` labels: the lowest and highest score the task defines (STS-B: 0 to 5). */
  readonly scoreRange?: readonly [number, number];
  readonly regression: boolean;
  readonly metrics: readonly MetricName[];
  /**
   * The GLUE-score entry this task counts towards (MNLI-m and MNLI-mm share 'MNLI'); null for tasks outside the
   * GLUE score (AX).
   */
  readonly scoreGroup: string | null;
  /** The task whose fine-tuned model this task is evaluated with (AX uses an MNLI model); itself otherwise. */
  readonly modelTask: string;
  /**
   * How many examples each split of the official GLUE release has (what the GLUE server expects in a test
   * submission), to notice a file that is not GLUE's: a dev file replaced by the train file, a cut test file.
   */
  readonly officialRows?: Readonly<Partial<Record<Split, number>>>;
}

/** Builds a variant from its parent: only the fields given change (lm-evaluation-harness's `include:`). */
function variant(parent: TaskDefinition, overrides: Partial<TaskDefinition> & Pick<TaskDefinition, 'name'>): TaskDefinition {
  return { ...parent, aliases: [], ...overrides };
}

/** CoLA's train and dev files have no header; these are the columns of the official release, by position. */
const COLA_COLUMNS = ['source', 'label', 'original_label', 'sentence'] as const;

export const COLA: TaskDefinition = {
  name: 'CoLA',
  aliases: ['cola'],
  description: 'Corpus of Linguistic Acceptability: is the sentence grammatical?',
  splits: {
    train: { path: 'CoLA/train.tsv', headerlessColumns: COLA_COLUMNS, labelled: true },
    dev: { path: 'CoLA/dev.tsv', headerlessColumns: COLA_COLUMNS, labelled: true },
    test: { path: 'CoLA/test.tsv', labelled: false },
  },
  textColumns: ['sentence'],
  labelColumn: 'label',
  idColumn: 'index',
  labels: ['unacceptable', 'acceptable'],
  labelFormat: 'index',
  regression: false,
  metrics: ['matthews_correlation'],
  scoreGroup: 'CoLA',
  modelTask: 'CoLA',
  officialRows: { train: 8551, dev: 1043, test: 1063 },
};

export const SST2: TaskDefinition = {
  name: 'SST-2',
  aliases: ['sst2', 'sst'],
  description: 'Stanford Sentiment Treebank: is the movie review snippet positive?',
  splits: {
    train: { path: 'SST-2/train.tsv', labelled: true },
    dev: { path: 'SST-2/dev.tsv', labelled: true },
    test: { path: 'SST-2/test.tsv', labelled: false },
  },
  textColumns: ['sentence'],
  labelColumn: 'label',
  idColumn: 'index',
  labels: ['negative', 'positive'],
  labelFormat: 'index',
  regression: false,
  metrics: ['accuracy'],
  scoreGroup: 'SST-2',
  modelTask: 'SST-2',
  officialRows: { train: 67349, dev: 872, test: 1821 },
};

export const MRPC: TaskDefinition = {
  name: 'MRPC',
  aliases: ['mrpc'],
  description: 'Microsoft Research Paraphrase Corpus: are the two sentences paraphrases?',
  splits: {
    train: { path: 'MRPC/train.tsv', labelled: true },
    dev: { path: 'MRPC/dev.tsv', labelled: true },
    test: { path: 'MRPC/test.tsv', labelled: false },
  },
  textColumns: ['#1 String', '#2 String'],
  labelColumn: 'Quality',
  idColumn: 'index',
  labels: ['not_equivalent', 'equivalent'],
  labelFormat: 'index',
  regression: false,
  metrics: ['accuracy', 'f1'],
  scoreGroup: 'MRPC',
  modelTask: 'MRPC',
  officialRows: { train: 3668, dev: 408, test: 1725 },
};

export const STSB: TaskDefinition = {
  name: 'STS-B',
  aliases: ['stsb', 'sts'],
  description: 'Semantic Textual Similarity Benchmark: similarity of two sentences from 0 to 5 (regression).',
  splits: {
    train: { path: 'STS-B/train.tsv', labelled: true },
    dev: { path: 'STS-B/dev.tsv', labelled: true },
    test: { path: 'STS-B/test.tsv', labelled: false },
  },
  textColumns: ['sentence1', 'sentence2'],
  labelColumn: 'score',
  idColumn: 'index',
  labels: [],
  labelFormat: 'score',
  scoreRange: [0, 5],
  regression: true,
  metrics: ['pearson', 'spearmanr'],
  scoreGroup: 'STS-B',
  modelTask: 'STS-B',
  officialRows: { train: 5749, dev: 1500, test: 1379 },
};

export const QQP: TaskDefinition = {
  name: 'QQP',
  aliases: ['qqp'],
  description: 'Quora Question Pairs: do the two questions ask the same thing?',
  splits: {
    train: { path: 'QQP/train.tsv', labelled: true },
    dev: { path: 'QQP/dev.tsv', labelled: true },
    test: { path: 'QQP/test.tsv', labelled: false },
  },
  textColumns: ['question1', 'question2'],
  labelColumn: 'is_duplicate',
  idColumn: 'id',
  labels: ['not_duplicate', 'duplicate'],
  labelFormat: 'index',
  regression: false,
  metrics: ['accuracy', 'f1'],
  scoreGroup: 'QQP',
  modelTask: 'QQP',
  officialRows: { train: 363846, dev: 40430, test: 390965 },
};

export const MNLI_M: TaskDefinition = {
  name: 'MNLI-m',
  aliases: ['mnlim', 'mnli_matched'],
  description: 'Multi-Genre NLI, matched genres: does the premise entail, contradict or neither the hypothesis?',
  splits: {
    train: { path: 'MNLI/train.tsv', labelled: true },
    dev: { path: 'MNLI/dev_matched.tsv', labelled: true },
    test: { path: 'MNLI/test_matched.tsv', labelled: false },
  },
  textColumns: ['sentence1', 'sentence2'],
  labelColumn: 'gold_label',
  idColumn: 'index',
  labels: ['entailment', 'neutral', 'contradiction'],
  labelFormat: 'name',
  regression: false,
  metrics: ['accuracy'],
  scoreGroup: 'MNLI',
  modelTask: 'MNLI',
  officialRows: { train: 392702, dev: 9815, test: 9796 },
};

export const MNLI_MM: TaskDefinition = variant(MNLI_M, {
  name: 'MNLI-mm',
  aliases: ['mnlimm', 'mnli_mismatched'],
  description: 'Multi-Genre NLI, mismatched genres.',
  splits: {
    train: { path: 'MNLI/train.tsv', labelled: true },
    dev: { path: 'MNLI/dev_mismatched.tsv', labelled: true },
    test: { path: 'MNLI/test_mismatched.tsv', labelled: false },
  },
  officialRows: { train: 392702, dev: 9832, test: 9847 },
});

export const QNLI: TaskDefinition = {
  name: 'QNLI',
  aliases: ['qnli'],
  description: 'Question NLI (from SQuAD): does the sentence answer the question?',
  splits: {
    train: { path: 'QNLI/train.tsv', labelled: true },
    dev: { path: 'QNLI/dev.tsv', labelled: true },
    test: { path: 'QNLI/test.tsv', labelled: false },
  },
  textColumns: ['question', 'sentence'],
  labelColumn: 'label',
  idColumn: 'index',
  labels: ['entailment', 'not_entailment'],
  labelFormat: 'name',
  regression: false,
  metrics: ['accuracy'],
  scoreGroup: 'QNLI',
  modelTask: 'QNLI',
  officialRows: { train: 104743, dev: 5463, test: 5463 },
};

export const RTE: TaskDefinition = {
  name: 'RTE',
  aliases: ['rte'],
  description: 'Recognizing Textual Entailment: does the first sentence entail the second?',
  splits: {
    train: { path: 'RTE/train.tsv', labelled: true },
    dev: { path: 'RTE/dev.tsv', labelled: true },
    test: { path: 'RTE/test.tsv', labelled: false },
  },
  textColumns: ['sentence1', 'sentence2'],
  labelColumn: 'label',
  idColumn: 'index',
  labels: ['entailment', 'not_entailment'],
  labelFormat: 'name',
  regression: false,
  metrics: ['accuracy'],
  scoreGroup: 'RTE',
  modelTask: 'RTE',
  officialRows: { train: 2490, dev: 277, test: 3000 },
};

export const WNLI: TaskDefinition = {
  name: 'WNLI',
  aliases: ['wnli'],
  description: 'Winograd NLI: is the sentence with the pronoun substituted entailed by the original?',
  splits: {
    train: { path: 'WNLI/train.tsv', labelled: true },
    dev: { path: 'WNLI/dev.tsv', labelled: true },
    test: { path: 'WNLI/test.tsv', labelled: false },
  },
  textColumns: ['sentence1', 'sentence2'],
  labelColumn: 'label',
  idColumn: 'index',
  labels: ['not_entailment', 'entailment'],
  labelFormat: 'index',
  regression: false,
  metrics: ['accuracy'],
  scoreGroup: 'WNLI',
  modelTask: 'WNLI',
  officialRows: { train: 635, dev: 71, test: 146 },
};

/** The diagnostic set: test only, no labels, scored by the GLUE server; predicted with an MNLI model. */
export const AX: TaskDefinition = variant(MNLI_M, {
  name: 'AX',
  aliases: ['ax', 'diagnostic'],
  description: 'GLUE diagnostic set (test only, unlabelled), evaluated with an MNLI model.',
  splits: { test: { path: 'diagnostic/diagnostic.tsv', labelled: false } },
  metrics: [],
  scoreGroup: null,
  officialRows: { test: 1104 },
});

/** Every task, in the GLUE paper's order (AX last). */
export const GLUE_TASKS: readonly TaskDefinition[] = [COLA, SST2, MRPC, STSB, QQP, MNLI_M, MNLI_MM, QNLI, RTE, WNLI, AX];

/**
 * The task whose train split trains a model for `task`: itself, or for a task with no train split (AX, test only) the
 * first task of its `modelTask` that has one (MNLI-m: the MNLI training set); what advice to train a classifier names.
 */
export function trainingTask(task: TaskDefinition): TaskDefinition {
  if (task.splits.train) return task;
  return GLUE_TASKS.find((t) => t.modelTask === task.modelTask && t.splits.train) ?? task;
}
