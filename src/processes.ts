/** Whether a process on this machine is still running, for locks and claims that hold a pid. */

/** True while process `pid` exists (also when it belongs to another user: EPERM). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
