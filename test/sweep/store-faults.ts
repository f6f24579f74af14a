/**
 * Stores that stop taking writes, for tests: the SQLite connection of an open SweepStore is made to refuse every
 * write (INSERT, UPDATE, DELETE) from now on, as a full disk, an I/O error or a store made read-only does, instead
 * of mounting a small file system. The refusal comes from below the store (its statements' `run`), so the store's
 * own handling of SQLite errors is what a test sees.
 */
import Database from 'better-sqlite3';
import { vi } from 'vitest';
import { SweepStore } from '../../src/sweep/store.ts';

/** The SQLite connection of an open store (a private field). */
function connectionOf(store: SweepStore): Database.Database {
  return (store as unknown as { db: Database.Database }).db;
}

/**
 * From now on, every write of `store` fails with the SQLite error `code` (SQLITE_FULL: 'database or disk is full'
 * by default), rolled back by its transaction as SQLite rolls back a write it could not make.
 */
export function failWrites(store: SweepStore, code = 'SQLITE_FULL', message = 'database or disk is full'): void {
  const db = connectionOf(store);
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const stmt = prepare(sql);
    if (/^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i.test(sql)) {
      stmt.run = () => {
        throw new Database.SqliteError(message, code);
      };
    }
    return stmt;
  }) as typeof db.prepare;
}

/** From now on, SQLite itself refuses every write of `store` (SQLITE_READONLY: the connection made query-only). */
export function refuseWrites(store: SweepStore): void {
  connectionOf(store).pragma('query_only = 1');
}

/**
 * The stores opened for writing (SweepStore.open) from now on, in order, each passed to `onOpen` once open;
 * `restore` stops watching.
 */
export function watchStores(onOpen?: (store: SweepStore) => void): { stores: SweepStore[]; restore(): void } {
  const stores: SweepStore[] = [];
  const open = SweepStore.open.bind(SweepStore);
  const spy = vi.spyOn(SweepStore, 'open').mockImplementation((path, opts) => {
    const store = open(path, opts);
    if (!opts?.readonly) {
      stores.push(store);
      onOpen?.(store);
    }
    return store;
  });
  return { stores, restore: () => spy.mockRestore() };
}
