/**
 * scripts/make-unicode-scripts.ts: tokenizers' scripts.rs read into a compact table, and the checked-in
 * src/eval/unicode-scripts-table.ts as it writes it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeRanges, parseScriptsRs, renderScriptsTable } from '../../scripts/make-unicode-scripts.ts';
import { SCRIPT_NAMES, SCRIPT_RANGES } from '../../src/eval/unicode-scripts-table.ts';
import { decodeRanges } from '../../src/eval/unicode-scripts.ts';

/** A scripts.rs of tokenizers' shape, of a few arms, out of order, two of which join. */
const SCRIPTS_RS = `
#[derive(PartialEq, Debug, Clone, Copy, Eq)]
pub enum Script {
    Any,
    Common,
    Latin,
    Han,
}

pub fn get_script(c: char) -> Script {
    match c as u32 {
        0x0041..=0x005A => Script::Latin,
        0x0000..=0x001F => Script::Common,
        0x0020 => Script::Common,
        0x0061..=0x007A => Script::Latin,
        0x4E00..=0x9FD5 => Script::Han,
        _ => Script::Any,
    }
}

#[cfg(test)]
mod tests {}
`;

describe('parseScriptsRs', () => {
  it("reads the enum's names in order and get_script's arms in code point order, joining a range that ends next to one of its script", () => {
    expect(parseScriptsRs(SCRIPTS_RS)).toEqual({
      names: ['Any', 'Common', 'Latin', 'Han'],
      ranges: [
        [0x00, 0x20, 1],
        [0x41, 0x5a, 2],
        [0x61, 0x7a, 2],
        [0x4e00, 0x9fd5, 3],
      ],
    });
  });

  it('throws on an arm of a script the enum lacks, on arms that overlap, and on a file of no get_script', () => {
    expect(() => parseScriptsRs(SCRIPTS_RS.replace('Script::Han,\n        _', 'Script::Greek,\n        _'))).toThrow('Script::Greek, which the enum lacks');
    expect(() => parseScriptsRs(SCRIPTS_RS.replace('0x0020 =>', '0x001F =>'))).toThrow("get_script's arms overlap at 0x1F");
    expect(() => parseScriptsRs('fn main() {}')).toThrow('no `pub enum Script` or `pub fn get_script`');
  });
});

describe('the encoded ranges', () => {
  it('decode (src/eval/unicode-scripts.ts decodeRanges) to the ranges encoded', () => {
    const { ranges } = parseScriptsRs(SCRIPTS_RS);
    expect(decodeRanges(encodeRanges(ranges))).toEqual(ranges);
  });
});

describe('src/eval/unicode-scripts-table.ts', () => {
  it('is what the script writes of its own table (ranges in order, of scripts its names hold)', () => {
    const file = fileURLToPath(new URL('../../src/eval/unicode-scripts-table.ts', import.meta.url));
    const text = readFileSync(file, 'utf8');
    const sha256 = /\(sha256\n \* ([0-9a-f]{64})\)/.exec(text)?.[1];
    expect(sha256).toBeDefined();
    const ranges = decodeRanges(SCRIPT_RANGES);
    expect(renderScriptsTable({ names: [...SCRIPT_NAMES], ranges }, sha256!)).toBe(text);
    expect(SCRIPT_NAMES[0]).toBe('Any');
    for (const [i, [first, last, script]] of ranges.entries()) {
      expect(first <= last && (i === 0 || first > ranges[i - 1]![1])).toBe(true);
      expect(script > 0 && script < SCRIPT_NAMES.length).toBe(true);
    }
  });
});
