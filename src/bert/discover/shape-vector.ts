/**
 * Reading the target shape of a Reshape back to the constants it is built from. Exporters write it as one constant
 * (torch 1.x: [0, 0, 4, 64]), as a Concat of dynamic dimensions and one-element Constant nodes (torch ≥ 1.10), or as
 * a Cast of a Concat of Unsqueezed int32 initializers shared by every layer (keras2onnx). Only the tail of the shape
 * matters for attention (the head count and head size, or the merged width), so the resolver returns the longest
 * suffix whose positions are certain, each element with its value and the constant it is stored in, when known.
 */
import type { Node } from '../../onnx/graph.ts';
import { numElements } from '../../onnx/tensor.ts';
import type { GraphContext } from './graph-context.ts';

/** Where a shape element is stored: element `index` of a constant, read by node `reader`. */
export interface ShapeElementRef {
  source: 'initializer' | 'constant-node';
  name: string;
  index: number;
  /** Name of the node that reads the constant's value. */
  reader: string;
  /** The reader's input that reads it (a Concat may read one merged constant at two inputs, for two numbers). */
  input: number;
}

export interface ShapeElement {
  /** The number, when it is a constant. */
  value?: number;
  /** The constant holding it, when it is stored in one. */
  ref?: ShapeElementRef;
}

interface Resolved {
  /** Elements at the end of the vector. */
  elems: ShapeElement[];
  /** True when `elems` is the whole vector. */
  complete: boolean;
}

const UNKNOWN: Resolved = { elems: [], complete: false };

/**
 * The known tail of the shape vector `value` (read by `reader`): the last elements, in order. Elements computed at run
 * time (batch, sequence) come back without a value.
 */
export function shapeSuffix(ctx: GraphContext, value: string, reader: Node): ShapeElement[] {
  return resolve(ctx, value, reader, reader.inputs.indexOf(value), 0).elems;
}

function resolve(ctx: GraphContext, value: string, reader: Node, input: number, depth: number): Resolved {
  if (depth > 16) return UNKNOWN;
  const c = ctx.constant(value);
  if (c) {
    const nums = ctx.constNumbers(value);
    if (!nums) return UNKNOWN;
    return {
      elems: nums.map((v, index) => ({ value: v, ref: { source: c.source, name: c.name, index, reader: reader.name, input } })),
      complete: true,
    };
  }
  const p = ctx.producerOf(value);
  if (p?.domain !== '') return UNKNOWN;
  switch (p.opType) {
    case 'Cast':
    case 'Squeeze':
      return resolve(ctx, p.inputs[0], p, 0, depth + 1);
    case 'Unsqueeze': {
      // Shape vectors are built from scalars: one element each.
      const r = resolve(ctx, p.inputs[0], p, 0, depth + 1);
      return r.complete && r.elems.length === 1 ? r : { elems: [{}], complete: true };
    }
    case 'Gather': {
      const idx = ctx.constant(p.inputs[1]);
      if (!idx) return UNKNOWN;
      const n = numElements(idx.tensor.dims);
      return { elems: Array.from({ length: n }, () => ({})), complete: true };
    }
    case 'Concat': {
      let elems: ShapeElement[] = [];
      for (let i = p.inputs.length - 1; i >= 0; i--) {
        const r = resolve(ctx, p.inputs[i], p, i, depth + 1);
        elems = [...r.elems, ...elems];
        if (!r.complete) return { elems, complete: false };
      }
      return { elems, complete: true };
    }
    default:
      return UNKNOWN;
  }
}
