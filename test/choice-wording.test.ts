/**
 * One wording for a value outside a fixed list of choices (choiceRefusal, src/errors.ts): typed text in its place as a
 * shell takes it (`--logit-loss 'kl': expected one of ce, mse`), a value a file or a library caller gives after the
 * choices with its kind (`model_type: expected one of …, got string "gpt2"`), as every number's refusal words it.
 */
import { describe, expect, it } from 'vitest';
import { choiceProblem, choiceRefusal, choiceWords } from '../src/errors.ts';
import { checkMatch, layerPairs } from '../src/train/intermediate.ts';
import { dataCommand } from '../src/cli/commands/data.ts';
import { UsageError } from '../src/errors.ts';
import { checkSettings } from '../src/train/run.ts';
import { readIntermediate } from '../src/cli/commands/distill.ts';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { refusal } from './helpers/refusal.ts';

describe('one wording of a value outside its choices', () => {
  it('shows typed text in its place as a shell takes it, a value of another kind or from a file with its kind', () => {
    expect(choiceRefusal('--split', '$HOME', ['dev', 'test'])).toBe("--split '$HOME': expected one of dev, test");
    expect(choiceRefusal('--stage', "it's", ['task', 'general'])).toBe("--stage 'it'\\''s': expected one of task, general");
    expect(choiceRefusal('--stage', 'a\nb', ['task', 'general'])).toBe("--stage $'a\\nb': expected one of task, general");
    expect(choiceRefusal('build opset', 18, [11, 17, 20])).toBe('build opset 18: expected one of 11, 17, 20');
    expect(choiceRefusal('build opset', '17', [11, 17, 20])).toBe('build opset: expected one of 11, 17, 20, got string "17"');
    expect(choiceRefusal('--logit-loss', 2, ['ce', 'mse'])).toBe('--logit-loss: expected one of ce, mse, got number 2');
    expect(choiceRefusal('m.yaml[0].loss', undefined, ['mse', 'pkd'], { from: 'file' })).toBe('m.yaml[0].loss: expected one of mse, pkd, got nothing');
    expect(choiceRefusal('model_type', 'gpt2', ['bert'], { from: 'file', note: '(those supported)' })).toBe(
      'model_type: expected one of bert (those supported), got string "gpt2"',
    );
    expect(choiceRefusal('--intermediate', 'tiny', ['tinybert'], { or: 'a list of matches' })).toBe(
      "--intermediate 'tiny': expected one of tinybert, or a list of matches",
    );
    expect(choiceProblem('kl', ['ce', 'mse'], { from: 'file' })).toBe('expected one of ce, mse, got string "kl"');
    // (the words alone, which a frame of its own uses: a pass setting's, a GLUE label's 'is not one of 0, 1 (or negative, positive)')
    expect(choiceWords([0, 1], { note: '(or negative, positive)' })).toBe('one of 0, 1 (or negative, positive)');
  });

  it("words distill's words as every choice, where they read '--logit-loss must be ce or mse (got k l)' bare or hand-quoted", () => {
    expect(refusal(() => checkSettings({}, { logitLoss: 'k l' as 'ce' }))).toBe("--logit-loss 'k l': expected one of ce, mse");
    expect(refusal(() => checkSettings({}, { stage: '$HOME' as 'task' }))).toBe("--stage '$HOME': expected one of task, general");
    expect(refusal(() => checkSettings({}, { intermediate: "it's" as 'tinybert' }))).toBe(
      "--intermediate 'it'\\''s': expected one of tinybert, pkd-skip, pkd-last, or a list of matches",
    );
    expect(refusal(() => checkSettings({}, { intermediate: 'tinybert', intermediatePhase: 'a b' as 'joint' }))).toBe(
      "--intermediate-phase 'a b': expected one of first, joint",
    );
  });

  it("words a match's feature and loss a library caller gives with their kind, where it hand-quoted them ('x'y' is not one of …)", () => {
    const match = { teacherLayer: 1, studentLayer: 1, feature: 'hidden', loss: 'mse', weight: 1 } as const;
    expect(refusal(() => checkMatch({ ...match, feature: "x'y" as 'hidden' }, 0, 2, 2))).toBe(
      'intermediate match 1: feature: expected one of embeddings, hidden, attention, attention-scores, got string "x\'y"',
    );
    expect(refusal(() => checkMatch({ ...match, loss: 3 as unknown as 'mse' }, 0, 2, 2))).toMatch(
      /^intermediate match 1: loss: expected one of .*, got number 3$/,
    );
  });

  it("words a layer map a library caller gives outside its names with its kind, before the depths, where it said 'unknown layer map' or, for a student deeper than its teacher, judged the depths of a map that is none", () => {
    const names = 'expected one of uniform, skip, last, or [[teacher, student], …]';
    expect(refusal(() => layerPairs("it's" as 'uniform', 4, 2))).toBe(`layer map: ${names}, got string "it's"`);
    expect(refusal(() => layerPairs('sideways' as 'uniform', 2, 4))).toBe(`layer map: ${names}, got string "sideways"`);
    expect(refusal(() => layerPairs({} as 'uniform', 4, 2))).toBe(`layer map: ${names}, got an object`);
  });

  it("words compress data's action a caller of its run gives as yargs' choices are (choiceLine), where it said 'unknown data action'", async () => {
    await expect(dataCommand.run({ action: "it's" } as never)).rejects.toThrow(UsageError);
    await expect(dataCommand.run({ action: '$HOME' } as never)).rejects.toThrow(/^action '\$HOME': expected one of download$/);
  });

  it("words --intermediate given a folder as a path that is no file, where it showed the path bare ('--intermediate /tmp/it's is a folder')", () => {
    const root = mkdtempSync(join(tmpdir(), 'bc-choice-'));
    try {
      const folder = join(root, "it's $HOME");
      mkdirSync(folder);
      const shown = `'${folder.replace(/'/g, "'\\''")}'`;
      expect(refusal(() => readIntermediate(folder))).toBe(
        `--intermediate ${shown}: expected one of tinybert, pkd-skip, pkd-last, or a JSON or YAML file of matches (a folder)`,
      );
      expect(refusal(() => readIntermediate(join(root, 'none')))).toBe(
        `--intermediate '${join(root, 'none')}': expected one of tinybert, pkd-skip, pkd-last, or a JSON or YAML file of matches (no such file)`,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
