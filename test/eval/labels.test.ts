import { describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { anotherTasksLabels, ignoredLabelsNote, isGenericLabel, mapModelLabels } from '../../src/eval/labels.ts';
import { AX, COLA, MNLI_M, QNLI, SST2, STSB } from '../../src/glue/tasks.ts';

const id2label = (...names: string[]) => new Map(names.map((n, i) => [i, n]));

describe('mapModelLabels', () => {
  it('keeps Hugging Face MNLI order (entailment, neutral, contradiction)', () => {
    expect(mapModelLabels(MNLI_M, id2label('entailment', 'neutral', 'contradiction'), 3)).toEqual({ outputToLabel: [0, 1, 2], from: 'id2label' });
  });

  it('maps the other MNLI order (contradiction, entailment, neutral) by name, case-insensitively', () => {
    const m = mapModelLabels(MNLI_M, id2label('CONTRADICTION', 'Entailment', 'neutral'), 3);
    expect(m.outputToLabel).toEqual([2, 0, 1]);
    // An AX model is an MNLI model: same mapping.
    expect(mapModelLabels(AX, id2label('contradiction', 'entailment', 'neutral'), 3).outputToLabel).toEqual([2, 0, 1]);
  });

  it('tolerates spelling of separators (not-entailment, not entailment)', () => {
    expect(mapModelLabels(QNLI, id2label('not entailment', 'entailment'), 2).outputToLabel).toEqual([1, 0]);
    expect(mapModelLabels(QNLI, id2label('Not-Entailment', 'Entailment'), 2).outputToLabel).toEqual([1, 0]);
  });

  it('assumes the canonical order for generic names or no id2label', () => {
    expect(mapModelLabels(SST2, id2label('LABEL_0', 'LABEL_1'), 2)).toEqual({ outputToLabel: [0, 1], from: 'canonical' });
    expect(mapModelLabels(MNLI_M, null, 3).from).toBe('canonical');
    expect(isGenericLabel('label-2')).toBe(true);
    expect(isGenericLabel('7')).toBe(true);
    expect(isGenericLabel('positive')).toBe(false);
  });

  it('reads a generic name LABEL_k as the task label k, whichever output it names', () => {
    expect(mapModelLabels(SST2, id2label('LABEL_1', 'LABEL_0'), 2)).toEqual({ outputToLabel: [1, 0], from: 'canonical' });
    expect(mapModelLabels(MNLI_M, id2label('label-2', 'LABEL_0', '1'), 3).outputToLabel).toEqual([2, 0, 1]);
    // a name beside generic ones: each by what it says
    expect(mapModelLabels(SST2, id2label('positive', 'LABEL_0'), 2)).toEqual({ outputToLabel: [1, 0], from: 'id2label' });
    expect(mapModelLabels(SST2, id2label('negative', 'LABEL_1'), 2).outputToLabel).toEqual([0, 1]);
  });

  it('refuses generic names numbered ambiguously (one number twice, a number beyond the labels)', () => {
    expect(() => mapModelLabels(SST2, id2label('LABEL_1', 'LABEL_1'), 2)).toThrow(
      /^config\.json id2label \{0: LABEL_1, 1: LABEL_1\} numbers SST-2's 2 labels ambiguously: generic names \(LABEL_k: the task's label k of negative, positive\) must be LABEL_0 to LABEL_1, each once; fix id2label or name the classes$/,
    );
    expect(() => mapModelLabels(SST2, id2label('LABEL_0', 'LABEL_2'), 2)).toThrow(/numbers SST-2's 2 labels ambiguously/);
    expect(() => mapModelLabels(SST2, new Map([[0, 'LABEL_1']]), 2)).toThrow(/\{0: LABEL_1, 1: \(missing\)\} numbers SST-2's 2 labels ambiguously/);
    expect(() => mapModelLabels(SST2, id2label('positive', 'LABEL_1'), 2)).toThrow(/does not name SST-2's labels/);
    expect(() => mapModelLabels(SST2, id2label('negative', 'LABEL_5'), 2)).toThrow(/does not name SST-2's labels/);
  });

  it('needs one output for a regression task', () => {
    expect(mapModelLabels(STSB, id2label('0'), 1).outputToLabel).toEqual([0]);
    expect(() => mapModelLabels(STSB, null, 2)).toThrow(/STS-B is a regression task: the model must have 1 output, it has 2/);
  });

  it('refuses a model with the wrong number of outputs', () => {
    expect(() => mapModelLabels(MNLI_M, id2label('negative', 'positive'), 2)).toThrow(SettingsError);
    expect(() => mapModelLabels(SST2, null, 3)).toThrow(/SST-2 has 2 labels \(negative, positive\) but the model has 3 outputs/);
    expect(() => mapModelLabels(AX, null, 2)).toThrow(/AX needs an MNLI model/);
  });

  it("refuses another GLUE task's label names, and names that contradict the task's order", () => {
    expect(() => mapModelLabels(SST2, id2label('entailment', 'neutral'), 2)).toThrow(/id2label \{0: entailment, 1: neutral\} does not name SST-2's labels/);
    expect(() => mapModelLabels(SST2, id2label('not_duplicate', 'duplicate'), 2)).toThrow(/does not name SST-2's labels/);
    expect(() => mapModelLabels(SST2, id2label('Entailment', 'good'), 2)).toThrow(/does not name SST-2's labels/);
    expect(() => mapModelLabels(SST2, id2label('positive', 'positive'), 2)).toThrow(SettingsError);
    // a task label or LABEL_k on another output than its own: the names say another order than the canonical one
    expect(() => mapModelLabels(SST2, id2label('good', 'negative'), 2)).toThrow(/id2label \{0: good, 1: negative\} does not name SST-2's labels/);
    expect(() => mapModelLabels(SST2, id2label('LABEL_1', 'good'), 2)).toThrow(/does not name SST-2's labels/);
    expect(() => mapModelLabels(SST2, id2label('bad', 'LABEL_7'), 2)).toThrow(/does not name SST-2's labels/);
    expect(() => mapModelLabels(SST2, new Map([[1, 'good']]), 2)).toThrow(/\{0: \(missing\), 1: good\} does not name SST-2's labels/);
  });

  it("names every GLUE task whose labels a classifier of another task has: an RTE model's are QNLI's and WNLI's too", () => {
    expect(anotherTasksLabels(SST2, id2label('not_duplicate', 'duplicate'), 2)).toBe("QQP's");
    // (QNLI, RTE: entailment, not_entailment; WNLI: not_entailment, entailment, read by name in either order)
    expect(anotherTasksLabels(SST2, id2label('entailment', 'not_entailment'), 2)).toBe("QNLI's, RTE's and WNLI's");
    expect(anotherTasksLabels(SST2, id2label('not_entailment', 'entailment'), 2)).toBe("QNLI's, RTE's and WNLI's");
    // the task's own labels, and names of no task, are no other task's
    expect(anotherTasksLabels(QNLI, id2label('entailment', 'not_entailment'), 2)).toBeUndefined();
    expect(anotherTasksLabels(SST2, id2label('bad', 'good'), 2)).toBeUndefined();
  });

  it("reads names nobody knows in the task's canonical order, as transformers' run_glue ignores them, and says which", () => {
    expect(mapModelLabels(SST2, id2label('bad', 'good'), 2)).toEqual({ outputToLabel: [0, 1], from: 'canonical', ignored: ['bad', 'good'] });
    expect(mapModelLabels(SST2, id2label('NEG', 'POS'), 2)).toEqual({ outputToLabel: [0, 1], from: 'canonical', ignored: ['NEG', 'POS'] });
    // (a known name or LABEL_k where the canonical order has it)
    expect(mapModelLabels(SST2, id2label('Negative', 'good'), 2)).toEqual({ outputToLabel: [0, 1], from: 'canonical', ignored: ['good'] });
    expect(mapModelLabels(SST2, id2label('LABEL_0', 'good'), 2)).toEqual({ outputToLabel: [0, 1], from: 'canonical', ignored: ['good'] });
    expect(mapModelLabels(MNLI_M, id2label('yes', 'maybe', 'no'), 3)).toEqual({ outputToLabel: [0, 1, 2], from: 'canonical', ignored: ['yes', 'maybe', 'no'] });
    // the task's own names, generic names and no names ignore nothing
    expect(mapModelLabels(SST2, id2label('POSITIVE', 'NEGATIVE'), 2).ignored).toBeUndefined();
    expect(mapModelLabels(SST2, id2label('LABEL_0', 'LABEL_1'), 2).ignored).toBeUndefined();
    expect(ignoredLabelsNote([SST2], 'm/config.json', ['bad', 'good'])).toBe(
      "SST-2: m/config.json's id2label names bad, good, not SST-2's labels, so the model's 2 outputs are read in GLUE's order negative, positive, as transformers' run_glue ignores labels that do not match the task's; if the scores are near chance, name the classes in id2label",
    );
    expect(ignoredLabelsNote([SST2, COLA], 'config.json', ['bad', 'good'])).toMatch(
      /^SST-2, CoLA: config\.json's id2label names bad, good, not their labels, so the model's 2 outputs are read in GLUE's order of each \(SST-2: negative, positive; CoLA: unacceptable, acceptable\), as /,
    );
  });
});
