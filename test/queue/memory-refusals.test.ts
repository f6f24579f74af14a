/**
 * A point's record of the workers that gave it back for memory (PointJob.tooLarge) keeps the reason of the machine with
 * the most memory, which its failure names: a smaller machine's later refusal says less of what the point needs.
 */
import { describe, expect, it } from 'vitest';
import { addMemoryRefusal, memoryRefusalLabel } from '../../src/queue/job.ts';

const GB = 2 ** 30;

describe("a point's memory refusals", () => {
  it("keep the largest machine's reason whichever refuses last, the last of equal ones, and replace one of unknown memory (an older worker's)", () => {
    const first = addMemoryRefusal(undefined, 'big:1:aaaaaa', 'more than 64 GB', 64 * GB);
    expect(first).toEqual({ workers: ['big:1:aaaaaa'], error: 'more than 64 GB', memory: 64 * GB, retakes: 0 });
    const smaller = addMemoryRefusal({ ...first, retakes: 2 }, 'small:1:bbbbbb', 'more than 8 GB', 8 * GB);
    expect(smaller).toEqual({ workers: ['big:1:aaaaaa', 'small:1:bbbbbb'], error: 'more than 64 GB', memory: 64 * GB, retakes: 2 });
    expect(addMemoryRefusal(smaller, 'huge:1:cccccc', 'more than 128 GB', 128 * GB)).toMatchObject({ error: 'more than 128 GB', memory: 128 * GB });
    expect(addMemoryRefusal(smaller, 'big:2:dddddd', 'more than 64 GB, again', 64 * GB)).toMatchObject({ error: 'more than 64 GB, again' });
    expect(addMemoryRefusal({ workers: ['old:1:eeeeee'], error: 'older', retakes: 0 }, 'small:1:bbbbbb', 'more than 8 GB', 8 * GB)).toEqual({
      workers: ['old:1:eeeeee', 'small:1:bbbbbb'],
      error: 'more than 8 GB',
      memory: 8 * GB,
      retakes: 0,
    });
    // (a worker refusing again is one worker)
    expect(addMemoryRefusal(first, 'big:1:aaaaaa', 'more than 64 GB', 64 * GB).workers).toEqual(['big:1:aaaaaa']);
  });

  it('are named as the last refusal of one worker and as the one with the most memory of several', () => {
    expect([memoryRefusalLabel(1), memoryRefusalLabel(2)]).toEqual(['the last', 'the one with the most memory']);
  });
});
