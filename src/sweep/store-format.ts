/**
 * Telling a sweep store from any other file before touching it. A store is a SQLite database whose header holds
 * the project's `application_id` and which has a `store_format` table with its format version. A new (empty) file
 * becomes a store; a store written before these marks existed (exactly the `points` and `results` tables) is marked
 * when opened for writing; anything else (another program's database, a garbage, truncated or damaged file, a
 * newer format, a store whose tables were dropped) is refused with one line, and nothing is written to it.
 */
import type Database from 'better-sqlite3';
import { plural, UserError } from '../errors.ts';

/** 'BCSW' (bert-compress sweep), in the SQLite header's application_id field. */
export const STORE_APPLICATION_ID = 0x42435357;

/** The store format this code reads and writes. */
export const STORE_FORMAT_VERSION = 1;

/** The tables of a store (besides `store_format`), and those added since that a store may lack. */
const STORE_TABLES = ['points', 'results'];
const LATER_TABLES = ['sweep_points', 'sweep_dropped'];

/** What an opened database is. */
export type StoreIdentity = 'store' | 'empty' | 'unmarked-store';

/** A one-line UserError for an SQLite error on the store at `path` (garbage, truncated, locked, read-only…). */
export function storeError(path: string, e: unknown): UserError {
  const code = (e as { code?: string }).code ?? '';
  const message = e instanceof Error ? e.message : String(e);
  const why: Record<string, string> = {
    SQLITE_NOTADB: 'not a SQLite database',
    SQLITE_CORRUPT: 'a damaged or truncated SQLite file',
    SQLITE_CANTOPEN: 'cannot be opened (is its folder writable?)',
    SQLITE_READONLY: 'is read-only',
    SQLITE_BUSY: 'is locked by another process',
    SQLITE_FULL: 'the disk is full',
    SQLITE_IOERR: 'input/output error',
    SQLITE_PERM: 'permission denied',
  };
  const known = Object.keys(why).find((k) => code === k || code.startsWith(`${k}_`));
  return new UserError(`${path}: ${known ? why[known] : 'cannot use it as a sweep store'} (${message}); not a usable sweep store`, { cause: e });
}

/** Tables of the database, sorted (sqlite_* internal tables left out). */
function userTables(db: Database.Database): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>).map(
    (r) => r.name,
  );
}

/**
 * What the database at `path` is; throws a one-line UserError when it is not a sweep store (see the module
 * comment), one that is another program's database saying to give another `named` (how the caller named the store:
 * a sweep's '--store'; 'store' for compress report's STORE, loadReport's `store`). Reads only, in one read
 * transaction: another sweep creating the store at the same moment marks it and creates its tables in one
 * transaction, and separate reads could see its mark missing and its tables there.
 */
export function identifyStore(db: Database.Database, path: string, named = 'store'): StoreIdentity {
  return db.transaction(() => identifyInSnapshot(db, path, named))();
}

function identifyInSnapshot(db: Database.Database, path: string, named: string): StoreIdentity {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const tables = userTables(db);
  if (appId === STORE_APPLICATION_ID) {
    if (!tables.includes('store_format')) throw new UserError(`${path}: a sweep store without its format table; not a usable sweep store`);
    const row = db.prepare('SELECT version FROM store_format').get() as { version?: number } | undefined;
    const version = row?.version;
    if (typeof version !== 'number') throw new UserError(`${path}: a sweep store without a format version; not a usable sweep store`);
    if (version > STORE_FORMAT_VERSION) {
      throw new UserError(`${path}: a sweep store of format ${version}, written by a newer bert-compress (this one reads format ${STORE_FORMAT_VERSION})`);
    }
    // (a store is marked in the transaction that creates its tables: one without them was damaged or edited)
    const missing = STORE_TABLES.filter((t) => !tables.includes(t));
    if (missing.length > 0) {
      throw new UserError(
        `${path}: a sweep store without its ${missing.join(' and ')} ${plural(missing.length, 'table')} (damaged or edited); not a usable sweep store`,
      );
    }
    return 'store';
  }
  if (appId !== 0) {
    throw new UserError(
      `${path}: a SQLite database of another program (application_id 0x${(appId >>> 0).toString(16)}), not a sweep store; give another ${named}`,
    );
  }
  if (tables.length === 0) return 'empty';
  const storeTables = STORE_TABLES.every((t) => tables.includes(t)) && tables.every((t) => STORE_TABLES.includes(t) || LATER_TABLES.includes(t));
  if (storeTables && hasStoreColumns(db)) return 'unmarked-store';
  throw new UserError(`${path}: a SQLite database that is not a sweep store (its tables: ${tables.join(', ')}); give another ${named}`);
}

/** The names of the columns of `table` (none for a table the database lacks). */
export function tableColumns(db: Database.Database, table: string): Set<string> {
  return new Set((db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name));
}

/** Whether `points` and `results` have the columns a store's have (a store written before the format marks). */
function hasStoreColumns(db: Database.Database): boolean {
  const points = tableColumns(db, 'points');
  const results = tableColumns(db, 'results');
  return ['key', 'sweep', 'model', 'status', 'point'].every((c) => points.has(c)) && ['key', 'result', 'finished_at'].every((c) => results.has(c));
}

/** Marks a new or unmarked store as a store: the application_id and the format table (run in a write transaction). */
export function markStore(db: Database.Database): void {
  db.pragma(`application_id = ${STORE_APPLICATION_ID}`);
  db.exec('CREATE TABLE IF NOT EXISTS store_format (version INTEGER NOT NULL)');
  db.prepare('DELETE FROM store_format').run();
  db.prepare('INSERT INTO store_format (version) VALUES (?)').run(STORE_FORMAT_VERSION);
}
