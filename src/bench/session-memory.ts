/**
 * The memory one onnxruntime session of a model adds, measured in a fresh child process per model: in one process
 * the first session opened would also pay onnxruntime's one-time costs (its environment, the code of the kernels it
 * runs), and a later one could reuse memory another left, so the same file measured twice read 34 and 12 MB. The
 * child opens a tiny BERT first (the runtime's start-up; kept open, so that the model's session cannot reuse its
 * pages), then the model, runs it once on every benchmark input, and reports how much its resident memory grew.
 */
import { fork } from 'node:child_process';
import { errorMessage } from '../errors.ts';
import { childEntry } from '../processes.ts';
import type { Feeds } from '../runtime/session.ts';
import { BenchStopped } from './timing-lock.ts';

/** What the parent sends: the model, the feeds of every shape (as plain typed arrays) and the session settings. */
export interface SessionMemoryRequest {
  path: string;
  feeds: Array<Record<string, { type: string; data: ArrayLike<unknown>; dims: readonly number[] }>>;
  threads: number;
  spinning: boolean;
}

/** What a session of the model holds (see MemoryUse). */
export interface SessionMemory {
  sessionRssBytes: number;
  mappedWeightBytes: number;
  mappedResidentBytes: number;
}

export type SessionMemoryReply = ({ ok: true } & SessionMemory) | { ok: false; error: string };

const CHILD = childEntry(import.meta.url, 'session-memory-main');

const STOPPED = 'stopped while measuring the session memory';

/**
 * The resident memory a session of the model at `path` adds once opened and run on each of `feeds` (bytes), and the
 * weights it keeps memory-mapped from the model's folder (counted in that RSS only as far as touched).
 * Aborting `signal` (Ctrl-C, SIGTERM) ends the measuring process and throws BenchStopped once it has exited.
 */
export function sessionMemory(path: string, feeds: readonly Feeds[], threads: number, spinning: boolean, signal?: AbortSignal): Promise<SessionMemory> {
  if (signal?.aborted) return Promise.reject(new BenchStopped(STOPPED));
  const request: SessionMemoryRequest = {
    path,
    feeds: feeds.map((f) =>
      Object.fromEntries(Object.entries(f).map(([name, t]) => [name, { type: t.type, data: t.data as ArrayLike<unknown>, dims: t.dims }])),
    ),
    threads,
    spinning,
  };
  return new Promise((resolve, reject) => {
    const child = fork(CHILD.path, [], { execArgv: CHILD.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    // (a Ctrl-C in the terminal reaches the child too; a SIGTERM sent to this process alone does not)
    const stop = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', stop, { once: true });
    let reply: SessionMemoryReply | undefined;
    child.on('message', (m: SessionMemoryReply) => {
      reply = m;
    });
    child.on('error', reject);
    child.on('exit', (code, killedBy) => {
      signal?.removeEventListener('abort', stop);
      if (reply?.ok) {
        const { ok: _, ...memory } = reply;
        resolve(memory);
      } else if (signal?.aborted) reject(new BenchStopped(STOPPED));
      else reject(new Error(`measuring the session memory of ${path}: ${reply && !reply.ok ? reply.error : `the process exited with ${code ?? killedBy}`}`));
    });
    child.send(request, (e) => {
      if (e && !signal?.aborted) reject(new Error(`measuring the session memory of ${path}: ${errorMessage(e)}`));
    });
  });
}
