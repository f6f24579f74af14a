/**
 * Discovery's value ranks (valueRanks, src/bert/discover/value-ranks.ts: the rank of each value where it follows from
 * the declared shapes, which the LayerNorm matcher reads to tell a mean over the last axis from one over the sequence)
 * against onnxruntime's: every value the table gives a rank, made a graph output and computed, has a tensor of that
 * rank. The repository's fixtures always; the shared exporters' fixtures (torch, keras2onnx, onnxruntime-fused, op 10
 * to 14) where ../shared has them.
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { valueRanks } from '../../src/bert/discover/value-ranks.ts';
import { sampleInputs } from '../../src/bert/sample-inputs.ts';
import { cloneModel, loadModel } from '../../src/onnx/index.ts';
import { idFeeds } from '../../src/runtime/feeds.ts';
import { openModelSession } from '../../src/runtime/model-session.ts';
import { FIXTURE_MODELS, fixture, hasFixtures } from '../helpers/paths.ts';
import { REPO_FIXTURES } from '../helpers/repo-fixtures.ts';

/** The values of the model at `path` whose rank valueRanks gives and onnxruntime's tensor has another, and how many were compared. */
async function rankMismatches(path: string): Promise<{ compared: number; wrong: string[] }> {
  const model = loadModel(path);
  const ranks = valueRanks(model.graph);
  const produced = new Set(model.graph.nodes.flatMap((n) => n.outputs.filter((o) => o)));
  const names = [...ranks.keys()].filter((v) => produced.has(v));
  const probe = cloneModel(model);
  probe.graph.outputs = names.map((name) => ({ name }));
  probe.graph.valueInfo = [];
  const session = await openModelSession(probe, { threads: 1 });
  try {
    const out = await session.run(idFeeds(sampleInputs(model, findBert(model))));
    const wrong = names.filter((n) => out[n]!.dims.length !== ranks.get(n)).map((n) => `${n}: ${ranks.get(n)}, runs [${out[n]!.dims.join(', ')}]`);
    return { compared: names.length, wrong };
  } finally {
    await session.release();
  }
}

describe("discovery's value ranks", () => {
  it.each(REPO_FIXTURES.map((f) => [f.name, f.path]))("are onnxruntime's (%s)", async (_name, path) => {
    const { compared, wrong } = await rankMismatches(path);
    expect(compared).toBeGreaterThan(100);
    expect(wrong).toEqual([]);
  });

  it.skipIf(!hasFixtures).each(FIXTURE_MODELS.map((f) => [f.file]))("are onnxruntime's (shared %s)", async (file) => {
    const { compared, wrong } = await rankMismatches(fixture(file));
    expect(compared).toBeGreaterThan(40);
    expect(wrong).toEqual([]);
  });
});
