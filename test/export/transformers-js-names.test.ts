/**
 * --format transformers.js's refusals name a graph's value as every refused value is (quotedText, as a shell takes
 * it): a name holding a quote or a line break stays one pair of quotes a reader can paste, where a hand '${x}' showed
 * 'it's' (a quote closed early) and a line break in plain quotes.
 */
import { describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { transformersJsGraph } from '../../src/export/transformers-js.ts';
import { renameValue } from '../../src/onnx/analysis.ts';
import { cloneModel } from '../../src/onnx/index.ts';
import { tinyBert } from '../helpers/models.ts';

describe('transformersJsGraph names values as every refusal quotes a value', () => {
  it.each([
    ["it's", "'it'\\''s'"],
    ['a\nb', "$'a\\nb'"],
  ])("a scores output %j it cannot rename 'logits', a value of the graph already", (name, shown) => {
    const model = cloneModel(tinyBert());
    renameValue(model.graph, 'logits', name);
    renameValue(model.graph, model.graph.nodes[0]!.outputs[0]!, 'logits');
    expect(() => transformersJsGraph(model, 'x.onnx')).toThrow(
      new SettingsError(`x.onnx: cannot rename ${shown} to 'logits' for transformers.js: the graph has a value 'logits'`),
    );
  });
});
