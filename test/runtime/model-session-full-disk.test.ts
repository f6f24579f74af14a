/** openModelSession on a full temporary folder: the write of the external data fails part way (ENOSPC). */
import { readdirSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { openModelSession } from '../../src/runtime/model-session.ts';
import { tinyBert } from '../helpers/models.ts';
import { ownTmpdir } from '../helpers/own-tmpdir.ts';

vi.mock('../../src/files.ts', async (importOriginal) => {
  const files = await importOriginal<typeof import('../../src/files.ts')>();
  return {
    ...files,
    // the data file is written, then the disk is full: the model file's write fails as a full disk's does
    writeFileAtomic: (path: string, data: import('../../src/files.ts').FileData) => {
      if (path.endsWith('.data')) return files.writeFileAtomic(path, data);
      throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', errno: -28, syscall: 'write', path });
    },
  };
});

describe('openModelSession on a full disk', () => {
  const tmp = ownTmpdir('model-session-full-test-');

  it('refuses in one line naming the folder, the reason and TMPDIR, and removes what it wrote', async () => {
    const err = await openModelSession(tinyBert(), { threads: 1, inlineLimit: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^cannot write the model \\(.* MB of weights, past the 0 B onnxruntime is given in memory\\) to a temporary folder in '${tmp()}' for onnxruntime to open: no space left on the device; set TMPDIR`,
      ),
    );
    expect(readdirSync(tmp()).filter((f) => f.startsWith('bert-compress-session-'))).toEqual([]);
  });
});

describe("openModelSession on a full disk whose temporary folder's name holds a quote", () => {
  const tmp = ownTmpdir("model-session-full-it's-");

  it('names the folder as every message quotes text (quotedText), one pair of quotes a shell takes', async () => {
    const err = await openModelSession(tinyBert(), { threads: 1, inlineLimit: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    const shown = `'${tmp().replace(/'/g, "'\\''")}'`;
    expect((err as Error).message).toContain(`to a temporary folder in ${shown} for onnxruntime to open: no space left on the device; set TMPDIR`);
    expect(shown).toContain("it'\\''s");
  });
});
