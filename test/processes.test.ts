/**
 * processStartTime / processStillRunning: a process told from a later one given the same pid (Linux /proc).
 * sendToParent: a child that sends once its parent has gone (a sweep worker on a second Ctrl-C) does not crash.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
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

/**
 * Runs a child with an IPC channel that, once its parent disconnects, sends three messages with `send` (an
 * expression of `sendToParent` and `message`), then prints 'alive' and exits 0; its exit code and output.
 */
async function sendAfterDisconnect(send: string): Promise<{ code: number | null; out: string }> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const processes = pathToFileURL(new URL('../src/processes.ts', import.meta.url).pathname).href;
  const code = `const { sendToParent } = await import(${JSON.stringify(processes)});
process.on('disconnect', () => {
  for (let i = 0; i < 3; i++) { const message = { type: 'log', i }; ${send}; }
  setTimeout(() => { console.log('alive'); process.exit(0); }, 300);
});
process.send('ready');`;
  const child = spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await once(child, 'message');
  child.disconnect();
  const [exitCode] = (await once(child, 'exit')) as [number | null];
  return { code: exitCode, out };
}

describe('sendToParent', () => {
  it('drops a message sent after the parent went away, where process.send without a callback crashes the child', async () => {
    const plain = await sendAfterDisconnect('process.send?.(message)');
    expect(plain.code).not.toBe(0);
    expect(plain.out).toMatch(/ERR_IPC_CHANNEL_CLOSED|EPIPE/);
    expect(await sendAfterDisconnect('sendToParent(message)')).toEqual({ code: 0, out: 'alive\n' });
  });
});
