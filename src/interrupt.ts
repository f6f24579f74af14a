/**
 * Clean-ups that must run when the process is stopped by Ctrl-C (SIGINT) or SIGTERM, such as removing a staging
 * folder holding a half-written model. While at least one is registered, a handler for both signals is installed;
 * when it is the only handler of the signal, it runs the clean-ups and re-raises the signal, so the process still
 * ends as killed by it (exit status 130 or 143 in a shell). A command with its own handler (training stops after
 * its step) keeps its behaviour: the clean-ups then run from its own `finally` blocks as it ends.
 */

const cleanups = new Set<() => void>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return; // another handler decides what the signal means
  runCleanups();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.kill(process.pid, signal);
}

/** Runs and forgets every registered clean-up, the latest first (as nested `finally` blocks would); one that throws does not stop the others. */
function runCleanups(): void {
  for (const fn of [...cleanups].reverse()) {
    cleanups.delete(fn);
    try {
      fn();
    } catch {
      // best effort: the process is ending
    }
  }
}

/** Registers `fn` to run if the process is interrupted; returns the function that unregisters it. */
export function onInterrupt(fn: () => void): () => void {
  if (cleanups.size === 0) for (const s of SIGNALS) process.on(s, onSignal);
  cleanups.add(fn);
  return () => {
    cleanups.delete(fn);
    if (cleanups.size === 0) for (const s of SIGNALS) process.removeListener(s, onSignal);
  };
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects: the caller checks `signal.aborted`). */
export function pauseUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
