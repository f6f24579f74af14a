/**
 * The one reader of Hugging Face JSON files (utf8Json): eval's model folder files (readJsonObject) and the checkpoint
 * build's config.json (readHuggingFaceConfig) refuse the same text in the same words, in one line, placing the fault
 * as an editor shows it (line and column), where one said 'not valid JSON: … in JSON at position 20' and the other
 * cut V8's quote of the text at its first line break.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readHuggingFaceConfig } from '../src/bert/build-hf.ts';
import { DataError } from '../src/errors.ts';
import { readJsonObject } from '../src/eval/model-files.ts';
import { jsonSyntaxReason, utf8Json } from '../src/files.ts';

const root = mkdtempSync(join(tmpdir(), 'json-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The refusal `read` throws for a config.json holding `text`. */
function refusalOf(read: (file: string) => unknown, name: string, text: string): { file: string; error: unknown } {
  const file = join(root, `${name}.json`);
  writeFileSync(file, text);
  try {
    read(file);
  } catch (error) {
    return { file, error };
  }
  throw new Error(`${name}: not refused`);
}

describe('a JSON file that is not JSON', () => {
  it.each([
    // (a missing comma: V8 gives 'in JSON at position 13', counted from the start of the text)
    ['missing-comma', '{\n  "a": 1\n  "b": 2\n}\n', "not valid JSON (Expected ',' or '}' after property value at line 3, column 3)"],
    // (counted without a byte-order mark, as an editor shows the text)
    ['bom', '\ufeff{\n  "a": 1,\n}\n', 'not valid JSON (Expected double-quoted property name at line 3, column 1)'],
    ['truncated', '{"a": ', 'not valid JSON (Unexpected end of JSON input)'],
    // (text after the JSON, such as a second object pasted below the first: V8 gives 'after JSON at position 11')
    ['text-after', '{\n  "a": 1\n}\n{\n  "b": 2\n}\n', 'not valid JSON (Unexpected non-whitespace character after JSON at line 4, column 1)'],
    // (V8's quote of the text around the token kept, its line breaks escaped, without its own 'is not valid JSON')
    ['token', '{\n  "a": x\n}', 'not valid JSON (Unexpected token \'x\', "{\\n  "a": x\\n}")'],
    // (a byte-order mark past the leading one, which the reader skips, named: V8 quotes it as itself, which no terminal
    // shows, 'Unexpected token '\ufeff', "{…}"'; one inside a string is text)
    ['second-bom', '\ufeff{\n  "a": "\ufeff",\n  "b": \ufeff1\n}', 'not valid JSON (Unexpected byte-order mark (U+FEFF) at line 3, column 8)'],
  ])('%s: is refused alike by eval and by the checkpoint build, in one line', (name, text, words) => {
    const byEval = refusalOf(readJsonObject, `eval-${name}`, text);
    const byBuild = refusalOf(readHuggingFaceConfig, `build-${name}`, text);
    for (const { file, error } of [byEval, byBuild]) {
      expect(error).toBeInstanceOf(DataError);
      expect((error as Error).message).toBe(`${file}: ${words}`);
    }
  });

  it('is refused by the error the caller makes of the reason, with the text kept where it is JSON', () => {
    expect(utf8Json(Buffer.from('\ufeff{"a": [1]}'), 'f.json')).toEqual({ json: { a: [1] }, text: '\ufeff{"a": [1]}' });
    expect(() => utf8Json(Buffer.from('[1,]'), 'f.json', (reason) => new RangeError(`index f.json: ${reason}`))).toThrow(
      new RangeError('index f.json: Unexpected token \']\', "[1,]"'),
    );
    // (a message of another form, as another engine may word it, kept whole in one line)
    expect(jsonSyntaxReason(new SyntaxError('JSON.parse: unexpected character\nat line 1'), 'x')).toBe('JSON.parse: unexpected character\\nat line 1');
  });
});
