/** openModelSession interrupted (Ctrl-C, SIGTERM) while onnxruntime reads the model's temporary copy: the copy is removed. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openModelSession } from '../../src/runtime/model-session.ts';
import { tinyBert } from '../helpers/models.ts';
import { ownTmpdir } from '../helpers/own-tmpdir.ts';

/** The folder onnxruntime was given the model in, and whether it was still there after the signal. */
const seen = vi.hoisted(() => ({ folder: '', afterSignal: true }));
vi.mock('../../src/runtime/session.ts', async (importOriginal) => {
  const session = await importOriginal<typeof import('../../src/runtime/session.ts')>();
  // onnxruntime reading the model when the signal comes: the process's clean-ups run (its re-raised signal is caught below)
  const interrupted = async (path: string) => {
    seen.folder = join(path, '..');
    process.emit('SIGINT', 'SIGINT');
    seen.afterSignal = existsSync(seen.folder);
    throw new Error('interrupted');
  };
  // both openers: openModelSession opens a file past the inline limit through openSessionWith (03d5a124's profile prefix)
  return { ...session, openSession: interrupted, openSessionWith: interrupted };
});

describe('openModelSession interrupted', () => {
  const tmp = ownTmpdir('model-session-interrupt-test-');
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('removes the temporary copy when SIGINT comes while onnxruntime reads it', async () => {
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true); // (the signal re-raised to end the process)
    expect(process.listenerCount('SIGINT')).toBe(0); // (the clean-ups run only where no other handler decides)
    await expect(openModelSession(tinyBert(), { threads: 1, inlineLimit: 0 })).rejects.toThrow('interrupted');
    expect(seen.folder.startsWith(join(tmp(), 'bert-compress-session-'))).toBe(true);
    expect(seen.afterSignal).toBe(false);
    expect(kill).toHaveBeenCalledWith(process.pid, 'SIGINT');
    expect(readdirSync(tmp())).toEqual([]);
  });
});
