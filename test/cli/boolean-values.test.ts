/** Boolean flags given a value (`--json=yes`): taken as written, anything else refused in one line. */
import { describe, expect, it } from 'vitest';
import { applyBooleanValues } from '../../src/cli/boolean-values.ts';
import { SettingsError } from '../../src/errors.ts';
import { describePass } from '../../src/pass/describe.ts';
import { PASS_DECLARATIONS } from '../../src/pass-declarations.ts';

const OPTIONS = { boolean: ['quantize-embeddings', 'json'], alias: { json: ['j'] } };

function apply(...argv: string[]): Record<string, unknown> {
  const args: Record<string, unknown> = { 'quantize-embeddings': false, quantizeEmbeddings: false, json: false, j: false };
  applyBooleanValues(args, OPTIONS, argv);
  return args;
}

describe('boolean flag values', () => {
  it.each([
    ['yes', true],
    ['1', true],
    ['true', true],
    ['YES', true],
    ['no', false],
    ['0', false],
    ['false', false],
  ])('--quantize-embeddings=%s is %s (kebab and camel-case keys)', (value, expected) => {
    const args = apply(`--quantize-embeddings=${value}`);
    expect(args['quantize-embeddings']).toBe(expected);
    expect(args.quantizeEmbeddings).toBe(expected);
  });

  it('--no-flag=yes negates, aliases are set too, and words after -- are not flags', () => {
    expect(apply('--no-json=yes').json).toBe(false);
    expect(apply('--no-json=no')).toMatchObject({ json: true, j: true });
    expect(apply('--', '--json=maybe').json).toBe(false);
  });

  it.each(['maybe', '', '2', 'y'])('--quantize-embeddings=%j is refused in one line', (value) => {
    expect(() => apply(`--quantize-embeddings=${value}`)).toThrow(SettingsError);
    expect(() => apply(`--quantize-embeddings=${value}`)).toThrow(/^--quantize-embeddings=.*: expected yes, true or 1, or no, false or 0$/);
  });

  it("--per-tensor's help gives its own default (off: per-channel), not its setting's", () => {
    const flag = PASS_DECLARATIONS.flatMap((d) => describePass(d).flags).find((f) => f.flag === '--per-tensor')!;
    expect(flag.help).toMatch(/\[default false, i\.e\. perChannel true\]$/);
  });
});
