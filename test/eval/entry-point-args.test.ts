/**
 * The arguments of bert-compress/eval's entry points (src/eval/index.ts) refused in one line naming the entry point
 * and the argument the caller gave, where a value of another kind was read as something else or refused naming a
 * function the caller did not call (openSession, locateModel, findBert) or failed with a TypeError.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluate, loadCalibration, loadTokenizer, prepareTask, readModelConfig, scoreTask } from '../../src/eval/index.ts';
import { SST2 } from '../../src/glue/tasks.ts';
import { UserError } from '../../src/errors.ts';
import { asyncRefusal } from '../helpers/refusal.ts';

/** The one-line UserError `run` ends in (a synchronous throw counts too). */
const refusal = (run: () => unknown): Promise<string> => asyncRefusal(Promise.resolve().then(run), UserError);

describe("evaluate's model", () => {
  it('is refused naming evaluate where it is no path, bytes or session', async () => {
    const expected = 'expected a model path, its bytes or an open session (openSession)';
    for (const [model, got] of [
      // (read as bytes or a session: 'evaluating model bytes or an opened session needs a tokenizer'; with a
      // tokenizer, 'openSession: model: expected a model path or its bytes')
      [5, 'number 5'],
      [{}, 'an object'],
      [[], 'a list'],
      // ('locateModel: model: expected an .onnx file or a model folder')
      ['', 'string ""'],
    ] as const) {
      expect(await refusal(() => evaluate({ model: model as never, tasks: ['SST-2'] }))).toBe(`evaluate: model: ${expected}, got ${got}`);
      expect(await refusal(() => evaluate({ model: model as never, tokenizer: 'no-such-tokenizer', tasks: ['SST-2'] }))).toBe(
        `evaluate: model: ${expected}, got ${got}`,
      );
    }
  });
  it('a missing one is said to be missing, and bytes are taken (then the tokenizer is asked for)', async () => {
    expect(await refusal(() => evaluate({ model: null as never, tasks: ['SST-2'] }))).toBe(
      'evaluate: model: missing; expected a model path, its bytes or an open session',
    );
    // ('… (the tokenizer option DIR)', the flag's placeholder left after the flag renamed)
    expect(await refusal(() => evaluate({ model: new Uint8Array(4), tasks: ['SST-2'] }))).toBe(
      'evaluating model bytes or an opened session needs a tokenizer (the tokenizer option)',
    );
  });
});

describe("loadCalibration's graph", () => {
  it('is refused naming loadCalibration where it is no model, before any work', async () => {
    // ('findBert: model: expected a model (what loadModel returns), got number 5', once the model was located)
    for (const [graph, got] of [
      [5, 'number 5'],
      [{ graph: {} }, 'an object'],
      [null, 'null'],
    ] as const) {
      expect(await refusal(() => loadCalibration({ model: 'no-such-model', task: 'SST-2', graph: graph as never }))).toBe(
        `loadCalibration: graph: expected a model (what loadModel returns), got ${got}`,
      );
    }
  });
});

describe('prepareTask and scoreTask', () => {
  const tokenizer = loadTokenizer(join(import.meta.dirname, '..', '..', 'fixtures', 'tiny-bert'));
  const missing = join(import.meta.dirname, 'no-such-glue-folder');
  it("prepareTask takes a task's name, as evaluate's tasks do (the package exports no task definition)", async () => {
    // ('Cannot read properties of undefined (reading 'dev')')
    for (const name of ['SST-2', 'sst2']) {
      expect(await refusal(() => prepareTask(name, 'dev', missing, tokenizer, 16))).toBe(
        `${join(missing, 'SST-2', 'dev.tsv')}: file not found (GLUE SST-2 dev; set glueDir or GLUE_DIR)`,
      );
    }
    expect(await refusal(() => prepareTask(SST2, 'dev', missing, tokenizer, 16))).toMatch(/^.*SST-2.dev\.tsv: file not found/);
    expect(await refusal(() => prepareTask('sst3', 'dev', missing, tokenizer, 16))).toMatch(/^unknown task 'sst3'\. Did you mean 'SST-2'\?/);
  });
  it('prepareTask refuses a task, GLUE folder or tokenizer of another kind naming itself, where it failed with a TypeError', async () => {
    for (const [args, line] of [
      [[5, 'dev', missing, tokenizer, 16], "prepareTask: task: expected a GLUE task name (e.g. 'SST-2') or a task definition, got number 5"],
      [[SST2, 'dev', 5, tokenizer, 16], 'prepareTask: glueDir: expected the GLUE data folder, got number 5'],
      // ('tokenizer.encode is not a function': evaluate's tokenizer option takes a folder, this one a tokenizer)
      [
        [SST2, 'dev', missing, 'tokenizer-folder', 16],
        'prepareTask: tokenizer: expected a tokenizer (what loadTokenizer returns), got string "tokenizer-folder"',
      ],
    ] as const) {
      expect(await refusal(() => prepareTask(...(args as unknown as Parameters<typeof prepareTask>)))).toBe(line);
    }
  });
  it('scoreTask refuses a session or a prepared task of another kind naming itself, where it failed with a TypeError', async () => {
    const session = { run: async () => ({}) } as never;
    const prepared = { dataset: {}, encodings: [] } as never;
    expect(await refusal(() => scoreTask(5 as never, prepared))).toBe('scoreTask: session: expected an open session (what openSession returns), got number 5');
    expect(await refusal(() => scoreTask(session, 'x' as never))).toBe(
      'scoreTask: prepared: expected a prepared task (what prepareTask returns), got string "x"',
    );
  });
});

describe("evaluate's tokenizer", () => {
  it('is refused where it is an object that is no tokenizer, which failed with a TypeError', async () => {
    // ('tokenizer.encode is not a function', after the model was read)
    for (const [tokenizer, got] of [
      [{}, 'an object'],
      [{ encode: 5 }, 'an object'],
      [[], 'a list'],
    ] as const) {
      expect(await refusal(() => evaluate({ model: 'no-such-model', tokenizer: tokenizer as never, tasks: ['SST-2'] }))).toBe(
        `evaluate: tokenizer: expected a tokenizer folder or a tokenizer (what loadTokenizer returns), got ${got}`,
      );
    }
  });
});

describe("evaluate's and scoreTask's modelConfig", () => {
  it("is refused where it is an object readModelConfig does not return (config.json's JSON as parsed), read as a config of no labels", async () => {
    // ('SST-2 has 2 labels (negative, positive) but config.json says undefined labels', after the model was read)
    const json = { architectures: ['BertForSequenceClassification'], id2label: { 0: 'negative', 1: 'positive' }, num_labels: 2 };
    for (const [modelConfig, got] of [
      [{}, 'an object'],
      [json, 'an object'],
    ] as const) {
      expect(await refusal(() => evaluate({ model: 'no-such-model', modelConfig: modelConfig as never, tasks: ['SST-2'] }))).toBe(
        `evaluate: modelConfig: expected a config.json path or what readModelConfig returns, got ${got}`,
      );
      expect(await refusal(() => scoreTask(null as never, null as never, { modelConfig: modelConfig as never }))).toBe(
        `scoreTask: modelConfig: expected a parsed config.json (readModelConfig), got ${got}`,
      );
    }
    // (what readModelConfig returns, of a folder with or without config.json, is taken: the missing model is refused)
    for (const modelConfig of [readModelConfig(join(import.meta.dirname, '..', '..', 'fixtures', 'tiny-bert')), readModelConfig(import.meta.dirname)])
      expect(await refusal(() => evaluate({ model: 'no-such-model', modelConfig, tasks: ['SST-2'] }))).toMatch(/^no-such-model: no such file or folder/);
  });
});
