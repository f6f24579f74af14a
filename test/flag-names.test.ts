/**
 * renameFlags (src/flag-names.ts): the words a library caller or a sweep file gives for the flags a refusal names,
 * leaving whole the commands a refusal gives to run, in parentheses or ending the message.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { renameFlags } from '../src/flag-names.ts';
import { runTraining } from '../src/index.ts';
import { TRAINING_OPTION_NAMES } from '../src/train/library.ts';
import { compressToTransformersJs } from '../src/export/transformers-js.ts';
import { registerAllPasses } from '../src/passes.ts';
import { writeModelFolder } from './helpers/model-folder.ts';
import { writeTinyBert } from './helpers/models.ts';

const tiny = writeTinyBert({ numLayers: 1 }, { std: 0.2 });
afterAll(() => tiny.cleanup());

describe('renameFlags', () => {
  it('leaves whole a command that ends the message without parentheses, its paths quoted as shellWord quotes them', () => {
    const names = { '-o': 'output', '--quantize': 'steps[0].settings.mode' };
    expect(renameFlags('-o x: write the file elsewhere, or a new folder with compress --format transformers.js -o NEW_FOLDER', names)).toBe(
      'output x: write the file elsewhere, or a new folder with compress --format transformers.js -o NEW_FOLDER',
    );
    expect(renameFlags("-o x: whose --quantize writes both: compress '/m/a b;c/model.onnx' … --quantize int8 -o /o", names)).toBe(
      "output x: whose steps[0].settings.mode writes both: compress '/m/a b;c/model.onnx' … --quantize int8 -o /o",
    );
    // (not the end of the message: prose after it, whose flags are renamed)
    expect(renameFlags('run compress -o x; then -o y', names)).toBe('run compress output x; then output y');
  });

  it("a flag's frame named whole, a flag with the words after it before the flag alone", () => {
    const names = { 'flag --prune-heads': 'steps[1].settings.heads', '--quantize int8': 'a quantize step of mode int8', '--quantize': 'a quantize step' };
    expect(renameFlags("prune-heads: heads '0:x': … (flag --prune-heads)", names)).toBe("prune-heads: heads '0:x': … (steps[1].settings.heads)");
    expect(renameFlags('only (--quantize int8) applies; --quantize int8-static, --quantize', names)).toBe(
      'only (a quantize step of mode int8) applies; a quantize step int8-static, a quantize step',
    );
    // (a frame whose flags the names rename, without its word flag; one they do not, as it is)
    expect(renameFlags('x (flag --a or --b); y (flag --c)', { '--a': 'A', '--b': 'B' })).toBe('x (A or B); y (flag --c)');
  });

  it("a flag with the words before it named whole (a caller's words that read well), where those words stand unrenamed", () => {
    const names = { '--layer-map': 'distill.layerMap', '--intermediate': 'distill.intermediate', 'an --intermediate preset': 'a distill.intermediate preset' };
    expect(renameFlags('--layer-map applies to an --intermediate preset; a list', names)).toBe(
      'distill.layerMap applies to a distill.intermediate preset; a list',
    );
    // (other words before it, a word ending in them, a longer flag: the flag alone)
    expect(renameFlags('with --intermediate preset, can --intermediate preset, an --intermediate presets', names)).toBe(
      'with distill.intermediate preset, can distill.intermediate preset, an distill.intermediate presets',
    );
    expect(renameFlags('an --intermediate-phase preset', { ...names, '--intermediate-phase': 'P' })).toBe('an P preset');
    const bench = { '--repeats': 'repeats', '--max-time': 'maxSeconds', 'a smaller --repeats, or a --max-time': 'fewer repeats, or a maxSeconds limit' };
    expect(renameFlags('--repeats 5e9: …; give a smaller --repeats, or a --max-time', bench)).toBe('repeats 5e9: …; give fewer repeats, or a maxSeconds limit');
  });
});

describe('renameFlags and paths', () => {
  it("renames flag words only, not a path's parts that read as flags ('/x/-o/model.onnx' was '/x/output/model.onnx')", () => {
    const names = { '-o': 'output', '--glue-dir': 'glueDir', '--task': 'task', '--tasks': 'tasks' };
    expect(renameFlags('-o /x/-o/model.onnx: /x/-o is a file', names)).toBe('output /x/-o/model.onnx: /x/-o is a file');
    expect(renameFlags('--glue-dir runs/--glue-dir: no such folder; see runs/-o and ./--glue-dir.bak', names)).toBe(
      'glueDir runs/--glue-dir: no such folder; see runs/-o and ./--glue-dir.bak',
    );
    // (a part that goes on as a path or a word: '-o/x', '-o.onnx', '-o_1', a Windows path's '\\-o')
    expect(renameFlags('-o/x, -o.onnx, -o_1, C:\\m\\-o\\x', names)).toBe('-o/x, -o.onnx, -o_1, C:\\m\\-o\\x');
    // (flag words as before: after a space, a bracket or a quote, before a '.' ending a sentence, joined by '/')
    expect(renameFlags("give -o. ('-o' or [--glue-dir]); use --task/--tasks", names)).toBe("give output. ('output' or [glueDir]); use task/tasks");
  });
});

describe("runTraining's output in a transformers.js folder", () => {
  it('names its output option and leaves the command it gives whole', async () => {
    registerAllPasses();
    const folder = writeModelFolder(join(tiny.dir, 'source'), tiny.model);
    const web = join(tiny.dir, 'web');
    await compressToTransformersJs({ input: join(folder, 'model.onnx'), output: web, steps: [] });
    const output = join(web, 'onnx', 'trained.onnx');
    const message = await runTraining({ task: 'SST-2', student: folder, output }).then(
      () => 'ran',
      (e: Error) => e.message,
    );
    expect(message).toBe(
      `output ${output}: ${web} is a transformers.js folder (config.json and the tokenizer above onnx/, naming its models' dtypes), which bert-compress writes whole: write the .onnx file elsewhere, or a new folder with compress --format transformers.js -o NEW_FOLDER`,
    );
    expect(renameFlags(message, TRAINING_OPTION_NAMES)).toBe(message);
  });
});
