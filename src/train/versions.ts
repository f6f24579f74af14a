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

/** The kinds of student as messages name them. */
export const STUDENT_KIND_NAMES: Readonly<Record<StudentKind, string>> = { bert: 'BERT', bilstm: 'Distilled BiLSTM' };

/** `step`'s versions by the kind of student it trains, as `compress passes` lists them: 'BERT students 1, Distilled BiLSTM students 2'. */
export function trainingVersionsText(step: TrainingStep): string {
  return Object.entries(TRAINING_VERSIONS[step])
    .map(([kind, version]) => `${STUDENT_KIND_NAMES[kind as StudentKind]} students ${version}`)
    .join(', ');
}
