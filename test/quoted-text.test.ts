/**
 * Every message quotes text one way, as a shell takes it (quotedText, src/errors.ts), since refusals suggest commands
 * to type: a refused value (valueText, typedValueText) and a word of a suggested command (shellWord) alike.
 */
import { describe, expect, it } from 'vitest';
import { readIntermediate } from '../src/cli/commands/distill.ts';
import { quotedText, typedValueText, valueText } from '../src/errors.ts';
import { shellWord } from '../src/shell-word.ts';
import { runMain } from './helpers/cli.ts';
import { refusal } from './helpers/refusal.ts';

describe('one quoting of text', () => {
  it("writes a quote within a refused value as a shell takes it ('it'\\''s'), where valueText showed 'it's'", () => {
    expect(valueText("it's")).toBe("'it'\\''s'");
    expect(typedValueText("it's")).toBe("'it'\\''s'");
    expect(valueText("'")).toBe("''\\'''");
  });

  it("writes a control character within a refused value in bash's $'…', escaped as oneLine escapes it, where valueText kept plain quotes ('3\\n')", () => {
    expect(valueText('3\nx')).toBe("$'3\\nx'");
    expect(valueText("a'b\t")).toBe("$'a\\'b\\x09'");
    expect(valueText('a\\b\n')).toBe("$'a\\\\b\\n'");
    // (a backslash alone needs no $'…': single quotes keep it as it is)
    expect(valueText('a\\b')).toBe("'a\\b'");
  });

  it('quotes a value as shellWord quotes a word of a command, plain words quoted all the same', () => {
    for (const text of ["it's", '3 ', 'a b', '3\nx', "x'\t", '', 'a\\b']) {
      expect(valueText(text), text).toBe(shellWord(text));
      expect(quotedText(text), text).toBe(shellWord(text));
    }
    expect(valueText('scaled')).toBe("'scaled'");
    expect(shellWord('scaled')).toBe('scaled');
  });

  it("quotes a word the command line refuses by the same rule, where it wrote 'WORD' (an unexpected argument, after '--' too; an empty value; --intermediate neither preset nor file)", async () => {
    for (const [line, expected] of [
      [['inspect', 'no-such.onnx', "it's"], "unexpected argument 'it'\\''s' (see --help)"],
      [['inspect', 'no-such.onnx', '--', "a'b", 'c'], "unexpected arguments 'a'\\''b', 'c' after '--'"],
      [['train', 'no-such.onnx', '--task', 'sst2', '-o', '\t'], "-o/--output $'\\x09': an empty value"],
    ] as const) {
      const r = await runMain([...line]);
      expect([line.join(' '), r.code], line.join(' ')).toEqual([line.join(' '), 2]);
      expect(r.stderr, line.join(' ')).toContain(`compress: ${expected}`);
    }
    expect(refusal(() => readIntermediate("no-such-'matches'.yaml"))).toBe(
      "--intermediate 'no-such-'\\''matches'\\''.yaml': expected one of tinybert, pkd-skip, pkd-last, or a JSON or YAML file of matches (no such file)",
    );
  });
});
