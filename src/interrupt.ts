/**
 * Clean-ups that must run when the process is stopped by Ctrl-C (SIGINT) or SIGTERM, such as removing a staging
 * folder holding a half-written model. While at least one is registered, a handler for both signals is installed;
 * when it is the only handler of the signal, it runs the clean-ups and re-raises the signal, so the process still
 * ends as killed by it (exit status 130 or 143 in a shell). A command with its own handler (training stops after
 * its step) keeps its behaviour: the clean-ups then run from its own `finally` blocks as it ends.
 *
 * A signal that comes while JavaScript runs waits in the event loop until its next poll for I/O. Removing the last
 * listener before then would drop it (Node closes the signal's handle, and libuv skips what a closing handle had
 * pending): a Ctrl-C in a command's last synchronous moments, before its last clean-up unregisters, would end the
 * process as if never pressed (exit 0). So the handler stays until the loop has polled once more.
 */

const cleanups = new Set<() => void>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
let listening = false;

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return; // another handler decides what the signal means
  runCleanups();
  stopListening();
  process.kill(process.pid, signal);
}

function stopListening(): void {
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  listening = false;
}

/**
 * Stops listening once the event loop has polled again, unless a clean-up was registered meanwhile. Two turns: the
 * first immediate may run before the next poll (when scheduled from an I/O callback), the second runs after it.
 * (Referenced: a loop left with nothing else to do still polls before the process ends.)
 */
function stopListeningAfterPoll(): void {
  setImmediate(() =>
    setImmediate(() => {
      if (listening && cleanups.size === 0) stopListening();
    }),
  );
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
  if (!listening) for (const s of SIGNALS) process.on(s, onSignal);
  listening = true;
  cleanups.add(fn);
  return () => {
    if (cleanups.delete(fn) && cleanups.size === 0) stopListeningAfterPoll();
  };
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects: the caller checks `signal.aborted`). */
export function pauseUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // (a signal aborted before the pause, as while a coordinator's look at its points ran: no 'abort' event comes again)
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
