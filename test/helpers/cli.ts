/**
 * The CLI's `main(args)` run in the test's own process, with what it writes to stdout and stderr: what a spawned
 * `bin/compress.mjs` prints, its exit code, without the 3–4 s of CPU a child spends loading the sources through tsx.
 * For tests of what a command does and says; tests of the process itself (signals, its own exit, bytes on its stdout
 * from anything but the command) spawn it. stdout and stderr read as pipes, not terminals, as a spawned child's do;
 * `env` sets variables for the run and `cwd` its current folder (vitest's forks pool lets a test change it), both
 * restored after.
 */
import { vi } from 'vitest';
import { main } from '../../src/cli/index.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runMain(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
  // yargs prints --help through console.log.
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (stdout += a.join(' ') + '\n'));
  const ttys = [process.stdout, process.stderr].map((s) => [s, Object.getOwnPropertyDescriptor(s, 'isTTY')] as const);
  for (const [s] of ttys) Object.defineProperty(s, 'isTTY', { value: false, configurable: true, writable: true });
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  const home = process.cwd();
  if (cwd) process.chdir(cwd);
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    process.chdir(home);
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    for (const [s, d] of ttys) {
      if (d) Object.defineProperty(s, 'isTTY', d);
      else delete (s as { isTTY?: boolean }).isTTY;
    }
    o.mockRestore();
    e.mockRestore();
    log.mockRestore();
  }
}
