/**
 * A standalone `compress bench` and the machine's stage board: the timing lock keeps out other benchmarks only, so
 * bench records the sweep points it ran beside (their compression, training or evaluation) and says its speed-ups
 * may be off; and a sweep's benchmark running meanwhile records the standalone bench as company.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TIMING_LOCK_ENV } from '../../src/bench/timing-lock.ts';
import { StageTracker } from '../../src/sweep/contention.ts';
import { writeTinyBert } from '../helpers/models.ts';

const CLI = resolve(__dirname, '../../bin/compress.mjs');
const dir = mkdtempSync(join(tmpdir(), 'bench-board-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const model = writeTinyBert({ numLayers: 1 }, { seed: 3 });
const lock = join(dir, 'timing.lock');
const board = `${lock}.stages`; // machineStageBoard() under $BERT_COMPRESS_TIMING_LOCK

function bench(...flags: string[]) {
  return spawnSync(process.execPath, [CLI, 'bench', model.path, '--batch', '1', '--seq', '8', '--repeats', '2', '--warmup', '0', '--threads', '1', ...flags], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, [TIMING_LOCK_ENV]: lock },
  });
}

describe('compress bench beside a sweep on the same machine', () => {
  it('records and shows the points that trained meanwhile; a sweep benchmarking meanwhile records it', () => {
    const sweep = new StageTracker({ board }); // another runner of points: a sweep in this process
    sweep.set(0, 'train', 'tiny · kd');
    sweep.set(1, 'bench', 'tiny · ffn');
    try {
      const r = bench();
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(
        `warning: timed while other work ran on this machine (tiny · kd (train, pid ${process.pid}), tiny · ffn (bench, pid ${process.pid}))`,
      );
      // (no --baseline: no speed-up was measured, so the latencies are what may be off)
      expect(r.stdout).toContain('latencies may be off');
      expect(r.stdout).not.toContain('speed-ups may be off');
      expect(r.stdout).not.toContain('without the machine-wide timing lock'); // it held the lock
      expect(sweep.takeCompany(1)).toEqual([
        'tiny · kd (train)',
        expect.stringMatching(new RegExp(`^compress bench ${model.path.replaceAll('.', '\\.')} \\(bench, pid \\d+\\)$`)),
      ]);

      const json = bench('--json');
      expect(json.status, json.stderr).toBe(0);
      const timing = JSON.parse(json.stdout).timing;
      expect(timing).toMatchObject({ exclusive: false, alongside: [`tiny · kd (train, pid ${process.pid})`, `tiny · ffn (bench, pid ${process.pid})`] });
      expect(timing.reason).toBeUndefined();
    } finally {
      sweep.set(0, null, 'tiny · kd');
      sweep.set(1, null, 'tiny · ffn');
    }
  });

  it('alone: exclusive, no warning, and leaves nothing on the board', () => {
    const r = bench('--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).timing).toEqual({ exclusive: true, waitedSeconds: expect.any(Number) });
    expect(readdirSync(board)).toEqual([]);
  });
});
