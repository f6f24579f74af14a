/**
 * The sweep store: a SQLite file (better-sqlite3) that holds every point and its result, keyed by the point's hash.
 *
 * Crash safety and sharing: WAL journal, a busy timeout so two sweeps can write the same file, and each finished
 * point written in one transaction (result row + status). A point is claimed ('running', with pid, the process's
 * start time as a lock file records it (file-lock.ts), host and a heartbeat) before it runs; a claim whose process
 * is gone (or whose pid another process now has, or whose heartbeat is stale) is redone by the next sweep. Results
 * are `INSERT OR IGNORE`d by key, so a point finished by two sweeps at once is stored once.
 *
 * A point is stored once, under the names of the sweep that ran it first; every sweep that plans it records it as
 * one of its own in `sweep_points`, with the names it gives it (its model's name and path, its label). A report of
 * one sweep lists its points by these records: two sweep files naming one model (the same file, or a copy)
 * differently share its baseline, and each sees it under its own name. A sweep whose file was edited gives up the
 * records of the points without a result its plan no longer holds (dropFromSweep); `sweep_dropped` keeps their keys
 * until a coordinator of the sweep has taken them out of the queue (an earlier one may have queued them).
 *
 * A finished point is recomputed only when its benchmark was timed contended and the sweep asks for it
 * (`--rerun-contended`): its claim takes the point while its result stays stored (and reported) until the new one
 * replaces it; a recompute that fails or is stopped leaves the point done with its old result.
 *
 * A write the store cannot make (a full disk, an I/O error, the file made read-only, or locked by another process
 * past the busy timeout) throws a one-line StoreWriteError: SQLite rolled it back, and every point stored before
 * stays; the caller adds what it keeps (`keeping`).
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { checkOutputFile } from '../destination.ts';
import { shellWord } from '../shell-word.ts';
import { counted, FS_REASONS, UserError, errorLine, fsReason } from '../errors.ts';
import { checkOptionKinds, checkOptions, checkStringOption, type OptionKind } from '../library-args.ts';

/** SweepStore.open's options' kinds, checked before the store is opened (a JavaScript caller's readonly 'no' opened it read-only). */
const STORE_OPEN_OPTION_KINDS = { readonly: 'boolean', named: 'string' } as const satisfies Record<string, OptionKind>;
import { THIS_PROCESS, holderText, lockHolderRuns, parseHolder, type LockHolder } from '../file-lock.ts';
import { identifyStore, markStore, storeError, tableColumns } from './store-format.ts';
import { timedContended } from './contention.ts';
import type { PassStep } from '../pass/pass.ts';
import type { SweepPoint } from './plan.ts';
import type { PointResult } from './point.ts';

export type PointStatus = 'running' | 'done' | 'failed';

/**
 * A claim from another host is live while its heartbeat is younger than this (a point's synchronous work can hold
 * off heartbeats for a while); on this host a claim is live while its process exists.
 */
export const HEARTBEAT_STALE_MS = 10 * 60_000;

/** How long a write waits for another process's write to end (SQLITE_BUSY after it). */
const BUSY_TIMEOUT_MS = 30_000;

/**
 * The field of a stored plan that says where the store file was (its absolute path) when the plan was written or its
 * paths last refreshed (refreshPlans): the files the plan names are where they were beside the store then. A store
 * moved or copied since (its folder with it) reads them beside the store where it is now (report relocatedPlan).
 */
export const PLAN_STORE_FILE = 'storeFile';

/** A finished point as the report reads it. */
export interface StoredPoint {
  key: string;
  sweep: string;
  model: string;
  modelPath: string;
  modelSha256: string;
  label: string;
  steps: PassStep[];
  tasks: string[];
  toolVersion: string;
  finishedAt: string;
  result: PointResult;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS points (
  key TEXT PRIMARY KEY,
  sweep TEXT NOT NULL,
  model TEXT NOT NULL,
  model_path TEXT NOT NULL,
  model_sha256 TEXT NOT NULL,
  label TEXT NOT NULL,
  steps TEXT NOT NULL,
  tasks TEXT NOT NULL,
  point TEXT NOT NULL,
  tool_version TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  pid INTEGER,
  host TEXT,
  heartbeat_ms INTEGER,
  holder TEXT,
  claimed_in TEXT,
  started_at TEXT,
  finished_at TEXT,
  error TEXT,
  refused_by TEXT
);
CREATE TABLE IF NOT EXISTS results (
  key TEXT PRIMARY KEY REFERENCES points(key),
  params INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  glue REAL,
  speedup REAL NOT NULL,
  latency_ms REAL NOT NULL,
  result TEXT NOT NULL,
  finished_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sweep_points (
  sweep TEXT NOT NULL,
  key TEXT NOT NULL,
  model TEXT NOT NULL,
  model_path TEXT NOT NULL,
  label TEXT NOT NULL,
  PRIMARY KEY (sweep, key)
);
CREATE TABLE IF NOT EXISTS sweep_dropped (
  sweep TEXT NOT NULL,
  key TEXT NOT NULL,
  PRIMARY KEY (sweep, key)
);
`;

/**
 * The store at `path` read into memory, for reading when no WAL file is beside it (every writer has closed it): a
 * read-only connection to a WAL database on disk creates `-wal` and `-shm` files it cannot remove (left behind on a
 * clean store), and fails ('attempt to write a readonly database') where it may not create them. The copy's header
 * is switched from WAL to rollback mode, which an in-memory database needs. Undefined when a WAL file is there (a
 * sweep is writing, or was killed): then the file is read in place, with its WAL.
 */
function storeSnapshot(path: string): Buffer | undefined {
  let bytes: Buffer;
  try {
    if (existsSync(`${path}-wal`)) {
      accessSync(path, constants.R_OK); // (SQLite would say only 'unable to open database file')
      return undefined;
    }
    bytes = readFileSync(path);
  } catch (e) {
    throw storeReadError(path, e);
  }
  const walHeader = bytes.length >= 100 && bytes.subarray(0, 16).toString('latin1') === 'SQLite format 3\0' && bytes[18] === 2 && bytes[19] === 2;
  if (walHeader) bytes.fill(1, 18, 20);
  return bytes;
}

/**
 * A read of the store at `path` that failed as a one-line UserError: a file the system will not let us read
 * (`PATH: cannot read the store (permission denied)`), an SQLite error (a damaged file, a table or column missing:
 * store-format.ts storeError); anything else as it is.
 */
function storeReadError(path: string, e: unknown): unknown {
  if (e instanceof Database.SqliteError) return storeError(path, e);
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code && code in FS_REASONS) return new UserError(`${path}: cannot read the store (${fsReason(e)})`, { cause: e });
  return e;
}

/**
 * What to run to make the store at `path` (no such file, or an empty database): the command as a shell takes it,
 * the path one word (shellWord: 'my store.sqlite' quoted), as every suggested command is written.
 */
export function sweepFirst(path: string): string {
  return `run compress sweep FILE --store ${shellWord(path)} first`;
}

/** A read of a store that is an empty database (a file of 0 bytes included), which a sweep would make its store. */
export class EmptyStoreError extends UserError {
  constructor(path: string) {
    super(`${path}: an empty database, not a sweep store (${sweepFirst(path)})`);
  }
}

/**
 * Opens the database at `path` as a sweep store: a new file is made one, anything that is not one is refused with
 * one line before anything is written to it (store-format.ts); SQLite errors (garbage file, read-only folder) are
 * one line too, and a store that cannot be written now (a full disk, an I/O error, locked) a StoreWriteError.
 */
function openStoreDatabase(path: string, readonly: boolean, named: string | undefined): Database.Database {
  if (!readonly) checkOutputFile(path, `--store ${path}`);
  let db: Database.Database | undefined;
  try {
    const snapshot = readonly ? storeSnapshot(path) : undefined;
    db = snapshot ? new Database(snapshot, { readonly: true }) : new Database(path, { readonly, fileMustExist: readonly, timeout: BUSY_TIMEOUT_MS });
    const identity = identifyStore(db, path, named);
    if (readonly) {
      if (identity === 'empty') throw new EmptyStoreError(path);
      return db;
    }
    if (db.readonly) throw new UserError(`${path}: the store is read-only`);
    const opened = db;
    if (identity !== 'store') {
      opened
        .transaction(() => {
          if (identifyStore(opened, path, named) !== 'store') markStore(opened);
          opened.exec(SCHEMA);
        })
        .immediate();
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
    addLaterColumns(db);
    return db;
  } catch (e) {
    db?.close();
    if (!(e instanceof Database.SqliteError)) throw e;
    // (a store that cannot be written now, as a full disk, is the store's write error, not an unusable store)
    const fault = readonly ? e : writeError(path, e);
    if (fault instanceof StoreWriteError && /^SQLITE_(FULL|IOERR|BUSY)/.test((e as { code?: string }).code ?? '')) throw fault;
    throw storeError(path, e);
  }
}

/**
 * Gives the `points` table of a store written before claims recorded their process's start time, or the store file
 * they were made in, its `holder` and `claimed_in` columns, and of one written before failures recorded a refusal of
 * the point's input (SweepStore.fail's `refusedBy`) its `refused_by` column (checked again inside the write
 * transaction: two sweeps may open the store at once).
 */
function addLaterColumns(db: Database.Database): void {
  const missing = () => {
    const has = tableColumns(db, 'points');
    return ['holder', 'claimed_in', 'refused_by'].filter((c) => !has.has(c));
  };
  if (missing().length === 0) return;
  db.transaction(() => {
    for (const column of missing()) db.exec(`ALTER TABLE points ADD COLUMN ${column} TEXT`);
  }).immediate();
}

/**
 * SQLite result codes (and their extended codes, `SQLITE_IOERR_WRITE` …) of a store that cannot be written now: a
 * fault of the machine or of another process, not of this code. Any other SQLite error (a constraint, misuse) is a bug.
 */
const WRITE_FAULTS = [
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_READONLY',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CANTOPEN',
  'SQLITE_PERM',
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
];

/** `SQLITE_FULL: database or disk is full`: why SQLite refused a write (`SQLITE_BUSY` with how long it waited). */
function writeFaultWhy(e: Error & { code: string }): string {
  const waited = e.code.startsWith('SQLITE_BUSY') ? `, by another process for over ${BUSY_TIMEOUT_MS / 1000} s` : '';
  return `${e.code}: ${errorLine(e)}${waited}`;
}

/** A write fault of SQLite (WRITE_FAULTS) at `path` as a StoreWriteError; anything else as it is. */
function writeError(path: string, e: unknown): unknown {
  if (!(e instanceof Database.SqliteError)) return e;
  const fault = e as Error & { code: string };
  if (!WRITE_FAULTS.some((c) => fault.code === c || fault.code.startsWith(`${c}_`))) return e;
  return new StoreWriteError(path, writeFaultWhy(fault), { cause: e });
}

/**
 * The store could not take a write (see the module comment): `path: cannot write to the store (SQLITE_FULL:
 * database or disk is full); run the same command again once the store can be written`. `keeping` says what the
 * store keeps, as the caller knows it.
 */
export class StoreWriteError extends UserError {
  override name = 'StoreWriteError';
  constructor(
    readonly path: string,
    /** The SQLite code and message. */
    readonly why: string,
    options?: { cause?: unknown },
    kept?: { points: number; also?: string },
  ) {
    const keeps = kept ? `; it keeps the ${counted(kept.points, 'point')} finished so far${kept.also ? `, ${kept.also}` : ''}:` : ';';
    super(`${path}: cannot write to the store (${why})${keeps} run the same command again once the store can be written`, options);
  }

  /** This error, saying the store keeps `points` finished points (and `also`: what else keeps what). */
  keeping(points: number, also?: string): StoreWriteError {
    return new StoreWriteError(this.path, this.why, { cause: this.cause }, { points, ...(also !== undefined ? { also } : {}) });
  }
}

interface ClaimRow {
  status: PointStatus;
  pid: number | null;
  host: string | null;
  heartbeat_ms: number | null;
  /** The claiming process as a lock file names it (`PID START`, file-lock.ts); null in a claim made by older code. */
  holder: string | null;
  /**
   * The store file the claim was made in (`DEV:INO`); null in a claim made by older code. Another than this store's
   * on this host: the claim was copied with the store from the file its process writes.
   */
  claimed_in: string | null;
}

/**
 * A stored point in a store's one-line refusals: `MODEL · LABEL (sweep NAME, key KEY)` (its first 12 hex digits; the
 * sweep where the row names it), or `point KEY` for a row without its names.
 */
export function storedPointText(p: { key: string; model?: string; label?: string; sweep?: string }): string {
  const key = `key ${p.key.slice(0, 12)}`;
  if (p.model === undefined) return `point ${p.key.slice(0, 12)}`;
  return `${p.model} · ${p.label} (${p.sweep !== undefined ? `sweep ${p.sweep}, ` : ''}${key})`;
}

/**
 * The process that holds a claim: its pid, with its start time when the claim recorded it. A holder naming another
 * pid than the row's was left by an earlier claim (the row claimed since by older code, which does not set it): the
 * pid alone then.
 */
function claimHolder(row: ClaimRow & { pid: number }): LockHolder {
  const recorded = row.holder !== null ? parseHolder(row.holder) : undefined;
  return recorded?.pid === row.pid ? recorded : { pid: row.pid };
}

export class SweepStore {
  private readonly db: Database.Database;
  private readonly host = hostname();
  /** The store file opened for writing, to find it removed or replaced meanwhile (SQLite goes on writing a removed file). */
  private file: { dev: number; ino: number } | undefined;

  /** The store file opened for writing as a claim records it (`DEV:INO`), null for a store opened to read. */
  private fileId(): string | null {
    return this.file ? `${this.file.dev}:${this.file.ino}` : null;
  }

  /** Throws a one-line UserError when the store file is no longer the one opened (removed with its folder, replaced). */
  private checkStillThere(): void {
    if (!this.file) return;
    let st: { dev: number; ino: number } | undefined;
    try {
      st = statSync(this.path);
    } catch {
      st = undefined;
    }
    if (!st || st.dev !== this.file.dev || st.ino !== this.file.ino) {
      throw new UserError(
        `${this.path}: the store was ${st ? 'replaced' : 'removed'} while the sweep ran, so no result can be kept in it: run the same command again to run the points it lacks`,
      );
    }
  }

  private constructor(
    readonly path: string,
    readonly readonly: boolean,
    named: string | undefined,
  ) {
    this.db = openStoreDatabase(path, readonly, named);
    if (!readonly) {
      const st = statSync(path);
      this.file = { dev: st.dev, ino: st.ino };
    }
  }

  /**
   * Runs a read of the store: an SQLite error (a damaged page, a table or column missing from a store edited or
   * written by other code) throws a one-line UserError naming the store (store-format.ts storeError).
   */
  private read<T>(run: () => T): T {
    try {
      return run();
    } catch (e) {
      throw storeReadError(this.path, e);
    }
  }

  /**
   * Runs `run`, reads of the store, in one read transaction: they see the store as of one moment, where separate reads
   * of a store another process writes meanwhile (a running sweep) could see a point neither finished in one and still
   * planned in the next.
   */
  snapshot<T>(run: () => T): T {
    return this.db.transaction(run)();
  }

  /**
   * The JSON text `text` of the point `row` stored, parsed: one that is not JSON (edited, or written by other code)
   * throws a one-line UserError naming the store and the point.
   */
  private parsed<T>(text: string, what: string, row: { key: string; model?: string; label?: string; sweep?: string }): T {
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new UserError(
        `${this.path}: the stored ${what} of ${storedPointText(row)} is not valid JSON (${errorLine(e)}): written by other code or edited; rerun its sweep into a new store`,
        { cause: e },
      );
    }
  }

  /** Runs a write of the store: a write SQLite refuses (a full disk …) throws a one-line StoreWriteError. */
  private write<T>(run: () => T): T {
    try {
      return run();
    } catch (e) {
      throw writeError(this.path, e);
    }
  }

  /**
   * Opens (creating when writable) the store at `path`; `named`: how the caller named it, for the refusal of a database
   * that is not a store ('give another --store'; default 'store': identifyStore).
   */
  static open(path: string, opts: { readonly?: boolean; named?: string } = {}): SweepStore {
    checkStringOption('SweepStore.open', 'path', path, 'the path of a sweep store (.sqlite)');
    checkOptionKinds('SweepStore.open', checkOptions('SweepStore.open', opts, '{readonly, named}'), STORE_OPEN_OPTION_KINDS);
    return new SweepStore(path, opts.readonly ?? false, opts.named);
  }

  /**
   * Whether a claim row belongs to a process other than this one that is still working on it. On this host, the
   * claiming process still runs: its pid, and its start time where recorded (a pid reused by a later process, a
   * long-lived one, holds no claim), in this store file (not one it was copied from while the point ran).
   */
  private liveElsewhere(row: ClaimRow, now: number): boolean {
    if (row.status !== 'running' || row.pid === null || row.heartbeat_ms === null) return false;
    if (row.host === this.host) {
      // (a claim copied with the store, made in the file its process goes on writing, is not of this store)
      if (row.claimed_in !== null && row.claimed_in !== this.fileId()) return false;
      return row.pid !== process.pid && lockHolderRuns(claimHolder({ ...row, pid: row.pid }));
    }
    return now - row.heartbeat_ms <= HEARTBEAT_STALE_MS;
  }

  /** The stored result of `key`, when it has one. */
  private storedResult(key: string): PointResult | undefined {
    const row = this.db.prepare('SELECT result FROM results WHERE key = ?').get(key) as { result: string } | undefined;
    return row ? this.parsed<PointResult>(row.result, 'result', { key }) : undefined;
  }

  /**
   * Claims a point for this process: 'done' if it has a result, 'busy' if another live sweep is running it,
   * else it is marked running here and 'claimed' is returned. With `recompute`, a point whose result was timed
   * contended is claimed too (its result stays until `finish` replaces it): 'done' only when its result is not
   * contended (another sweep recomputed it meanwhile).
   */
  claim(point: SweepPoint, opts: { recompute?: boolean } = {}): 'claimed' | 'done' | 'busy' {
    this.checkStillThere();
    const tx = this.db.transaction((): 'claimed' | 'done' | 'busy' => {
      const now = Date.now();
      const row = this.db.prepare('SELECT status, pid, host, heartbeat_ms, holder, claimed_in FROM points WHERE key = ?').get(point.key) as
        | ClaimRow
        | undefined;
      if (!opts.recompute && row?.status === 'done') return 'done';
      const stored = row ? this.storedResult(point.key) : undefined;
      if (stored && !(opts.recompute && timedContended(stored))) return 'done';
      if (row && this.liveElsewhere(row, now)) return 'busy';
      this.db
        .prepare(
          `INSERT INTO points (key, sweep, model, model_path, model_sha256, label, steps, tasks, point, tool_version, status, pid, host, heartbeat_ms, holder, claimed_in, started_at)
           VALUES (@key, @sweep, @model, @modelPath, @sha, @label, @steps, @tasks, @point, @tool, 'running', @pid, @host, @now, @holder, @claimedIn, @started)
           ON CONFLICT(key) DO UPDATE SET status = 'running', pid = @pid, host = @host, heartbeat_ms = @now, holder = @holder, claimed_in = @claimedIn, started_at = @started, error = NULL, refused_by = NULL
           WHERE points.status <> 'done' OR @recompute = 1`,
        )
        .run({
          key: point.key,
          sweep: point.sweep,
          model: point.model.name,
          modelPath: point.model.onnx,
          sha: point.model.sha256,
          label: point.label,
          steps: JSON.stringify(point.steps),
          tasks: JSON.stringify(point.tasks),
          point: JSON.stringify({ ...point, [PLAN_STORE_FILE]: resolve(this.path) }),
          tool: point.toolVersion,
          pid: process.pid,
          host: this.host,
          holder: holderText(THIS_PROCESS),
          claimedIn: this.fileId(),
          now,
          started: new Date(now).toISOString(),
          recompute: opts.recompute && stored ? 1 : 0,
        });
      return 'claimed';
    });
    return this.write(() => tx.immediate());
  }

  /**
   * Records `points` as points of their sweep, under the names it gives them (see the module comment); a point it
   * already had takes the names it has now.
   */
  addToSweep(points: readonly SweepPoint[]): void {
    this.write(() => {
      const stmt = this.db.prepare(
        'INSERT OR REPLACE INTO sweep_points (sweep, key, model, model_path, label) VALUES (@sweep, @key, @model, @modelPath, @label)',
      );
      this.db
        .transaction(() => {
          for (const p of points) stmt.run({ sweep: p.sweep, key: p.key, model: p.model.name, modelPath: p.model.onnx, label: p.label });
        })
        .immediate();
    });
  }

  /** Refreshes the heartbeat of this process's running points. */
  heartbeat(keys: readonly string[]): void {
    this.write(() => {
      const stmt = this.db.prepare("UPDATE points SET heartbeat_ms = ? WHERE key = ? AND status = 'running' AND pid = ? AND host = ?");
      const now = Date.now();
      this.db.transaction(() => {
        for (const k of keys) stmt.run(now, k, process.pid, this.host);
      })();
    });
  }

  /**
   * Records a finished point: its result row and its status, in one transaction. With `recompute` (a point claimed
   * to be recomputed), the result replaces a stored one timed contended; otherwise a stored result stands.
   */
  finish(point: SweepPoint, result: PointResult, opts: { recompute?: boolean } = {}): void {
    this.checkStillThere();
    const finishedAt = new Date().toISOString();
    const values = [result.params, result.bytes, result.glue, result.speedup, result.latencyMs, JSON.stringify(result), finishedAt];
    const tx = this.db.transaction(() => {
      const added = this.db
        .prepare('INSERT OR IGNORE INTO results (key, params, bytes, glue, speedup, latency_ms, result, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(point.key, ...values);
      if (added.changes === 0 && opts.recompute) {
        const stored = this.storedResult(point.key);
        if (stored && timedContended(stored)) {
          this.db
            .prepare('UPDATE results SET params = ?, bytes = ?, glue = ?, speedup = ?, latency_ms = ?, result = ?, finished_at = ? WHERE key = ?')
            .run(...values, point.key);
        }
      }
      this.db.prepare("UPDATE points SET status = 'done', finished_at = ?, error = NULL WHERE key = ? AND status <> 'done'").run(finishedAt, point.key);
    });
    this.write(() => tx.immediate());
  }

  /**
   * Records a failed point (it is retried by the next sweep); one being recomputed stays done, with its stored result.
   * `refusedBy`: the tool version whose refusal of the point's input files `error` is (a NonFiniteInputError), which every run
   * of that version repeats while the files, hashed in the key, stay as they are: its next sweep fails it again unrun
   * (failures' refusedBy, failedAgain).
   */
  fail(key: string, error: string, refusedBy?: string): void {
    const tx = this.db.transaction(() => {
      if (this.release(key)) return;
      this.db
        .prepare("UPDATE points SET status = 'failed', error = ?, refused_by = ?, finished_at = ? WHERE key = ? AND status <> 'done'")
        .run(error, refusedBy ?? null, new Date().toISOString(), key);
    });
    this.write(() => tx.immediate());
  }

  /**
   * Ends this process's claim of a point being recomputed (stopped, or failed): it is done again, with its stored
   * result. False (nothing changed) for a point without a stored result.
   */
  release(key: string): boolean {
    return this.write(
      () =>
        this.db
          .prepare("UPDATE points SET status = 'done' WHERE key = ? AND status <> 'done' AND EXISTS (SELECT 1 FROM results r WHERE r.key = points.key)")
          .run(key).changes > 0,
    );
  }

  /** The sweeps the store holds points of (run by them, or planned by them under their names), by name. */
  sweeps(): string[] {
    return this.read(() => {
      const members = this.hasTable('sweep_points') ? ' UNION SELECT sweep FROM sweep_points' : '';
      return (this.db.prepare(`SELECT DISTINCT sweep FROM points${members} ORDER BY sweep`).all() as Array<{ sweep: string }>).map((r) => r.sweep);
    });
  }

  /**
   * Failed points with their error, optionally of one sweep: its points (sweep_points), each under the names this
   * sweep gives it, those it shares with other sweeps (run under theirs) included, not those its plan no longer
   * holds (dropFromSweep: no rerun retries them); of a sweep that recorded none (run by older code), those it ran.
   * Of every sweep: those some sweep plans, or that a sweep which recorded none ran, under the names of the sweep
   * that ran them. Each with its key.
   */
  failures(sweep?: string): Array<{ key: string; model: string; label: string; error: string; refusedBy: string | null }> {
    // (a store read read-only as written before failures recorded a refusal: none did)
    const refusedBy = () => (this.hasColumn('points', 'refused_by') ? 'p.refused_by' : 'NULL');
    const sql = () =>
      sweep === undefined
        ? this.hasTable('sweep_points')
          ? `SELECT key, model, label, error, ${refusedBy()} AS refusedBy FROM points p WHERE status = 'failed'
             AND (EXISTS (SELECT 1 FROM sweep_points m WHERE m.key = p.key) OR NOT EXISTS (SELECT 1 FROM sweep_points o WHERE o.sweep = p.sweep))
             ORDER BY model, label`
          : `SELECT key, model, label, error, ${refusedBy()} AS refusedBy FROM points p WHERE status = 'failed' ORDER BY model, label`
        : this.hasTable('sweep_points')
          ? `SELECT p.key, COALESCE(m.model, p.model) AS model, COALESCE(m.label, p.label) AS label, p.error, ${refusedBy()} AS refusedBy FROM points p
             LEFT JOIN sweep_points m ON m.key = p.key AND m.sweep = @sweep
             WHERE p.status = 'failed' AND (m.sweep IS NOT NULL OR (p.sweep = @sweep AND NOT EXISTS (SELECT 1 FROM sweep_points o WHERE o.sweep = @sweep)))
             ORDER BY 2, 3`
          : `SELECT key, model, label, error, ${refusedBy()} AS refusedBy FROM points p WHERE status = 'failed' AND sweep = @sweep ORDER BY model, label`; // a store from before sweep_points
    return this.read(
      () =>
        this.db.prepare(sql()).all(...(sweep !== undefined ? [{ sweep }] : [])) as Array<{
          key: string;
          model: string;
          label: string;
          error: string;
          refusedBy: string | null;
        }>,
    );
  }

  /**
   * Those of `keys` that failed, each with its error and the tool version that refused its input (`refused_by`),
   * whatever sweep plans them now: a point a sweep's plan dropped (dropFromSweep: its file changed) and plans again (the
   * file restored) is the point that failed, as a run, which records the plan first (addToSweep), reads it, and as its
   * dry run, which records none, must read it too (run.ts failedAgain). `plan`: its stored plan (undefined where not
   * JSON), which names where it read its files.
   */
  failed(keys: readonly string[]): Array<{ key: string; error: string; refusedBy: string | null; plan: unknown }> {
    const refusedBy = this.hasColumn('points', 'refused_by') ? 'refused_by' : 'NULL';
    return this.read(() => {
      const get = this.db.prepare(`SELECT key, error, ${refusedBy} AS refusedBy, point FROM points WHERE key = ? AND status = 'failed'`);
      return keys.flatMap((k) => {
        const row = get.get(k) as { key: string; error: string; refusedBy: string | null; point: string } | undefined;
        return row ? [{ key: row.key, error: row.error, refusedBy: row.refusedBy, plan: parsedOrUndefined(row.point) }] : [];
      });
    });
  }

  /**
   * The points a sweep planned (every sweep's, or one's) that have no result and did not fail: not run yet, running, or
   * stopped; by the names their sweep gives them. Empty for a store from before sweeps recorded their points.
   */
  unfinished(sweep?: string): Array<{ sweep: string; model: string; label: string }> {
    if (!this.hasTable('sweep_points')) return [];
    return this.read(
      () =>
        this.db
          .prepare(
            `SELECT m.sweep, m.model, m.label FROM sweep_points m LEFT JOIN results r ON r.key = m.key LEFT JOIN points p ON p.key = m.key
             WHERE r.key IS NULL AND (p.status IS NULL OR p.status <> 'failed') ${sweep !== undefined ? 'AND m.sweep = ?' : ''} ORDER BY m.sweep, m.model, m.label`,
          )
          .all(...(sweep !== undefined ? [sweep] : [])) as Array<{ sweep: string; model: string; label: string }>,
    );
  }

  /**
   * Every finished point in finishing order. Of one sweep: the points it ran and those it shares with other sweeps
   * (stored under theirs), each under the names this sweep gives it.
   */
  finished(sweep?: string): StoredPoint[] {
    const columns = 'p.key, p.sweep, p.model, p.model_path, p.model_sha256, p.label, p.steps, p.tasks, p.tool_version, r.result, r.finished_at';
    const sql = () =>
      sweep === undefined
        ? `SELECT ${columns} FROM results r JOIN points p ON p.key = r.key ORDER BY r.finished_at, p.key`
        : this.hasTable('sweep_points')
          ? `SELECT p.key, @sweep AS sweep, COALESCE(m.model, p.model) AS model, COALESCE(m.model_path, p.model_path) AS model_path, p.model_sha256,
               COALESCE(m.label, p.label) AS label, p.steps, p.tasks, p.tool_version, r.result, r.finished_at
             FROM results r JOIN points p ON p.key = r.key LEFT JOIN sweep_points m ON m.key = r.key AND m.sweep = @sweep
             WHERE p.sweep = @sweep OR m.sweep IS NOT NULL ORDER BY r.finished_at, p.key`
          : `SELECT ${columns} FROM results r JOIN points p ON p.key = r.key WHERE p.sweep = @sweep ORDER BY r.finished_at, p.key`; // a store from before sweep_points
    const rows = this.read(() => this.db.prepare(sql()).all(...(sweep !== undefined ? [{ sweep }] : [])) as Array<Record<string, string>>);
    return rows.map((r) => ({
      key: r.key!,
      sweep: r.sweep!,
      model: r.model!,
      modelPath: r.model_path!,
      modelSha256: r.model_sha256!,
      label: r.label!,
      steps: this.parsed<PassStep[]>(r.steps!, 'steps', r as { key: string }),
      tasks: this.parsed<string[]>(r.tasks!, 'tasks', r as { key: string }),
      toolVersion: r.tool_version!,
      finishedAt: r.finished_at!,
      result: this.parsed<PointResult>(r.result!, 'result', r as { key: string }),
    }));
  }

  /**
   * The planned point (as its sweep stored it, possibly by older code) of every finished point, by key (a point
   * whose recompute was killed, still marked running, included: its result stands); undefined for one whose stored
   * plan is not JSON (edited by hand): no code can compare it.
   */
  finishedPlans(): Map<string, unknown> {
    return this.plans('JOIN results r ON r.key = p.key');
  }

  /**
   * The planned point of every point without a result (running, stopped or killed, failed), by key, as
   * `finishedPlans`.
   */
  unfinishedPlans(): Map<string, unknown> {
    return this.plans('WHERE NOT EXISTS (SELECT 1 FROM results r WHERE r.key = p.key)');
  }

  /** The stored plans of the points `which` (SQL after `FROM points p`) selects, by key, as `finishedPlans`. */
  private plans(which: string): Map<string, unknown> {
    const rows = this.read(() => this.db.prepare(`SELECT p.key, p.point FROM points p ${which}`).all() as Array<{ key: string; point: string }>);
    return new Map(rows.map((r) => [r.key, parsedOrUndefined(r.point)]));
  }

  /**
   * Writes again the stored plan of each of `points` (by key) that `refresh` gives anew (undefined: kept), in one
   * transaction: where a rerun found the files a reused point read and their stamps (plan.ts `refreshedPlan`). Not its key.
   */
  refreshPlans(points: ReadonlyArray<SweepPoint | readonly [string, SweepPoint]>, refresh: (stored: unknown, now: SweepPoint) => unknown): void {
    if (points.length === 0) return;
    const here = resolve(this.path);
    this.write(() => {
      const read = this.db.prepare('SELECT point FROM points WHERE key = ?');
      const update = this.db.prepare('UPDATE points SET point = ? WHERE key = ?');
      this.db
        .transaction(() => {
          for (const entry of points) {
            const [key, p] = Array.isArray(entry) ? (entry as readonly [string, SweepPoint]) : [(entry as SweepPoint).key, entry as SweepPoint];
            const row = read.get(key) as { point: string } | undefined;
            if (!row) continue;
            const stored = parsedOrUndefined(row.point);
            let plan = refresh(stored, p);
            // (the plan's paths are now where this run read its files, beside the store where it is now)
            const base = plan ?? stored;
            if (base && typeof base === 'object' && (base as Record<string, unknown>)[PLAN_STORE_FILE] !== here)
              plan = { ...(base as Record<string, unknown>), [PLAN_STORE_FILE]: here };
            if (plan !== undefined) update.run(JSON.stringify(plan), key);
          }
        })
        .immediate();
    });
  }

  /**
   * The keys `sweep` planned in earlier runs that its plan now (`planned`) no longer holds (its file edited, a model
   * changed) and that no other sweep of the store planned: those a queued sweep's coordinator takes out of the queue.
   * They are its points' records, and the keys dropped from them (dropFromSweep) that no coordinator has taken out
   * of the queue since (dropped by a local run, or by a coordinator stopped before it took them out).
   */
  droppedKeys(sweep: string, planned: readonly SweepPoint[]): string[] {
    if (!this.hasTable('sweep_points')) return [];
    const now = new Set(planned.map((p) => p.key));
    const dropped = this.hasTable('sweep_dropped') ? ' UNION SELECT sweep, key FROM sweep_dropped' : '';
    const rows = this.read(
      () =>
        this.db
          .prepare(
            `SELECT key FROM (SELECT sweep, key FROM sweep_points${dropped}) m WHERE sweep = ? AND NOT EXISTS (SELECT 1 FROM sweep_points o WHERE o.key = m.key AND o.sweep <> m.sweep)`,
          )
          .all(sweep) as Array<{ key: string }>,
    );
    return rows.map((r) => r.key).filter((k) => !now.has(k));
  }

  /**
   * Takes out of `sweep`'s points (its `sweep_points` records) those without a result that its plan now (`planned`)
   * no longer holds (a pipeline removed, a grid value or a model changed), so that its report does not list them as
   * not finished (or failed under its names): the sweep's plan is what it holds. Those with a result stay its points
   * (the report shows what the sweep found), and so does every point as stored (another sweep may plan it). Their
   * keys stay in `sweep_dropped` (droppedKeys) until a queued sweep's coordinator has taken them out of the queue
   * (dequeuedDropped): an earlier coordinator of the sweep may have queued them. Returns how many it took out.
   */
  dropFromSweep(sweep: string, planned: readonly SweepPoint[]): number {
    if (!this.hasTable('sweep_points')) return 0;
    const now = new Set(planned.map((p) => p.key));
    return this.write(() => {
      const unfinished = this.db.prepare('SELECT key FROM sweep_points m WHERE sweep = ? AND NOT EXISTS (SELECT 1 FROM results r WHERE r.key = m.key)');
      const drop = this.db.prepare('DELETE FROM sweep_points WHERE sweep = ? AND key = ?');
      const keep = this.db.prepare('INSERT OR IGNORE INTO sweep_dropped (sweep, key) VALUES (?, ?)');
      return this.db
        .transaction(() => {
          let dropped = 0;
          for (const { key } of unfinished.all(sweep) as Array<{ key: string }>) {
            if (now.has(key)) continue;
            dropped += drop.run(sweep, key).changes;
            keep.run(sweep, key);
          }
          return dropped;
        })
        .immediate();
    });
  }

  /** Forgets the keys `sweep` dropped (dropFromSweep), once its coordinator has taken them out of the queue. */
  dequeuedDropped(sweep: string): void {
    this.write(() => this.db.prepare('DELETE FROM sweep_dropped WHERE sweep = ?').run(sweep));
  }

  /**
   * Whether `sweep` holds the point `key` (its `sweep_points` record): a later run of the sweep, its file edited, may
   * have dropped it (dropFromSweep). A store from before these records holds every point.
   */
  holds(sweep: string, key: string): boolean {
    if (!this.hasTable('sweep_points')) return true;
    return this.read(() => this.db.prepare('SELECT 1 FROM sweep_points WHERE sweep = ? AND key = ?').get(sweep, key) !== undefined);
  }

  /** Deletes points and their results (stale points once recomputed), in one transaction. */
  forget(keys: readonly string[]): void {
    this.write(() => {
      const results = this.db.prepare('DELETE FROM results WHERE key = ?');
      const points = this.db.prepare('DELETE FROM points WHERE key = ?');
      const members = this.db.prepare('DELETE FROM sweep_points WHERE key = ?');
      this.db
        .transaction(() => {
          for (const k of keys) {
            results.run(k);
            points.run(k);
            members.run(k);
          }
        })
        .immediate();
    });
  }

  /** Whether the store has `table` (a store written by older code may lack the newer ones; a read-only one keeps them missing). */
  private hasTable(table: string): boolean {
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
  }

  /** Whether `table` has `column` (a store written by older code, read read-only, may lack a newer one). */
  private hasColumn(table: string, column: string): boolean {
    return tableColumns(this.db, table).has(column);
  }

  close(): void {
    this.db.close();
  }
}

/** `text` parsed as JSON, or undefined when it is not JSON. */
function parsedOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
