/**
 * The builder against a graph torch really wrote: the SST-2 teacher (shared/teachers/sst2-L4H256, exported by
 * torch 1.13 at opset 14). Its weights, read back and renamed to Hugging Face names, must rebuild the same graph
 * (node for node, weight for weight, up to names) and the same logits.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '@huggingface/tokenizers';
import { buildBert } from '../../src/bert/build.ts';
import { layerParamNames } from '../../src/bert/build-weights.ts';
import { transpose2d } from '../../src/bert/build-graph.ts';
import { configFromHuggingFace, type BertConfig } from '../../src/bert/config.ts';
import { loadModel, readFloat32, type Attribute, type Model } from '../../src/onnx/index.ts';
import { batchLogits, type TokenBatch } from '../helpers/models.ts';
import { GLUE_DIR, TEACHERS, hasGlue, hasTeachers } from '../helpers/paths.ts';

const TEACHER = join(TEACHERS, 'sst2-L4H256');
const SST2_DEV = join(GLUE_DIR, 'SST-2', 'dev.tsv');

/** The teacher's parameters under Hugging Face names, Linear weights back in torch's [out, in] layout. */
function teacherWeights(m: Model, c: BertConfig): Map<string, Float32Array> {
  const g = m.graph;
  const out = new Map<string, Float32Array>();
  const direct: Record<string, string> = {
    we: 'bert.embeddings.word_embeddings',
    pe: 'bert.embeddings.position_embeddings',
    te: 'bert.embeddings.token_type_embeddings',
    ln: 'bert.embeddings.LayerNorm',
    pool: 'bert.pooler.dense',
    cls: 'classifier',
  };
  const roles = (i: number): Record<string, string> => {
    const n = layerParamNames(i);
    return { q: n.query, k: n.key, v: n.value, o: n.attentionOutput, ln1: n.attentionNorm, f1: n.intermediate, f2: n.output, ln2: n.outputNorm };
  };
  for (const [name, t] of g.initializers) {
    const top = /^(we|pe|te|ln|pool|cls)\.(weight|bias)$/.exec(name);
    const layer = /^layers\.(\d+)\.(q|k|v|o|f1|f2|ln1|ln2)\.(weight|bias)$/.exec(name);
    if (top) out.set(`${direct[top[1]]}.${top[2]}`, readFloat32(t));
    else if (layer) out.set(`${roles(Number(layer[1]))[layer[2]]}.${layer[3]}`, readFloat32(t));
  }
  // Linear weights torch transposed for MatMul have anonymous names: find them by the node that reads them.
  for (const n of g.nodes) {
    const mm = /^\/layers\.(\d+)\/(q|k|v|o|f1|f2)\/MatMul$/.exec(n.name);
    if (!mm) continue;
    const t = g.initializers.get(n.inputs[1])!;
    const [inF, outF] = t.dims;
    out.set(`${roles(Number(mm[1]))[mm[2]]}.weight`, transpose2d(readFloat32(t), inF, outF));
  }
  expect(out.size).toBe(5 + 16 * c.numLayers + 4);
  return out;
}

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex').slice(0, 24);

function attrKey(a: Attribute): string {
  return a.type === 'tensor' ? `T${a.value.dataType}[${a.value.dims}]${sha(a.value.data)}` : `${a.type}:${JSON.stringify(a.value)}`;
}

/**
 * A name-free signature of every node: its op, attributes, and the signatures of what it reads (graph inputs by
 * name, initializers by type, shape and content). Two graphs with the same sorted signatures compute the same
 * thing the same way.
 */
function nodeSignatures(m: Model): { nodes: string[]; outputs: string[] } {
  const sig = new Map<string, string>();
  for (const v of m.graph.inputs) sig.set(v.name, `input:${v.name}`);
  for (const [k, t] of m.graph.initializers) sig.set(k, `init:${t.dataType}[${t.dims}]${sha(t.data)}`);
  const nodes: string[] = [];
  for (const n of m.graph.nodes) {
    const attrs = Object.keys(n.attributes)
      .sort()
      .map((k) => `${k}=${attrKey(n.attributes[k])}`);
    const s = sha(`${n.domain}:${n.opType}(${n.inputs.map((i) => sig.get(i) ?? `?${i}`).join(',')}){${attrs.join(';')}}`);
    nodes.push(s);
    n.outputs.forEach((o, i) => sig.set(o, `${s}#${i}`));
  }
  return { nodes: nodes.sort(), outputs: m.graph.outputs.map((o) => sig.get(o.name)!) };
}

/** The first `n` SST-2 dev sentences that fit max_length, tokenized as the teacher was evaluated, and their rows. */
function devBatch(n: number, maxLength: number): { batch: TokenBatch; rows: number[] } {
  const tok = new Tokenizer(
    JSON.parse(readFileSync(join(TEACHER, 'tokenizer.json'), 'utf8')),
    JSON.parse(readFileSync(join(TEACHER, 'tokenizer_config.json'), 'utf8')),
  );
  const lines = readFileSync(SST2_DEV, 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim());
  const ids: number[][] = [];
  const rows: number[] = [];
  for (let i = 0; i < lines.length && ids.length < n; i++) {
    const e = tok.encode(lines[i].split('\t')[0]).ids;
    if (e.length <= maxLength) {
      ids.push(e);
      rows.push(i);
    }
  }
  const seq = Math.max(...ids.map((r) => r.length));
  const pad = (r: number[], v: (j: number) => number) => Array.from({ length: seq }, (_, j) => (j < r.length ? v(j) : 0));
  return {
    batch: { inputIds: ids.map((r) => pad(r, (j) => r[j])), attentionMask: ids.map((r) => pad(r, () => 1)), tokenTypeIds: ids.map((r) => pad(r, () => 0)) },
    rows,
  };
}

describe.skipIf(!hasTeachers || !hasGlue)(
  'buildBert reproduces the torch-exported SST-2 teacher (needs ../shared/teachers/sst2-L4H256 and GLUE SST-2 dev)',
  () => {
    let teacher: Model;
    let config: BertConfig;
    let rebuilt: Model;
    beforeAll(() => {
      teacher = loadModel(join(TEACHER, 'model.onnx'));
      config = configFromHuggingFace(JSON.parse(readFileSync(join(TEACHER, 'config.json'), 'utf8')));
      rebuilt = buildBert(config, { kind: 'given', tensors: teacherWeights(teacher, config) }, { batchDim: 'batch', sequenceDim: 'seq' });
    });

    it('writes the same graph: every node, constant and weight, up to names', () => {
      expect(rebuilt.graph.nodes.length).toBe(teacher.graph.nodes.length);
      expect(rebuilt.graph.initializers.size).toBe(teacher.graph.initializers.size);
      const a = nodeSignatures(rebuilt);
      const b = nodeSignatures(teacher);
      expect(a.outputs).toEqual(b.outputs);
      expect(a.nodes).toEqual(b.nodes);
      expect(rebuilt.graph.inputs).toEqual(teacher.graph.inputs);
      expect(rebuilt.graph.outputs).toEqual(teacher.graph.outputs);
      expect(rebuilt.opsetImports).toEqual(teacher.opsetImports);
      expect(rebuilt.irVersion).toBe(teacher.irVersion);
    });

    it('gives the teacher’s logits on real SST-2 dev sentences (padded batch), within 1e-4', async () => {
      const { batch, rows } = devBatch(8, config.maxPositions);
      const got = (await batchLogits(rebuilt, batch)).rows;
      const want = (await batchLogits(join(TEACHER, 'model.onnx'), batch)).rows;
      const oracle = JSON.parse(readFileSync(join(TEACHER, 'dev_logits.json'), 'utf8')) as number[][];
      for (let i = 0; i < rows.length; i++) {
        for (let j = 0; j < 2; j++) {
          expect(Math.abs(got[i][j] - want[i][j])).toBeLessThan(1e-4);
          expect(Math.abs(got[i][j] - oracle[rows[i]][j])).toBeLessThan(1e-4);
        }
      }
      expect(new Set(got.map((r) => Math.sign(r[1] - r[0]))).size).toBe(2); // both classes occur
    });
  },
);
