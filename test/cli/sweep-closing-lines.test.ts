/**
 * A sweep's closing lines count its points as the other lines do (`1 point run now timed contended`): one point is
 * "1 point", where they said "1 points: 1 already in the store, …" and "1 points are still queued"; a queued sweep's refusals say "the 1 point finished so far".
 */
import { describe, expect, it } from 'vitest';
import { contendedLine, followCommand, localTotalLine, queuedLeftLines, queuedTotalLine } from '../../src/cli/commands/sweep.ts';
import { noneQueuedLine, unreachableLine } from '../../src/queue/coordinator.ts';
import type { SweepPoint } from '../../src/sweep/plan.ts';

const none = { kept: [], recomputed: [], again: [], first: [] };
const point = {} as SweepPoint;

describe("a sweep's closing lines", () => {
  it('say 1 point, and N points otherwise', () => {
    const one = { total: 1, alreadyDone: 1, ran: 0, byOthers: 0, failed: [], seconds: 0.5 };
    expect(localTotalLine({ ...one, contended: none })).toBe('1 point: 1 already in the store, 0 run now, 0 failed (0.5 s)');
    expect(localTotalLine({ ...one, total: 3, contended: none })).toBe('3 points: 1 already in the store, 0 run now, 0 failed (0.5 s)');
    expect(queuedTotalLine({ ...one, letGo: 0 })).toBe('1 point: 1 already in the store, 0 collected from the queue now, 0 failed (0.5 s)');
    expect(queuedTotalLine({ ...one, total: 2, letGo: 0 })).toBe('2 points: 1 already in the store, 0 collected from the queue now, 0 failed (0.5 s)');
  });

  it("of a queued sweep stopped while collecting: 1 point is still queued ('collect it'), 1 point was not queued ('queue it'), where one point was 'them'", () => {
    expect(queuedLeftLines({ left: 1, notQueued: [point] }, 'AGAIN')).toEqual([
      'stopped: 1 point is still queued and the workers go on; collect it with: AGAIN',
      '1 point was not queued: run without --follow to queue it',
    ]);
    expect(queuedLeftLines({ left: 2, notQueued: [point, point] }, 'AGAIN')).toEqual([
      'stopped: 2 points are still queued and the workers go on; collect them with: AGAIN',
      '2 points were not queued: run without --follow to queue them',
    ]);
    expect(queuedLeftLines({ left: 0, notQueued: [] }, 'AGAIN')).toEqual([]);
  });

  it("of points timed contended: how to time one alone ('it'), or two ('them'), where one was 'them'", () => {
    const named = (label: string) => ({ model: { name: 'm' }, label }) as SweepPoint;
    const none = { kept: [], recomputed: [], again: [], first: [] };
    expect(contendedLine({ ...none, kept: [named('a')] })).toMatch(/: m · a; rerun with --jobs 1 --rerun-contended, nothing else running, to time it alone$/);
    expect(contendedLine({ ...none, first: [named('a')] })).toMatch(/, to time it alone$/);
    expect(contendedLine({ ...none, kept: [named('a')], first: [named('b')] })).toMatch(/, to time them alone$/);
    expect(contendedLine({ ...none, kept: [named('a'), named('b')] })).toMatch(/, to time them alone$/);
  });

  it("of a queued sweep stopped while Redis was out of reach: its points were queued there, and the command that collects them or queues them again, where it said they were still queued and gave --follow's", () => {
    expect(queuedLeftLines({ left: 2, notQueued: [], unreachable: 'ECONNREFUSED' }, 'AGAIN --follow', 'AGAIN')).toEqual([
      'stopped with Redis out of reach (ECONNREFUSED): 2 points queued there are not collected (still queued unless Redis restarts without its data); once it answers, go on with: AGAIN',
    ]);
    expect(queuedLeftLines({ left: 1, notQueued: [], unreachable: 'ECONNREFUSED' }, 'AGAIN --follow', 'AGAIN')[0]).toMatch(
      /: 1 point queued there is not collected /,
    );
    // a --follow run goes on following (the command without --follow would queue afresh the points that had failed,
    // where the user only meant to collect; --follow says those Redis lost as not queued)
    expect(queuedLeftLines({ left: 2, notQueued: [], unreachable: 'ECONNREFUSED' }, 'AGAIN --follow', 'AGAIN', true)).toEqual([
      'stopped with Redis out of reach (ECONNREFUSED): 2 points queued there are not collected (still queued unless Redis restarts without its data); once it answers, go on with: AGAIN --follow',
    ]);
    expect(followCommand('s.yaml', 'redis://h:6379/0', 'out/s.sqlite', false)).toBe('compress sweep s.yaml --queue redis://h:6379/0 --store out/s.sqlite');
  });

  it('give the command that collects the points still queued as a shell takes each word, where a blank in a path split it', () => {
    expect(followCommand('my sweep.yaml', 'redis://h:6379/0', '/tmp/a b/s.sqlite')).toBe(
      "compress sweep 'my sweep.yaml' --queue redis://h:6379/0 --store '/tmp/a b/s.sqlite' --follow",
    );
    expect(followCommand('s.yaml', 'redis://h:6379/0', 'out/s.sqlite')).toBe('compress sweep s.yaml --queue redis://h:6379/0 --store out/s.sqlite --follow');
  });

  it("of a queued sweep refused (Redis gone, nothing to follow): the 1 point finished so far, the 1 point not queued, where they said '1 points'", () => {
    expect(unreachableLine('redis://h:6379/0', 60, 'ECONNREFUSED', 1)).toBe(
      'redis://h:6379/0: no answer for 60 s (ECONNREFUSED); the store keeps the 1 point finished so far: run the same command again to go on',
    );
    expect(unreachableLine('redis://h:6379/0', 60, 'ECONNREFUSED', 0)).toContain('the store keeps the 0 points finished so far');
    expect(noneQueuedLine('redis://h:6379/0', 'uneven', 1)).toBe(
      "redis://h:6379/0: the 1 point of sweep 'uneven' still to do is not queued there: run without --follow to queue it",
    );
    expect(noneQueuedLine('redis://h:6379/0', 'uneven', 2)).toBe(
      "redis://h:6379/0: none of the 2 points of sweep 'uneven' still to do is queued there: run without --follow to queue them",
    );
  });
});
