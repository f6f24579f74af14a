/**
 * The scores output of a sequence classifier whose outputs declare no shapes and have generic names (outputs
 * [output_0: the last layer's hidden states, output_1: the logits]): evaluation reads the output discovery finds the
 * classifier writing, where it took the first output that could hold scores by name and shape (output_0) and refused
 * the model ('has shape [32, 55, 256]; expected [batch, labels]').
 */
import { describe, expect, it } from 'vitest';
import { graphFacts } from '../../src/eval/graph-checks.ts';
import { transformersJsGraph } from '../../src/export/transformers-js.ts';
import { encodeModel, type Model } from '../../src/onnx/index.ts';
import { openSession } from '../../src/runtime/session.ts';
import { encoderFeeds } from '../helpers/feeds.ts';
import { tinyBert, withUnshapedOutputs } from '../helpers/models.ts';

/** The tiny BERT with the last layer's output as a first graph output `output_0`, logits renamed `output_1`, no output shapes. */
const unshaped = (): Model => withUnshapedOutputs(tinyBert());

describe('graphFacts on a classifier whose outputs declare no shapes', () => {
  it("names the classifier's output and its width, not the hidden states before it", async () => {
    const m = unshaped();
    const facts = graphFacts(m);
    expect(facts.scoresName).toBe('output_1');
    expect(facts.scoreWidth).toBe(2);
    // (the graph is what it says: output_0 holds hidden states, output_1 two scores per example)
    const session = await openSession(encodeModel(m));
    const out = await session.run(encoderFeeds(session, { batch: 2, seq: 5, vocab: 128 }));
    expect(out.output_0!.dims).toEqual([2, 5, 32]);
    expect(out.output_1!.dims).toEqual([2, 2]);
  });
});

describe('--format transformers.js of a classifier whose outputs declare no shapes', () => {
  it("names the classifier's output 'logits', which transformers.js reads, where output_0's hidden states were renamed 'logits'", async () => {
    const m = unshaped();
    const { model, renamed } = transformersJsGraph(m, 'unshaped.onnx');
    expect(renamed).toEqual({ output_1: 'logits' });
    const feeds = encoderFeeds(await openSession(encodeModel(m)), { batch: 2, seq: 5, vocab: 128 });
    const before = await (await openSession(encodeModel(m))).run(feeds);
    const after = await (await openSession(encodeModel(model))).run(feeds);
    expect(after.logits!.dims).toEqual([2, 2]);
    expect(Array.from(after.logits!.data as Float32Array)).toEqual(Array.from(before.output_1!.data as Float32Array));
  });
});
