import { describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { parseBilstmSpec } from '../../src/train/students/bilstm-config.ts';
import { parseBertSpec } from '../../src/train/students/index.ts';

/** The one-line refusal `parse` gives `spec`. */
function refusal(parse: (spec: string) => unknown, spec: string): string {
  try {
    parse(spec);
  } catch (e) {
    expect(e).toBeInstanceOf(SettingsError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error(`${spec} was accepted`);
}

describe('student specs (bert:…, bilstm:…): one grammar, one wording', () => {
  it('reads the same settings alike in both kinds, spaces and case aside', () => {
    expect(parseBertSpec('bert:layers=1,hidden=32')).toEqual({ layers: 1, hidden: 32 });
    expect(parseBertSpec('bert: Layers = 2 ,heads=1')).toEqual({ layers: 2, heads: 1 });
    expect(parseBertSpec('bert:')).toEqual({});
    expect(parseBilstmSpec('bilstm: Hidden = 8 ,mlp=4')).toEqual({ hiddenSize: 8, mlpSize: 4 });
  });

  it.each([
    [
      parseBertSpec,
      'bert:layers=1,',
      "student 'bert:layers=1,': an empty setting (a stray comma): expected bert:layers=L,hidden=H,heads=A,intermediate=I (each optional)",
    ],
    [
      parseBertSpec,
      'bert:,layers=1',
      "student 'bert:,layers=1': an empty setting (a stray comma): expected bert:layers=L,hidden=H,heads=A,intermediate=I (each optional)",
    ],
    [parseBilstmSpec, 'bilstm:hidden=8,', "student 'bilstm:hidden=8,': an empty setting (a stray comma): expected bilstm:hidden=H[,embedding=E][,mlp=M]"],
    [parseBertSpec, 'bert:layers=0', "student 'bert:layers=0': layers 0: expected an integer from 1 to 2^53 − 1"],
    [parseBilstmSpec, 'bilstm:hidden=0', "student 'bilstm:hidden=0': hidden 0: expected an integer from 1 to 2^53 − 1"],
    // (a second '=' is no part of the number)
    [parseBertSpec, 'bert:layers=1=2', "student 'bert:layers=1=2': layers '1=2': expected an integer from 1 to 2^53 − 1"],
    [parseBertSpec, 'bert:depth=2', "student 'bert:depth=2': unknown setting 'depth=2' (expected layers=N, hidden=N, heads=N, intermediate=N)"],
    // (a spec holding a quote quoted as a shell takes it, quotedText, where plain quotes showed 'dep'th=2')
    [parseBertSpec, "bert:dep'th=2", "student 'bert:dep'\\''th=2': unknown setting 'dep'\\''th=2' (expected layers=N, hidden=N, heads=N, intermediate=N)"],
    [parseBilstmSpec, 'bilstm:hidden=8,depth=2', "student 'bilstm:hidden=8,depth=2': unknown setting 'depth=2' (expected hidden=N, embedding=N, mlp=N)"],
    [
      parseBertSpec,
      'bert:constructor=2',
      "student 'bert:constructor=2': unknown setting 'constructor=2' (expected layers=N, hidden=N, heads=N, intermediate=N)",
    ],
    [parseBertSpec, 'bert:layers=1,layers=2', "student 'bert:layers=1,layers=2': 'layers' given twice"],
    [parseBilstmSpec, 'bilstm:hidden=8,hidden=9', "student 'bilstm:hidden=8,hidden=9': 'hidden' given twice"],
  ])('refuses %#: %s', (parse, spec, message) => {
    expect(refusal(parse as (spec: string) => unknown, spec)).toBe(message);
  });
});
