/**
 * A full disk for tests, inside a `vi.mock('node:fs', …)` factory: `fullDiskFs(fs, full)` gives `writeFileSync` and
 * `writeSync` that fail with ENOSPC while `full.under` is set (writing a file under that path, or to any open file).
 * `full` is the test's `vi.hoisted` state; the factory imports this module with `await import`.
 */
import type * as Fs from 'node:fs';

export function fullDiskFs(fs: typeof Fs, full: { under: string | undefined }): Pick<typeof Fs, 'writeFileSync' | 'writeSync'> {
  const enospc = (what: string) =>
    Object.assign(new Error(`ENOSPC: no space left on device, write '${what}'`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  const writeFileSync = ((path: Parameters<typeof fs.writeFileSync>[0], ...rest: unknown[]) => {
    if (full.under !== undefined && String(path).startsWith(full.under)) throw enospc(String(path));
    return (fs.writeFileSync as (...a: unknown[]) => void)(path, ...rest);
  }) as typeof fs.writeFileSync;
  const writeSync = ((fd: number, ...rest: unknown[]) => {
    if (full.under !== undefined) throw enospc(`fd ${fd}`);
    return (fs.writeSync as (...a: unknown[]) => number)(fd, ...rest);
  }) as typeof fs.writeSync;
  return { writeFileSync, writeSync };
}
