/**
 * The memory one onnxruntime session of a model adds, measured in a fresh child process per model: in one process
 * the first session opened would also pay onnxruntime's one-time costs (its environment, the code of the kernels it
 * runs), and a later one could reuse memory another left, so the same file measured twice read 34 and 12 MB. The
 * child opens a tiny BERT first (the runtime's start-up), then the model, runs it once on every benchmark input, and
 * reports how much its resident memory grew.
 */
import { fork } from 'node:child_process';
import { errorMessage } from '../errors.ts';
import { childEntry } from '../processes.ts';
import type { Feeds } from '../runtime/session.ts';

/** What the parent sends: the model, the feeds of every shape (as plain typed arrays) and the session settings. */
export interface SessionMemoryRequest {
  path: string;
  feeds: Array<Record<string, { type: string; data: ArrayLike<unknown>; dims: readonly number[] }>>;
  threads: number;
  spinning: boolean;
}

export type SessionMemoryReply = { ok: true; sessionRssBytes: number } | { ok: false; error: string };

const CHILD = childEntry(import.meta.url, 'session-memory-main');

/** The resident memory a session of the model at `path` adds once opened and run on each of `feeds` (bytes). */
export function sessionMemory(path: string, feeds: readonly Feeds[], threads: number, spinning: boolean): Promise<number> {
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
    let reply: SessionMemoryReply | undefined;
    child.on('message', (m: SessionMemoryReply) => {
      reply = m;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (reply?.ok) resolve(reply.sessionRssBytes);
      else reject(new Error(`measuring the session memory of ${path}: ${reply && !reply.ok ? reply.error : `the process exited with ${code}`}`));
    });
    child.send(request, (e) => {
      if (e) reject(new Error(`measuring the session memory of ${path}: ${errorMessage(e)}`));
    });
  });
}
