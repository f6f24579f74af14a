/**
 * A transformers.js folder is moved into place holding the output folder's lock, as every run putting its output in
 * place does (withOutputLock): a run writing the same folder meanwhile is waited for, and the folder it filled is
 * then refused in one line, as at the start, instead of the two runs' renames interleaving.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { OUTPUT_LOCK } from '../../src/export/compress.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { withFileLock } from '../../src/file-lock.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();
const dir = mkdtempSync(join(tmpdir(), 'bc-tjs-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--format transformers.js beside another run writing the same folder', () => {
  it("waits for the other run's lock, then refuses the folder it filled, leaving that run's files", async () => {
    const src = writeModelFolder(join(dir, 'src'), tinyBert({}, { std: 0.3 }));
    const out = join(dir, 'tjs');
    const lines: string[] = [];
    let running: Promise<unknown> | undefined;
    // The other run: holds the lock of the folder the output goes into, and puts its files in place meanwhile.
    await withFileLock(
      join(dir, OUTPUT_LOCK),
      () => {},
      async () => {
        running = compressToTransformersJs({
          input: join(src, 'model.onnx'),
          output: out,
          steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }],
          context: { log: (l) => lines.push(l) },
        }).then(
          () => null,
          (e: unknown) => e,
        );
        const deadline = Date.now() + 60_000;
        while (!lines.some((l) => l.includes('waiting for process')) && !existsSync(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(lines.filter((l) => l.includes('waiting'))).toEqual([`-o ${out}: waiting for process ${process.pid}, which is writing its output into ${dir}`]);
        expect(existsSync(out)).toBe(false);
        // (the other run's folder, put in place under the lock)
        writeModelFolder(out, tinyBert({}, { std: 0.1 }));
      },
    );
    const error = await running;
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as Error).message).toBe(
      `-o ${out}: the folder ${out} is not empty and not a transformers.js folder compress wrote (model.onnx is none of its files); give a new or empty folder`,
    );
    expect(readdirSync(out).sort()).toEqual(readdirSync(src).sort());
    expect(readdirSync(dir).filter((f) => f.startsWith('.compress-') || f === OUTPUT_LOCK)).toEqual([]);
  }, 60_000);
});
