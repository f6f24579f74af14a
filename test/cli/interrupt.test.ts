/** Ctrl-C or SIGTERM during `compress` ends it as killed by the signal and leaves no staging folder, nor the folders it created, behind. */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTinyBert } from '../helpers/models.ts';

const BIN = resolve(__dirname, '../../bin/compress.mjs');
// Large enough (a 20000-word vocabulary to factorize) that the run is still staging when the signal comes.
const model = writeTinyBert({ vocabSize: 20000, hiddenSize: 128, intermediateSize: 256 }, { std: 0.2 });
afterAll(() => model.cleanup());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('compress interrupted while staging', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s removes the staging folder, then the empty folders the run created for its output',
    async (signal) => {
      const out = join(model.dir, `out-${signal}`, 'new', 'folders'); // created by the run: removed too
      const child = spawn(process.execPath, [BIN, model.path, '--factorize-embeddings', '16', '--quantize', 'int8', '-o', join(out, 'm.onnx')], {
        stdio: 'ignore',
      });
      const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, sig) => r({ code, signal: sig })));
      let staged = false;
      for (let i = 0; i < 1200 && child.exitCode === null && !staged; i++) {
        staged = existsSync(out) && readdirSync(out).some((f) => f.startsWith('.compress-'));
        if (!staged) await sleep(25);
      }
      expect(staged, 'the run never staged (or ended first)').toBe(true);
      child.kill(signal);
      const end = await ended;
      expect(end.signal).toBe(signal);
      expect(existsSync(join(model.dir, `out-${signal}`))).toBe(false);
    },
    120_000,
  );
});
