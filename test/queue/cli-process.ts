/** `compress` as a child process for the queue tests: its output as it comes, waits for a line, its exit. */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const CLI = resolve('bin/compress.mjs');

export interface CliProcess {
  readonly child: ChildProcess;
  /** stdout and stderr so far, interleaved as they came. */
  output(): string;
  /** Resolves with the first match of `re` in the output after character `from` (default 0), within `ms`. */
  waitFor(re: RegExp, opts?: { from?: number; ms?: number }): Promise<RegExpMatchArray>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function compress(args: string[]): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    text += d.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('close', (code, signal) => res({ code, signal })));
  let done = false;
  void exited.then(() => {
    done = true;
    for (const w of [...waiters]) w();
  });
  return {
    child,
    output: () => text,
    exited,
    waitFor(re, opts = {}) {
      const from = opts.from ?? 0;
      const ms = opts.ms ?? 60_000;
      return new Promise((res, reject) => {
        const timer = setTimeout(() => finish(new Error(`no ${re} within ${ms} ms in the output of compress ${args.join(' ')}:\n${text.slice(from)}`)), ms);
        const finish = (e: Error | null, m?: RegExpMatchArray) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (e) reject(e);
          else res(m!);
        };
        const check = () => {
          const m = text.slice(from).match(re);
          if (m) finish(null, m);
          else if (done) finish(new Error(`compress ${args.join(' ')} exited without printing ${re}:\n${text.slice(from)}`));
        };
        waiters.add(check);
        check();
      });
    },
  };
}
