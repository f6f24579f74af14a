import type { Student } from './student.ts';

/** The training steps of a pipeline, each with its versions. */
export type TrainingStep = 'train' | 'distill';

/** The kinds of model a training step trains: a canonical BERT (a bert:… or every-other student, an encoder rebuilt) or a Distilled BiLSTM. */
export type StudentKind = Student['kind'];

/**
 * The versions of the training steps, by the kind of student they train, as each graph pass has its own
 * (PassDeclaration.version): bumped whenever `train` or `distill` writes a different model of that kind for the same
 * model, data and settings (a fix or change in the gradient graph, a loss, the optimizer's update, the order examples
 * are drawn in, a changed default), so that sweep points a step of the older version trained are stale instead of
 * silently reused (src/sweep/key.ts), and points of the other kind keep theirs. A change of the trainer that both
 * steps run (trainer.ts, optimizer.ts, the gradients) bumps both; one of the distillation losses or intermediate-layer
 * KD (TinyBERT's, PKD's), distill's only; one of a student's graph, that kind's only. One line of numbers for every
 * kind: a bump takes one more than the highest in this table, so that a number names one training code (the keys of
 * SHARED_TRAINING_VERSION and before gave every kind the step's number). Starts at 1: the training code of the points
 * stored before steps had versions, whose keys hold none. 2: a Distilled BiLSTM's LSTM biases are not decayed (were).
 * A changed default length that gives the steps of some models alone another length (those whose inputs fix one) is
 * a version of TRAINING_LENGTH_READINGS instead, which stales only their points.
 */
export const TRAINING_VERSIONS: Readonly<Record<TrainingStep, Readonly<Record<StudentKind, number>>>> = {
  train: { bert: 1, bilstm: 2 },
  distill: { bert: 1, bilstm: 2 },
};

/**
 * The version of `step` that trains a `student` (TRAINING_VERSIONS); without one, the step's code's: the highest of
 * its kinds' (a lineage's, a checkpoint's, `compress passes`', and the key of a point whose student the plan did not know).
 */
export function trainingVersion(step: TrainingStep, student?: StudentKind): number {
  const byKind = TRAINING_VERSIONS[step];
  return student !== undefined ? byKind[student] : Math.max(...Object.values(byKind));
}

/**
 * The last version that keyed every kind of student alike (the step's number, whatever it trained): a store written
 * by that code holds a point of any kind under it, trained as this code trains a kind whose version is no higher
 * (nothing changed for it since): key.ts `pointKeys`.
 */
export const SHARED_TRAINING_VERSION = 2;

/**
 * A train or distill step that takes its default length (no maxLength in the step, no eval.maxLength in its sweep,
 * no max_length in the config.json it reads), as a change of that default sees it: `fixed`, the shortest length the
 * inputs of the models it runs at that length fix (a static-shape export's; undefined for none), and `before`, the
 * length every such step took before version 2 of TRAINING_LENGTH_READINGS: 128 capped at the tokenizer's
 * model_max_length.
 */
export interface DefaultTrainingLength {
  fixed: number | undefined;
  before: number;
}

/**
 * Versions of the default length a train or distill step trains at, as the tokenizer readings'
 * (src/eval/tokenizer-reading.ts): a change that gives the steps of some models another default adds a version here,
 * with the steps it touched (`changed`), so that sweep points those steps trained at the older default are stale (a
 * point's version, PointVersions.trainingLength: the last version whose change touched one of its steps, 1 where none
 * did, as the keys of points stored before it hold none), while the points of other models keep their keys, which a
 * bump of TRAINING_VERSIONS would not: it stales every point of a kind of student.
 */
export const TRAINING_LENGTH_READINGS: ReadonlyArray<{ version: number; changed: (step: DefaultTrainingLength) => boolean }> = [
  // Stop 55 (d790addc): a step whose models' inputs fix a length trains at it, as eval and calibration read the model,
  // where it cut at 128 (capped at model_max_length) and wrote that max_length into a model whose inputs it fixed
  // longer: the points of a static-shape model of more than 128 tokens.
  { version: 2, changed: (step) => step.fixed !== undefined && step.fixed > step.before },
];

/** The training length version of a point whose steps that take their default length are `steps` (TRAINING_LENGTH_READINGS). */
export function trainingLengthVersion(steps: readonly DefaultTrainingLength[]): number {
  let version = 1;
  for (const r of TRAINING_LENGTH_READINGS) if (steps.some((step) => r.changed(step))) version = Math.max(version, r.version);
  return version;
}

/** The kinds of student as messages name them. */
export const STUDENT_KIND_NAMES: Readonly<Record<StudentKind, string>> = { bert: 'BERT', bilstm: 'Distilled BiLSTM' };

/** `step`'s versions by the kind of student it trains, as `compress passes` lists them: 'BERT students 1, Distilled BiLSTM students 2'. */
export function trainingVersionsText(step: TrainingStep): string {
  return Object.entries(TRAINING_VERSIONS[step])
    .map(([kind, version]) => `${STUDENT_KIND_NAMES[kind as StudentKind]} students ${version}`)
    .join(', ');
}
