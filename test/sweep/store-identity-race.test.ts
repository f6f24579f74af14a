/**
 * Two sweeps opening one new store at once: one marks it and creates its tables in one transaction while the other
 * identifies it. The identification must read the mark and the tables from one snapshot.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { identifyStore, markStore } from '../../src/sweep/store-format.ts';

describe('identifyStore while another sweep creates the store', () => {
  it('reads the mark and the tables in one snapshot: a store created between the two reads is not refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'store-race-'));
    const path = join(dir, 'shared.sqlite');
    const reader = new Database(path);
    const creator = new Database(path, { timeout: 0 });
    try {
      const pragma = reader.pragma.bind(reader);
      let creation = 'not tried';
      // the other sweep creates the store right after this one has read the application id
      reader.pragma = ((source: string, options?: Database.PragmaOptions) => {
        const value = pragma(source, options);
        if (source === 'application_id') {
          try {
            creator.transaction(() => markStore(creator)).immediate();
            creation = 'committed';
          } catch (e) {
            creation = (e as { code?: string }).code ?? String(e);
          }
        }
        return value;
      }) as typeof reader.pragma;
      expect(identifyStore(reader, path)).toBe('empty');
      // (the creator waits for the read to end: it may not commit a store the reader is halfway through reading)
      expect(creation).toBe('SQLITE_BUSY');
      reader.pragma = pragma;
      // once the read has ended, the creation goes through
      expect(() => creator.transaction(() => markStore(creator)).immediate()).not.toThrow();
    } finally {
      reader.close();
      creator.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
