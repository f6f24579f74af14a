/**
 * `compress eval --split test --submission DIR` killed (SIGKILL, out of memory) while it writes the task files leaves
 * their temporaries (`SST-2.tsv.<pid>.<random>.tmp`) in DIR, which a folder zipped for the GLUE server would carry. The
 * next submission written there removes what the dead writer left of its own files (as a report's or a model
 * folder's side files are), and keeps a live writer's and other files' temporaries.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSubmission } from '../../src/eval/submission.ts';
import { RTE, SST2 } from '../../src/glue/tasks.ts';

const dir = mkdtempSync(join(tmpdir(), 'submission-temporaries-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a submission written again after a run killed while writing it', () => {
  it('removes the dead writer’s temporaries of its task files, keeps a live one’s and another file’s', () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!; // (exited: no process has that pid now)
    const hourAgo = new Date(Date.now() - 3_600_000);
    const left = (name: string, pid: number) => {
      writeFileSync(join(dir, `${name}.${pid}.k1ll3d00.tmp`), 'index\tprediction\n0\t');
      utimesSync(join(dir, `${name}.${pid}.k1ll3d00.tmp`), hourAgo, hourAgo);
      return `${name}.${pid}.k1ll3d00.tmp`;
    };
    left('SST-2.tsv', dead);
    left('RTE.tsv', dead);
    const live = left('SST-2.tsv', process.pid); // (this process's own: a writer still running)
    const other = left('notes.txt', dead); // (not a file the submission writes)
    writeSubmission(dir, [
      { task: SST2, ids: ['0', '1'], predictions: [1, 0] },
      { task: RTE, ids: ['0'], predictions: [0] },
    ]);
    expect(readdirSync(dir).sort()).toEqual(['RTE.tsv', 'SST-2.tsv', other, live].sort());
    expect(readFileSync(join(dir, 'SST-2.tsv'), 'utf8')).toBe('index\tprediction\n0\t1\n1\t0\n');
  });
});
