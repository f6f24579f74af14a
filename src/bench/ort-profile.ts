/**
 * onnxruntime's profile of a session's runs (`enableProfiling`; openModelSession's `profilePrefix`), read back as
 * each node's shortest run. On a loaded machine (other processes on its cores) a run's wall time says more about the
 * load than about the graph, and a ratio of two sessions' run times with it; the sum over nodes of each node's
 * fastest run of many is what the graph costs when nothing else runs, near enough to compare two graphs (the training
 * benchmark's --profile: a training graph against the forward pass of the same model).
 */
import { readFileSync } from 'node:fs';

/** One node's runs in a profile. */
export interface NodeRuns {
  /** The node's op type (onnxruntime's, after its fusions: FusedMatMul, BiasGelu…). */
  readonly op: string;
  /** Its shortest run, in milliseconds. */
  readonly min: number;
  /** The runs seen. */
  readonly runs: number;
}

/** A profile read back: the session's runs (model_run events) and each node's runs, by node name. */
export interface OrtProfile {
  readonly runs: number;
  readonly nodes: ReadonlyMap<string, NodeRuns>;
}

interface ProfileEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string };
}

/** The profile onnxruntime wrote to `file` (a JSON list of trace events). */
export function readOrtProfile(file: string): OrtProfile {
  const events = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (!Array.isArray(events)) throw new Error(`${file}: not an onnxruntime profile (a JSON list of events)`);
  let runs = 0;
  const nodes = new Map<string, { op: string; min: number; runs: number }>();
  for (const e of events as ProfileEvent[]) {
    if (e.cat === 'Session' && e.name === 'model_run') runs++;
    if (e.cat !== 'Node' || typeof e.name !== 'string' || !e.name.endsWith('_kernel_time') || typeof e.dur !== 'number') continue;
    const name = e.name.slice(0, -'_kernel_time'.length);
    const ms = e.dur / 1000;
    const seen = nodes.get(name);
    if (seen) {
      seen.min = Math.min(seen.min, ms);
      seen.runs++;
    } else {
      nodes.set(name, { op: e.args?.op_name ?? '?', min: ms, runs: 1 });
    }
  }
  return { runs, nodes };
}

/** The sum of the nodes' shortest runs (ms), of those whose op type `which` accepts (default: every node). */
export function minimaSum(profile: OrtProfile, which: (op: string) => boolean = () => true): number {
  let sum = 0;
  for (const n of profile.nodes.values()) if (which(n.op)) sum += n.min;
  return sum;
}

/** The op types onnxruntime runs matrix products as (MatMul, Gemm and their fused forms). */
export const isProduct = (op: string): boolean => /^(Fused)?(MatMul|Gemm)$/.test(op);

/** The sum of the nodes' shortest runs by op type, largest first. */
export function minimaByOp(profile: OrtProfile): Array<[op: string, ms: number]> {
  const by = new Map<string, number>();
  for (const n of profile.nodes.values()) by.set(n.op, (by.get(n.op) ?? 0) + n.min);
  return [...by].sort((a, b) => b[1] - a[1]);
}
