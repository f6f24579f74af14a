/** `compress` as a child process for the queue tests: its output as it comes, waits for a line, its exit. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const CLI = resolve('bin/compress.mjs');

export interface CliProcess {
  readonly child: ChildProcess;
  /** stdout and stderr so far, interleaved as they came. */
  output(): string;
  /** Resolves with the first match of `re` in the output after character `from` (default 0), within `ms`. */
  waitFor(re: RegExp, opts?: { from?: number; ms?: number }): Promise<RegExpMatchArray>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * With `exitProbe`, once exited: what still kept the process's event loop alive as it exited
   * (process.getActiveResourcesInfo() at its 'exit' event), less its stdio pipes: empty for a process that ended of
   * itself, with nothing left to run; its libraries' timers and sockets for one ended by process.exit() before they
   * settled.
   */
  leftAtExit(): string[];
  /**
   * With `exitProbe`, once exited: when it exited (Date.now() at its 'exit' event, by its own clock: the machine's),
   * before the process was torn down and the test saw it end, which a loaded machine can make take seconds more.
   */
  exitedAt(): number;
}

/** What every process holds open to its last moment: its stdio pipes (or terminals) and their pending writes. */
const STDIO_RESOURCES = new Set(['PipeWrap', 'TTYWrap', 'ShutdownWrap', 'SimpleShutdownWrap', 'WriteWrap']);

/**
 * A module preloaded (node --import) that writes, at the process's 'exit', the time and its active resources to
 * $EXIT_PROBE_FILE; in the process started alone, not in those it starts (a worker's pool processes: NODE_OPTIONS
 * loads it there too).
 */
const EXIT_PROBE = `import { writeFileSync } from 'node:fs';
const file = process.env.EXIT_PROBE_FILE;
delete process.env.EXIT_PROBE_FILE;
if (file) process.on('exit', () => writeFileSync(file, JSON.stringify({ at: Date.now(), left: process.getActiveResourcesInfo() })));
`;

/**
 * `compress ARGS` as a child process; `exitProbe`: the process is started with a module that records what was still
 * pending in it as it exited (leftAtExit), with no test hook in the sources.
 */
export function compress(args: string[], opts: { exitProbe?: boolean } = {}): CliProcess {
  let probeFile: string | undefined;
  let env: NodeJS.ProcessEnv = process.env;
  if (opts.exitProbe) {
    const dir = mkdtempSync(join(tmpdir(), 'bc-exit-probe-'));
    const probe = join(dir, 'probe.mjs');
    writeFileSync(probe, EXIT_PROBE);
    probeFile = join(dir, 'left.json');
    env = { ...env, EXIT_PROBE_FILE: probeFile, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(probe).href}`.trim() };
  }
  /** What the exit probe wrote as the process exited. */
  const probed = (what: string): { at: number; left: string[] } => {
    if (!probeFile) throw new Error(`${what}: compress was started without exitProbe`);
    return JSON.parse(readFileSync(probeFile, 'utf8'));
  };
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
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
    leftAtExit: () => probed('leftAtExit').left.filter((r) => !STDIO_RESOURCES.has(r)),
    exitedAt: () => probed('exitedAt').at,
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
