/**
 * Every command's `--threads` help says what 0 means, as its refusal does (`expected an integer from 0 to 256 (0: one
 * per physical core)`): eval's and bench's said only the default, so 0, which they take, read as undocumented.
 */
import { describe, expect, it } from 'vitest';
import { runMain } from '../helpers/cli.ts';

describe('--threads help', () => {
  it.each([
    ['eval', /--threads\s+onnxruntime intra-op threads \(default and 0: one per physical core\)/],
    ['bench', /--threads\s+onnxruntime intra-op threads \(default and 0: one per physical core\)/],
    ['train', /--threads\s+onnxruntime intra-op threads \(0: one per physical core\)\s+\[number\] \[default: 0\]/],
    ['distill', /--threads\s+onnxruntime intra-op threads \(0: one per physical core\)\s+\[number\] \[default: 0\]/],
    // (compress's measuring passes and its check: it had no --threads, and opened them at one thread per physical core)
    [
      'compress',
      new RegExp(
        String.raw`--threads onnxruntime intra-op threads of the runs that measure the model \(importance, sensitivity, ranges\) and check it \(default and 0: one per physical core\)`.replaceAll(
          ' ',
          String.raw`\s+`,
        ),
      ),
    ],
  ])('%s --help says what --threads 0 means', async (command, line) => {
    const r = await runMain([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(line);
  });
});
