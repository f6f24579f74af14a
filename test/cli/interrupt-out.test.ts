/**
 * `compress eval --out DIR/a/r.json` and `compress report --out DIR/a` stopped by Ctrl-C: the folders the command
 * created for --out are removed with the process's other clean-ups (ensureFolder registers them, see
 * src/folders.ts), though neither command has a stop handler of its own. In-process: the signal is emitted while the
 * command works and its re-raise (the process ending) is caught.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runMain } from '../helpers/cli.ts';
import { fakePoint, storePoints } from '../report/points.ts';

/** Whether each watched folder was there right after the signal. */
const seen = vi.hoisted(() => ({ watched: [] as string[], afterSignal: [] as boolean[] }));
const stop = () => {
  process.emit('SIGINT', 'SIGINT');
  seen.afterSignal = seen.watched.map((dir) => existsSync(dir));
  throw new Error('stopped'); // (the process would end here)
};
vi.mock('../../src/eval/evaluate.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/eval/evaluate.ts')>()),
  evaluate: async () => stop(),
}));
// (the report's charts are drawn after its --out folder is made, before its files are written)
vi.mock('../../src/report/charts.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/report/charts.ts')>()),
  renderCharts: async () => stop(),
}));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a command stopped by Ctrl-C removes the folders it created for --out', () => {
  it.each([
    ['eval', (root: string) => ['eval', join(root, 'model.onnx'), '--tasks', 'SST-2', '--out', join(root, 'a', 'b', 'r.json')]],
    [
      'report',
      (root: string) => {
        storePoints(join(root, 'store.sqlite'), [fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.8 }, 0)]);
        return ['report', join(root, 'store.sqlite'), '--out', join(root, 'a', 'b')];
      },
    ],
  ])('%s', async (_name, args) => {
    const root = mkdtempSync(join(tmpdir(), 'interrupt-out-'));
    seen.watched = [join(root, 'a', 'b'), join(root, 'a'), root];
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    expect(process.listenerCount('SIGINT')).toBe(0); // (the clean-ups run only where no other handler decides)
    const r = await runMain(args(root));
    expect(kill).toHaveBeenCalledWith(process.pid, 'SIGINT');
    expect(seen.afterSignal).toEqual([false, false, true]);
    expect(r.code).not.toBe(0);
  });
});
