import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgressBar } from '../../src/eval/progress.ts';
import { SST2 } from '../../src/glue/tasks.ts';

/** A stream that looks like a terminal (or not) and keeps what is written. */
function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const s = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  Object.assign(s, { isTTY, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  s.on('data', (c: Buffer) => chunks.push(c.toString()));
  return { stream: s, text: () => chunks.join('') };
}

describe('progress bar', () => {
  it('stays quiet when stderr is not a terminal', () => {
    expect(createProgressBar(fakeStream(false).stream)).toBeNull();
  });

  it('draws task, count and throughput on a terminal', async () => {
    const { stream, text } = fakeStream(true);
    const bar = createProgressBar(stream)!;
    bar.listener({ task: SST2, done: 0, total: 10 });
    await new Promise((r) => setTimeout(r, 5));
    bar.listener({ task: SST2, done: 10, total: 10 });
    bar.stop();
    await new Promise((r) => setImmediate(r));
    expect(text()).toMatch(/SST-2 .*10\/10 \| \d+ ex\/s/);
  });
});
