/**
 * What one rewrite of the optimize pass works with: a read-only view of its input graph (discovery's GraphContext
 * and LayerNorm index, to find the values around a block) and a GraphEditor on a clone (same names). A fused node
 * takes the place of the node that produced the block's output value; the nodes computing the block the old way
 * are then read by nothing and pruned when the rewrite is finished (anything else that still reads one of their
 * values keeps it).
 */
import type { Model, Node } from '../onnx/graph.ts';
import type { BertStructure, Linear } from '../bert/structure.ts';
import { GraphContext } from '../bert/discover/graph-context.ts';
import { NormIndex } from '../bert/discover/layer-norm.ts';
import { linearAt } from '../bert/discover/linear.ts';
import { DataType } from '../onnx/dtype.ts';
import { attr, GraphEditor, MS_DOMAIN, withoutTrailingEmpty } from '../quantize/graph-edit.ts';
import type { Rewrite } from './settings.ts';
import { quotedText } from '../errors.ts';

/** A block left as it was, and why. */
export interface SkippedRewrite {
  rewrite: Rewrite;
  /** e.g. 'layer 3', 'embeddings'. */
  where: string;
  reason: string;
}

export class OptimizeContext {
  readonly view: GraphContext;
  readonly norms: NormIndex;
  readonly edit: GraphEditor;
  /** Nodes written, by op type (or rewrite), for the report. */
  readonly written = new Map<string, number>();
  readonly skipped: SkippedRewrite[] = [];
  private readonly inputNodes: Map<string, Node>;

  constructor(
    readonly input: Model,
    readonly structure: BertStructure,
  ) {
    this.view = new GraphContext(input, 'optimize');
    this.norms = new NormIndex(this.view);
    this.edit = new GraphEditor(input);
    this.inputNodes = new Map(input.graph.nodes.map((n) => [n.name, n]));
  }

  /** The node named `name` in the input graph (the view's, not the editor's copy). */
  inputNode(name: string): Node | undefined {
    return this.inputNodes.get(name);
  }

  /** Graph input `name` as int32: itself when it is int32, else the output of a Cast put first in the graph. */
  int32Input(name: string): string {
    const { edit } = this;
    if (edit.graph.inputs.find((i) => i.name === name)?.elemType === DataType.INT32) return name;
    const out = edit.fresh(`${name}_int32`);
    edit.graph.nodes.unshift(edit.makeNode('Cast', [name], [out], { to: attr.int(DataType.INT32) }, '', `${name}/Cast_int32`));
    return out;
  }

  count(what: string): void {
    this.written.set(what, (this.written.get(what) ?? 0) + 1);
  }

  skip(rewrite: Rewrite, where: string, reason: string): void {
    this.skipped.push({ rewrite, where, reason });
  }

  /** Puts com.microsoft `opType` where the producer of `value` was (it then computes `value`); counts it. */
  replaceProducer(value: string, opType: string, inputs: string[], attributes: Node['attributes'] = {}): Node {
    const { edit } = this;
    const old = edit.graph.nodes.find((n) => n.outputs.includes(value));
    if (!old) throw new Error(`optimize: no node computes ${quotedText(value)}`);
    edit.importDomain(MS_DOMAIN);
    const node = edit.makeNode(opType, withoutTrailingEmpty(inputs), [value], attributes, MS_DOMAIN, `${old.name}/${opType}`);
    edit.replaceNode(old, [node]);
    this.count(opType);
    return node;
  }

  /** Why the producer of `value` cannot be replaced by one fused node (it computes other values too), or undefined. */
  producerProblem(value: string): string | undefined {
    const p = this.view.producer(value);
    if (!p) return `no node computes ${quotedText(value)}`;
    return p.outputs.filter(Boolean).length === 1
      ? undefined
      : `${quotedText(value)} comes from ${p.opType} ${quotedText(p.name)}, which computes other values too`;
  }

  /** The value a projection multiplies (in front of any activation quantizer or keras flatten). */
  projectionInput(lin: Linear): string | undefined {
    const node = this.inputNode(lin.node);
    return node ? linearAt(this.view, node)?.input : undefined;
  }

  /**
   * The projection's output before its bias and the bias, when the bias is a separate Add that alone reads the
   * product (a fused op can then add the bias itself); undefined otherwise.
   */
  splitBias(lin: Linear): { product: string; bias: string } | undefined {
    if (!lin.bias || !lin.biasNode) return undefined;
    const add = this.inputNode(lin.biasNode);
    const t = this.view.graph.initializers.get(lin.bias);
    if (!add || !t || t.dims.length !== 1 || !add.inputs.includes(lin.bias)) return undefined;
    const product = add.inputs.find((i) => i !== lin.bias);
    if (!product || this.readers(product) !== 1) return undefined;
    return { product, bias: lin.bias };
  }

  /** How many nodes (and graph outputs) read `value` in the input graph. */
  readers(value: string): number {
    return this.view.readers(value).length + this.view.graph.outputs.filter((o) => o.name === value).length;
  }
}
