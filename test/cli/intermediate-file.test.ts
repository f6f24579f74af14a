/**
 * --intermediate FILE that is no valid matches file is refused in one line naming it, in the parser's words without
 * the code frame it prints (parseYamlText's one line), as a sweep file is.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readIntermediate } from '../../src/cli/commands/distill.ts';
import { refusal } from '../helpers/refusal.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-intermediate-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('--intermediate FILE not valid YAML', () => {
  it('is refused in one line naming the file and what the parser found', () => {
    for (const [name, text, why] of [
      // (only what the parser cannot read is not valid YAML: a second document or a tag it does not resolve is refused as
      // such, where each was called 'not JSON or YAML')
      ['flow.yaml', 'a: [1\n', 'not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1'],
      ['two.yaml', 'a: 1\n---\nb: 2\n', "a second document at line 2, column 1: the file holds one (a '---' or '...' line ends the first)"],
      [
        'tag.yaml',
        'a: !!timestamp 2001-12-14\n',
        "Unresolved tag: tag:yaml.org,2002:timestamp at line 1, column 4 (bert-compress reads YAML 1.2's core schema, no other tags or directives)",
      ],
    ] as const) {
      const file = join(root, name);
      writeFileSync(file, text);
      expect(refusal(() => readIntermediate(file))).toBe(`${file}: ${why}`);
    }
  });
});
