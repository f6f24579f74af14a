/**
 * `compress bench`'s session-memory process stops with its parent: stopping the benchmark (Ctrl-C, SIGTERM, through
 * its abort signal) ends the measuring process and throws BenchStopped once it has exited, where the parent used to
 * wait for the whole measurement (and start the baseline's after it). The model here is a named pipe nobody writes
 * to, so the measuring process blocks reading it until it is ended.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BenchStopped } from '../../src/bench/index.ts';
import { sessionMemory } from '../../src/bench/session-memory.ts';
import { processAlive } from '../../src/processes.ts';
import { childPids } from '../helpers/processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'session-memory-stop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Pids of this process's children running session-memory-main. */
function measuringChildren(): number[] {
  return childPids(process.pid, 'session-memory-main');
}

describe.skipIf(process.platform === 'win32')('the session-memory process', () => {
  it('ends when the benchmark is stopped, and the stop is BenchStopped', async () => {
    const fifo = join(dir, 'model.onnx');
    execFileSync('mkfifo', [fifo]);
    const controller = new AbortController();
    const measuring = sessionMemory(fifo, [], 1, false, controller.signal).then(
      () => null,
      (e: unknown) => e,
    );
    let pids: number[] = [];
    const deadline = Date.now() + 60_000;
    while ((pids = measuringChildren()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(pids).toHaveLength(1);
    controller.abort();
    const error = await measuring;
    expect(error).toBeInstanceOf(BenchStopped);
    expect((error as Error).message).toBe('stopped while measuring the session memory');
    expect(processAlive(pids[0]!)).toBe(false);
  }, 90_000);

  it('is not started once the benchmark is stopped', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(sessionMemory(join(dir, 'none.onnx'), [], 1, false, controller.signal)).rejects.toBeInstanceOf(BenchStopped);
    expect(measuringChildren()).toEqual([]);
  });
});
