/** The files of tiny hub repos for the hub tests: a plain BERT checkpoint (whole, sharded, headless), an ONNX repo. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHuggingFaceFolder } from '../../src/bert/build-hf.ts';
import { randomBertWeights } from '../../src/bert/build-weights.ts';
import type { BertConfig } from '../../src/bert/config.ts';
import { writeSafetensors } from '../../src/bert/safetensors.ts';
import { bertParameters } from '../../src/bert/build-weights.ts';
import { tinyBertConfig } from '../helpers/models.ts';

export const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...Array.from({ length: 123 }, (_, i) => `w${i}`)].join('\n') + '\n';

export interface TinyCheckpoint {
  config: BertConfig;
  weights: Map<string, Float32Array>;
  files: Record<string, Buffer>;
}

/** A tiny BERT checkpoint as repo files: config.json, model.safetensors, vocab.txt (and a README). */
export function tinyCheckpoint(seed: number, opts: { withoutHead?: boolean } = {}): TinyCheckpoint {
  const config = tinyBertConfig();
  const weights = randomBertWeights(config, { seed });
  const dir = mkdtempSync(join(tmpdir(), 'bc-hub-ckpt-'));
  try {
    writeHuggingFaceFolder(dir, config, weights);
    const files: Record<string, Buffer> = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
    if (opts.withoutHead) {
      // A bare BertModel: no classifier, and names without the `bert.` prefix.
      const dims = new Map(bertParameters(config).map((p) => [p.name, p.dims]));
      const kept = new Map(
        [...weights].filter(([n]) => !n.startsWith('classifier.')).map(([n, data]) => [n.replace(/^bert\./, ''), { dims: dims.get(n)!, data }] as const),
      );
      writeSafetensors(join(dir, 'model.safetensors'), kept, { format: 'pt' });
      files['model.safetensors'] = readFileSync(join(dir, 'model.safetensors'));
    }
    files['vocab.txt'] = Buffer.from(VOCAB);
    files['README.md'] = Buffer.from('# tiny\n');
    return { config, weights, files };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same checkpoint split into two shards with a model.safetensors.index.json. */
export function sharded(c: TinyCheckpoint): Record<string, Buffer> {
  const dims = new Map(bertParameters(c.config).map((p) => [p.name, p.dims]));
  const names = [...c.weights.keys()];
  const half = Math.ceil(names.length / 2);
  const dir = mkdtempSync(join(tmpdir(), 'bc-hub-shards-'));
  try {
    const out: Record<string, Buffer> = { ...c.files };
    delete out['model.safetensors'];
    const weightMap: Record<string, string> = {};
    [names.slice(0, half), names.slice(half)].forEach((part, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      writeSafetensors(join(dir, file), new Map(part.map((n) => [n, { dims: dims.get(n)!, data: c.weights.get(n)! }] as const)), { format: 'pt' });
      out[file] = readFileSync(join(dir, file));
      for (const n of part) weightMap[n] = file;
    });
    out['model.safetensors.index.json'] = Buffer.from(JSON.stringify({ metadata: {}, weight_map: weightMap }));
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
