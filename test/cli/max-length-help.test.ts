/**
 * eval's, train's and distill's `--max-length` help says the default each takes (evalLength, runMaxLength): config.json's
 * max_length, else the length a static-shape export's inputs fix, else 128 or the tokenizer's smaller model_max_length,
 * where it left out the fixed length (which eval read, and training since reads too), one text for the three; compress's
 * calibration examples the same default.
 */
import { expect, it } from 'vitest';
import { runMain } from '../helpers/cli.ts';

it.each(['eval', 'train', 'distill'])("%s --help says a model's fixed input length is the default --max-length", async (command) => {
  const r = await runMain([command, '--help']);
  expect(r.code).toBe(0);
  expect(r.stdout.replace(/\s+/g, ' ')).toContain(
    "--max-length maximum tokens per example (default: config.json's max_length, else the length the model's inputs fix, else 128 or the tokenizer's smaller model_max_length) [number]",
  );
});

it("compress --help says its calibration examples' --max-length takes the same default, where it said 'calibration sequence length' alone", async () => {
  const r = await runMain(['--help']);
  expect(r.code).toBe(0);
  expect(r.stdout.replace(/\s+/g, ' ')).toContain(
    "--max-length maximum tokens per calibration example (default: config.json's max_length, else the length the model's inputs fix, else 128 or the tokenizer's smaller model_max_length) [number]",
  );
});
