/**
 * A store that is an empty database (a file of 0 bytes) read (compress report, a dry run) is refused in one line suggesting the command that makes it
 * one, its path as one word a shell takes (shellWord, as every suggested command writes a path), where the whole
 * command stood in one pair of quotes and a path holding a quote broke them ('… --store /tmp/it's/s.sqlite').
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmptyStoreError, SweepStore } from '../../src/sweep/store.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-empty-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('an empty database given as a store', () => {
  it.each([
    ['plain', (p: string) => p],
    ["it's $HOME", (p: string) => `'${p.replace(/'/g, "'\\''")}'`],
  ])('suggests the sweep that makes it a store, its path in a folder %j as a shell takes it', (folder, shown) => {
    mkdirSync(join(root, folder));
    const path = join(root, folder, 's.sqlite');
    writeFileSync(path, '');
    expect(() => SweepStore.open(path, { readonly: true })).toThrow(EmptyStoreError);
    expect(() => SweepStore.open(path, { readonly: true })).toThrow(
      `${path}: an empty database, not a sweep store (run compress sweep FILE --store ${shown(path)} first)`,
    );
  });
});
