/**
 * src/interrupt.ts with a real signal: one that comes while JavaScript runs waits in the event loop, so a clean-up
 * unregistered in those synchronous moments (a command's last: its output in place, its staging folder forgotten)
 * must not take the handler with it before the signal is delivered, or the process ends as if it never came (exit 0
 * after a Ctrl-C). The handler's re-raise, which would end the process, is caught.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { onInterrupt, pauseUnlessAborted } from '../src/interrupt.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a signal in the last synchronous moments before the last clean-up unregisters', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s still ends the process by that signal, and the handler goes after', async (signal) => {
    expect(process.listenerCount(signal)).toBe(0);
    const ran: string[] = [];
    const forget = onInterrupt(() => ran.push('clean-up'));
    process.kill(process.pid, signal); // (the real signal, caught by the handler: it waits while this code runs on)
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    forget(); // (the command's work done, its last clean-up no longer needed)
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(kill).toHaveBeenCalledWith(process.pid, signal);
    expect(ran).toEqual([]);
    expect(process.listenerCount(signal)).toBe(0);
  });

  it('stops listening once the loop has polled again when no signal came', async () => {
    const forget = onInterrupt(() => {});
    forget();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(process.listenerCount('SIGINT')).toBe(0);
    expect(process.listenerCount('SIGTERM')).toBe(0);
  });
});

describe('pauseUnlessAborted', () => {
  it('resolves at once for a signal aborted before the pause (its abort event already came), as for one aborted during it', async () => {
    const late = new AbortController();
    const timeout = (ms: number) => new Promise<string>((resolve) => setTimeout(() => resolve('waited'), ms));
    const during = pauseUnlessAborted(60_000, late.signal).then(() => 'resolved');
    late.abort();
    expect(await Promise.race([during, timeout(1_000)])).toBe('resolved');
    expect(await Promise.race([pauseUnlessAborted(60_000, AbortSignal.abort()).then(() => 'resolved'), timeout(1_000)])).toBe('resolved');
  });
});
