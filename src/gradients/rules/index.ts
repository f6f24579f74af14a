/** The registry of gradient rules, keyed by op type (default ONNX domain). */
import type { GradientRule } from '../context.ts';
import * as elementwise from './elementwise.ts';
import * as matmul from './matmul.ts';
import * as reduce from './reduce.ts';
import * as shape from './shape.ts';

const ALL: GradientRule[] = [elementwise, matmul, reduce, shape].flatMap((m) => Object.values(m) as GradientRule[]);

export const GRADIENT_RULES: ReadonlyMap<string, GradientRule> = new Map(ALL.map((r) => [r.opType, r]));

/**
 * Op types with float outputs whose gradient is zero almost everywhere (or that make new values): they stop the
 * gradient. Ops with integer or boolean outputs (Shape, Equal, ArgMax…) stop it by their type.
 */
export const ZERO_GRADIENT = new Set([
  'Sign',
  'Floor',
  'Ceil',
  'Round',
  'Constant',
  'ConstantOfShape',
  'RandomNormal',
  'RandomUniform',
  'RandomNormalLike',
  'RandomUniformLike',
  'EyeLike',
]);
