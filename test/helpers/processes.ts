/** The processes a test started, as `ps` sees them. */
import { spawnSync } from 'node:child_process';

/** The pids of the child processes of `pid`; only those whose command line contains `args`, when given. */
export function childPids(pid: number, args?: string): number[] {
  const ps = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' });
  return ps.stdout
    .split('\n')
    .filter((l) => args === undefined || l.includes(args))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
    .filter((n) => n > 0);
}
