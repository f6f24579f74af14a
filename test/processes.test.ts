/** processStartTime / processStillRunning: a process told from a later one given the same pid (Linux /proc). */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { processStartTime, processStillRunning } from '../src/processes.ts';

const hasProc = processStartTime(process.pid) !== undefined;

describe.runIf(hasProc)('processStartTime', () => {
  it('reads the start time after the command name, also one holding spaces and parentheses', async () => {
    const child = spawn(
      process.execPath,
      ['-e', `process.stdin.once('data', () => { process.title = 'x) (y z'; console.log('renamed'); }); setTimeout(() => {}, 20000);`],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    try {
      await once(child, 'spawn');
      const start = processStartTime(child.pid!);
      expect(start).toMatch(/^\d+$/);
      child.stdin!.write('go\n');
      await once(child.stdout!, 'data');
      expect(processStartTime(child.pid!)).toBe(start);
    } finally {
      child.kill();
    }
  });

  it('says a pid now held by another process than the one that started then is not still running', () => {
    const start = processStartTime(process.ppid)!;
    expect(processStillRunning(process.ppid, start)).toBe(true);
    expect(processStillRunning(process.ppid, String(BigInt(start) + 1n))).toBe(false);
    expect(processStillRunning(process.ppid, undefined)).toBe(true);
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    expect(processStartTime(dead)).toBeUndefined();
    expect(processStillRunning(dead, start)).toBe(false);
  });
});
