/**
 * Evaluation of an encoder-only model (what `distill --stage general` writes from a teacher without a classifier:
 * BertModel's `last_hidden_state` and `pooler_output`, config.json with no labels) is refused up front in one line
 * that names the way to give it a classifier: not a shape error from its hidden states, and with `--tasks all` not
 * one line per task.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/eval/evaluate.ts';
import { SettingsError } from '../../src/errors.ts';
import { encoderOnly } from '../../src/train/students/classifier.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';

const work = mkdtempSync(join(tmpdir(), 'bc-eval-encoder-only-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const dir = writeModelFolder(join(work, 'general'), encoderOnly(tinyBert({}, { seed: 2 })));
writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', architectures: ['BertModel'], max_length: 16 }));
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 6);
writeGlueTask(glueDir, 'STS-B', 6);

const LINE = `${join(dir, 'model.onnx')}: encoder-only (outputs last_hidden_state, pooler_output; no classifier): eval needs a classifier; compress distill --stage task gives it one`;

async function refusal(tasks: string[], glue = glueDir): Promise<string> {
  try {
    await evaluate({ model: dir, tasks, glueDir: glue });
  } catch (e) {
    expect(e).toBeInstanceOf(SettingsError);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('eval of an encoder-only model', () => {
  it('a task named: one line naming the fix, not a shape error', async () => {
    expect(await refusal(['SST-2'])).toBe(LINE);
    expect(await refusal(['SST-2', 'STS-B'])).toBe(LINE);
  });

  it('--tasks all: the same one line, not a reason per task', async () => {
    expect(await refusal(['all'])).toBe(LINE);
  });

  it('the same line when its config.json names labels (a reason per task otherwise, with --tasks all)', async () => {
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ model_type: 'bert', architectures: ['BertModel'], num_labels: 2, max_length: 16 }));
    try {
      expect(await refusal(['all'])).toBe(LINE);
      expect(await refusal(['STS-B'])).toBe(LINE);
    } finally {
      writeFileSync(config, JSON.stringify({ model_type: 'bert', architectures: ['BertModel'], max_length: 16 }));
    }
  });
});
