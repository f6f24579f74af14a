import { describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { editDistance, getTask, lookupTasks, resolveTasks, suggestTaskNames } from '../../src/glue/registry.ts';

const names = (ts: readonly { name: string }[]) => ts.map((t) => t.name);

describe('task registry', () => {
  it('matches names case-insensitively and ignoring - and _', () => {
    expect(getTask('sst-2').name).toBe('SST-2');
    expect(getTask('SST2').name).toBe('SST-2');
    expect(getTask('sts_b').name).toBe('STS-B');
    expect(getTask('cola').name).toBe('CoLA');
    expect(getTask('Mnli-MM').name).toBe('MNLI-mm');
    expect(getTask('mnli_matched').name).toBe('MNLI-m');
    expect(getTask('diagnostic').name).toBe('AX');
  });

  it('expands MNLI to both halves', () => {
    expect(names(lookupTasks('mnli'))).toEqual(['MNLI-m', 'MNLI-mm']);
    expect(() => getTask('MNLI')).toThrow(/names MNLI-m and MNLI-mm/);
  });

  it('resolves all: every task with the split, AX only for test', () => {
    expect(names(resolveTasks('all', 'dev'))).toEqual(['CoLA', 'SST-2', 'MRPC', 'STS-B', 'QQP', 'MNLI-m', 'MNLI-mm', 'QNLI', 'RTE', 'WNLI']);
    expect(names(resolveTasks(['all'], 'test'))).toContain('AX');
  });

  it('accepts comma-separated lists, in registry order without duplicates', () => {
    expect(names(resolveTasks(['rte,sst2', 'SST-2', 'mnli'], 'dev'))).toEqual(['SST-2', 'MNLI-m', 'MNLI-mm', 'RTE']);
  });

  it('refuses a named task without the split', () => {
    expect(() => resolveTasks(['AX'], 'dev')).toThrow(/task AX has no dev split \(it has: test\)/);
  });

  it('suggests close names for an unknown task', () => {
    expect(() => getTask('sst3')).toThrow(SettingsError);
    expect(() => getTask('sst3')).toThrow(/unknown task 'sst3'\. Did you mean 'SST-2'\?/);
    expect(suggestTaskNames('QNLII')).toEqual(['QNLI']);
    expect(suggestTaskNames('mnl')[0]).toBe('MNLI');
    expect(suggestTaskNames('stsbenchmark')).toContain('STS-B');
    expect(() => getTask('imdb')).toThrow(/unknown task 'imdb'\. Known tasks: CoLA, SST-2/);
  });

  it('computes edit distances', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('rte', 'rte')).toBe(0);
  });
});
