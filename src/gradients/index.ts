/**
 * Gradient graphs: reverse-mode differentiation of ONNX graphs into standard-op training graphs that onnxruntime
 * runs. Works on graphs alone (no BERT, no GLUE): the training loop (src/train) and data-driven passes use it.
 */
export {
  buildGradientGraph,
  gradOutputName,
  MIN_FORWARD_OPSET,
  TRAINING_OPSET,
  type GradientGraph,
  type GradientGraphOptions,
  type SparseGradient,
} from './build.ts';
export { GradientError, type GradContext, type GradientRule } from './context.ts';
export type { NumberRange } from '../errors.ts';
export type { Feeds } from '../runtime/session.ts';
export { GRADIENT_RULES, ZERO_GRADIENT } from './rules/index.ts';
export { probeValues, probeFeeds, type ValueFacts } from './probe.ts';
export {
  appendLoss,
  goldTargets,
  LOSS_INPUTS,
  LOSS_OUTPUT,
  TEMPERATURE_RANGE,
  projectionName,
  projects,
  type IntermediateTerm,
  type LossGraph,
  type LossKind,
  type LossTerm,
} from './losses.ts';
