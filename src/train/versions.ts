/**
 * The versions of the training steps, as each graph pass has its own (PassDeclaration.version): bumped (by one)
 * whenever `train` or `distill` writes a different model for the same model, data and settings (a fix or change in
 * the gradient graph, a loss, the optimizer's update, the order examples are drawn in, a changed default), so that
 * sweep points a step of the older version trained are stale instead of silently reused (src/sweep/key.ts). A change
 * of the trainer that both run (trainer.ts, optimizer.ts, the gradients) bumps both; one of the distillation losses
 * or intermediate-layer KD (TinyBERT's, PKD's), distill's only. Starts at 1: the training code of the points stored
 * before steps had versions, whose keys hold none. 2: a Distilled BiLSTM's LSTM biases are not decayed (were).
 */
export const TRAINING_VERSIONS: Readonly<Record<'train' | 'distill', number>> = {
  train: 2,
  distill: 2,
};
