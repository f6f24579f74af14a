/** Structural checks of a graph: every input defined, nodes topologically sorted, opsets imported. */
import { domainName, opsetVersion, type Graph, type Model, type Node } from './graph.ts';
import { nodeReads, topoSort } from './analysis.ts';
import { sparseInitializerNames } from './fidelity.ts';
import { quotedText } from '../errors.ts';

/** The highest opset of the default domain that onnxruntime-node 1.30 (and this tool) understands. */
export const MAX_DEFAULT_OPSET = 24;
export const MIN_DEFAULT_OPSET = 7;

/** A problem with the model's opset imports, or undefined. */
export function checkOpsets(model: Model): string | undefined {
  const version = opsetVersion(model);
  if (version === undefined) {
    if (model.graph.nodes.some((n) => domainName(n.domain) === '')) return 'the model imports no ai.onnx opset';
    return undefined;
  }
  if (version > MAX_DEFAULT_OPSET) return `unknown opset ai.onnx ${version} (supported: ${MIN_DEFAULT_OPSET} to ${MAX_DEFAULT_OPSET})`;
  if (version < 1) return `invalid opset ai.onnx ${version}`;
  const domains = new Set(model.opsetImports.map((o) => domainName(o.domain)));
  const missing = model.graph.nodes.find((n) => !domains.has(domainName(n.domain)));
  if (missing) return `node ${quotedText(missing.name || missing.opType)} uses domain ${quotedText(missing.domain)}, which the model does not import`;
  return undefined;
}

/**
 * Problems in a graph's structure, empty when it is valid: a cycle, values read before (or without) being defined,
 * values defined twice, graph outputs nobody produces.
 */
export function validateGraph(g: Graph, outerScope: ReadonlySet<string> = new Set()): string[] {
  const sorted = topoSort(g);
  if (!sorted.ok) return [cycleProblem(sorted.cycleAt)];
  return definitionProblems(g, outerScope);
}

/** The message for a cycle found by topoSort. */
export function cycleProblem(n: Node): string {
  return `the graph has a cycle through node ${quotedText(n.name || n.opType)} (${n.opType})`;
}

/**
 * Problems with what the nodes read and define, in their current order (no cycle check): reads before or
 * without a definition, values defined twice, graph outputs nobody produces; subgraphs included.
 */
export function definitionProblems(g: Graph, outerScope: ReadonlySet<string> = new Set()): string[] {
  const problems: string[] = [];
  const defined = new Set<string>([...outerScope, ...g.inputs.map((v) => v.name), ...g.initializers.keys(), ...sparseInitializerNames(g)]);
  const producedLater = new Set<string>();
  for (const n of g.nodes) for (const o of n.outputs) producedLater.add(o);
  for (const n of g.nodes) {
    for (const r of nodeReads(n)) {
      if (!defined.has(r)) {
        problems.push(
          producedLater.has(r)
            ? `node ${quotedText(n.name || n.opType)} reads ${quotedText(r)} before it is produced (nodes not topologically sorted)`
            : `node ${quotedText(n.name || n.opType)} (${n.opType}) reads ${quotedText(r)}, which nothing defines`,
        );
      }
    }
    for (const o of n.outputs) {
      if (!o) continue;
      if (defined.has(o) && !g.inputs.some((v) => v.name === o)) problems.push(`value ${quotedText(o)} is defined twice`);
      defined.add(o);
    }
    for (const a of Object.values(n.attributes)) {
      const subs = a.type === 'graph' ? [a.value] : a.type === 'graphs' ? a.value : [];
      for (const sg of subs) problems.push(...validateGraph(sg, defined).map((p) => `in a subgraph of ${quotedText(n.name || n.opType)}: ${p}`));
    }
  }
  for (const o of g.outputs) if (!defined.has(o.name)) problems.push(`graph output ${quotedText(o.name)} is never produced`);
  return problems;
}

/** All problems of a model: opsets and graph structure. */
export function validateModel(model: Model): string[] {
  const p = checkOpsets(model);
  return [...(p ? [p] : []), ...validateGraph(model.graph)];
}
