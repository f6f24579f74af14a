/**
 * Sweep stores and report folders a hostile user points at: a garbage, truncated or foreign SQLite file is refused
 * in one line (and a foreign database gets nothing added), a store in a folder that refuses files fails before any
 * work, and `report --out` onto a file or under /proc is one line, not a stack trace or a hang.
 */
import { type SpawnSyncOptions, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { loadReport } from '../../src/report/index.ts';
import { parseFormats } from '../../src/cli/commands/report.ts';
import { SweepStore, type SweepPoint } from '../../src/sweep/index.ts';
import { STORE_APPLICATION_ID } from '../../src/sweep/store-format.ts';
import { fakePoint, storePoints } from '../report/points.ts';
import { writeTinySweep } from '../sweep/tiny-sweep.ts';
import { type CliResult, runMain } from '../helpers/cli.ts';

const BIN = resolve(__dirname, '../../bin/compress.mjs');
const dir = mkdtempSync(join(tmpdir(), 'hostile-stores-'));
/** The CLI's main in this process (test/helpers/cli.ts); `spawned`: bin/compress.mjs in a child process (`options`: its user). */
const run = (...args: string[]) => runMain(args);
function spawned(args: string[], options: SpawnSyncOptions = {}): CliResult & { signal: NodeJS.Signals | null } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, ...options });
  return { code: r.status ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), signal: r.signal };
}

/** A store with one finished point, written the way a sweep writes it. */
function storeWithOnePoint(path: string): void {
  storePoints(path, [fakePoint({ model: 'sst2', label: 'baseline', bytes: 44.7e6, glue: 0.734 })]);
}

/** `code`: 1 for what the command reads, 2 for a usage mistake (src/cli/index.ts). */
function expectOneLine(r: CliResult, re: RegExp, code = 1): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(re);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
}

const good = join(dir, 'good.sqlite');
storeWithOnePoint(good);

describe('compress report --help', () => {
  it('says what --format defaults to: md printed, all four formats with --out (writeReportFiles is given REPORT_FORMATS)', async () => {
    const r = await run('report', '--help');
    expect(r.code, r.stderr).toBe(0);
    expect(/--format (.*?)\[array\]/.exec(r.stdout.replace(/\s+/g, ' '))?.[1]).toMatch(/default: md printed, or all four with --out/);
  });
});

describe('sweep stores that are not ours', () => {
  it('a new store carries the application id and a format version; a good one reports', async () => {
    const db = new Database(good, { readonly: true });
    expect(db.pragma('application_id', { simple: true })).toBe(STORE_APPLICATION_ID);
    expect(db.prepare('SELECT version FROM store_format').get()).toEqual({ version: 1 });
    db.close();
    const r = await run('report', good);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('| sst2 | baseline |');
  });

  it('refuses garbage and truncated files in one line', async () => {
    const garbage = join(dir, 'garbage.sqlite');
    writeFileSync(garbage, 'this is not a database '.repeat(200));
    expectOneLine(await run('report', garbage), /garbage\.sqlite: not a SQLite database/);
    const truncated = join(dir, 'truncated.sqlite');
    writeFileSync(truncated, readFileSync(good).subarray(0, 3000));
    expectOneLine(await run('report', truncated), /truncated\.sqlite: a damaged or truncated SQLite file/);
  });

  it("refuses another program's database and adds nothing to it", async () => {
    const foreign = join(dir, 'foreign.sqlite');
    const db = new Database(foreign);
    db.exec('CREATE TABLE contacts (name TEXT)');
    db.close();
    expectOneLine(await run('report', foreign), /foreign\.sqlite: a SQLite database that is not a sweep store \(its tables: contacts\)/);
    expect(() => SweepStore.open(foreign)).toThrow(/not a sweep store/);
    const other = join(dir, 'other-app.sqlite');
    const db2 = new Database(other);
    db2.pragma('application_id = 1234');
    db2.exec('CREATE TABLE points (key TEXT)');
    db2.close();
    expect(() => SweepStore.open(other)).toThrow(/another program \(application_id 0x4d2\)/);
    const after = new Database(foreign, { readonly: true });
    expect(after.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()).toEqual([{ name: 'contacts' }]);
    expect(after.pragma('application_id', { simple: true })).toBe(0);
    after.close();
  });

  it("says to give another store as the command names it: a sweep's --store, report's STORE (a positional)", async () => {
    const foreign = join(dir, 'foreign-named.sqlite');
    const db = new Database(foreign);
    db.exec('CREATE TABLE contacts (name TEXT)');
    db.close();
    const other = join(dir, 'other-app-named.sqlite');
    const db2 = new Database(other);
    db2.pragma('application_id = 1234');
    db2.exec('CREATE TABLE points (key TEXT)');
    db2.close();
    for (const store of [foreign, other]) expectOneLine(await run('report', store), /not a sweep store[^;]*; give another store$/m);
    const tiny = writeTinySweep({ rows: 8 });
    try {
      for (const store of [foreign, other]) {
        expectOneLine(await run('sweep', tiny.sweepFile, '--store', store), /not a sweep store[^;]*; give another --store$/m);
        expectOneLine(await run('sweep', tiny.sweepFile, '--store', store, '--dry-run'), /not a sweep store[^;]*; give another --store$/m);
      }
    } finally {
      tiny.cleanup();
    }
  });

  it("says the command that makes a missing store with its path as a shell takes it (as an empty one's: test/sweep/empty-store.test.ts), where it wrote the path bare inside quotes ('… --store my it's.sqlite')", async () => {
    const missing = join(dir, "no store of it's");
    expectOneLine(
      await run('report', missing),
      new RegExp(`^compress: ${missing}: no such store \\(run compress sweep FILE --store '${dir}/no store of it'\\\\''s' first\\)$`, 'm'),
    );
  });

  it('marks a store written before the format marks when it is opened for writing', () => {
    const legacy = join(dir, 'legacy.sqlite');
    storeWithOnePoint(legacy);
    const db = new Database(legacy);
    db.pragma('application_id = 0');
    db.exec('DROP TABLE store_format');
    db.close();
    expect(SweepStore.open(legacy, { readonly: true }).finished()).toHaveLength(1);
    SweepStore.open(legacy).close();
    const marked = new Database(legacy, { readonly: true });
    expect(marked.pragma('application_id', { simple: true })).toBe(STORE_APPLICATION_ID);
    marked.close();
  });

  // (root writes any folder: run as nobody then, over a sweep it may read; the dry run exited 0 and the run then
  // refused the folder with exit 1)
  it.each([
    ['the store in it', ['s.sqlite'], [], /--store .*locked-store\/s\.sqlite: cannot write files in .*locked-store: permission denied$/m],
    [
      'a store folder to make in it',
      ['new', 's.sqlite'],
      [],
      /--store .*locked-store\/new\/s\.sqlite: cannot create folder .*locked-store\/new: permission denied$/m,
    ],
    ['--work-dir in it', null, ['work'], /--work-dir .*locked-store\/work: cannot create folder .*locked-store\/work: permission denied$/m],
  ] as const)('sweep --dry-run refuses a folder the user may not write (%s) as the run does, and makes nothing', (_, store, work, re) => {
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const tiny = writeTinySweep({ rows: 8, pipelines: ['baseline', 'ffn'] });
    const locked = join(tiny.root, 'locked-store');
    const open = join(tiny.root, 'open-store');
    try {
      chmodSync(tiny.root, 0o755);
      mkdirSync(locked);
      chmodSync(locked, 0o555);
      mkdirSync(open);
      chmodSync(open, 0o777);
      const flags = ['--store', store ? join(locked, ...store) : join(open, 's.sqlite'), ...(work.length ? ['--work-dir', join(locked, ...work)] : [])];
      const real = spawned(['sweep', tiny.sweepFile, ...flags], asUser);
      expectOneLine(real, re);
      const dry = spawned(['sweep', tiny.sweepFile, ...flags, '--dry-run'], asUser);
      expectOneLine(dry, re);
      expect(dry.stderr).toBe(real.stderr);
      expect([...readdirSync(locked), ...readdirSync(open)]).toEqual([]);
    } finally {
      chmodSync(locked, 0o755);
      tiny.cleanup();
    }
  });

  it('sweep --store in a folder that refuses files fails in one line before running any point', () => {
    const tiny = writeTinySweep({ rows: 8 });
    try {
      const r = spawned(['sweep', tiny.sweepFile, '--store', '/sys/bert-compress-test.sqlite']);
      expectOneLine(r, /--store \/sys\/bert-compress-test\.sqlite: cannot write files in \/sys/);
    } finally {
      tiny.cleanup();
    }
  });
});

/** A copy of the store `from` at `to`, changed by `edit` (run on an SQLite connection) and left without a WAL. */
function editedStore(from: string, to: string, edit: (db: Database.Database) => void): string {
  writeFileSync(to, readFileSync(from));
  const db = new Database(to);
  edit(db);
  db.pragma('journal_mode = DELETE');
  db.close();
  return to;
}

describe('stores damaged or edited after a sweep wrote them', () => {
  const many = join(dir, 'many.sqlite');
  storePoints(
    many,
    Array.from({ length: 30 }, (_, i) =>
      fakePoint({ model: 'sst2', label: `p${i}`, steps: i === 0 ? [] : [{ pass: 'prune-ffn', settings: { ratio: i / 100 } }], bytes: 44.7e6, glue: 0.7 }, i),
    ),
  );

  it('a damaged page of the results, read in place or as a snapshot, is one line for report and sweep', async () => {
    const damaged = join(dir, 'damaged-page.sqlite');
    const bytes = Buffer.from(readFileSync(many));
    const db = new Database(many, { readonly: true });
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const { rootpage } = db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'results'").get() as { rootpage: number };
    db.close();
    bytes.fill(0x55, (rootpage - 1) * pageSize, rootpage * pageSize); // (the store's header and tables stay readable)
    writeFileSync(damaged, bytes);
    expectOneLine(
      await run('report', damaged),
      /damaged-page\.sqlite: a damaged or truncated SQLite file \(database disk image is malformed\); not a usable sweep store/,
    );
    writeFileSync(`${damaged}-wal`, ''); // (a sweep killed while writing: the store is read in place)
    expectOneLine(await run('report', damaged), /damaged-page\.sqlite: a damaged or truncated SQLite file/);
    rmSync(`${damaged}-wal`);
    const tiny = writeTinySweep({ rows: 8 });
    try {
      expectOneLine(await run('sweep', tiny.sweepFile, '--store', damaged), /damaged-page\.sqlite: a damaged or truncated SQLite file/);
    } finally {
      tiny.cleanup();
    }
  });

  it('a store without its results or points table, or a column, is one line', async () => {
    const noResults = editedStore(many, join(dir, 'no-results.sqlite'), (db) => db.exec('DROP TABLE results'));
    expectOneLine(
      await run('report', noResults),
      /no-results\.sqlite: a sweep store without its results table \(damaged or edited\); not a usable sweep store$/m,
    );
    expect(() => SweepStore.open(noResults)).toThrow(/without its results table/); // (a sweep would not make it again, empty)
    const noPoints = editedStore(many, join(dir, 'no-points.sqlite'), (db) => {
      db.pragma('foreign_keys = OFF');
      db.exec('DROP TABLE points');
    });
    expectOneLine(await run('report', noPoints), /no-points\.sqlite: a sweep store without its points table/);
    const noColumn = editedStore(many, join(dir, 'no-column.sqlite'), (db) => db.exec('ALTER TABLE results DROP COLUMN finished_at'));
    expectOneLine(
      await run('report', noColumn),
      /no-column\.sqlite: cannot use it as a sweep store \(no such column: r\.finished_at\); not a usable sweep store$/m,
    );
  });

  it('a stored result that is not JSON is one line naming the point, for report and sweep', async () => {
    const badJson = editedStore(many, join(dir, 'bad-json.sqlite'), (db) =>
      db.prepare("UPDATE results SET result = '{oops' WHERE key = (SELECT key FROM points WHERE label = 'p3')").run(),
    );
    expectOneLine(
      await run('report', badJson),
      /bad-json\.sqlite: the stored result of sst2 · p3 \(sweep [^,]+, key [0-9a-f]{12}\) is not valid JSON \(.*\): written by other code or edited; rerun its sweep into a new store$/m,
    );
    expect(() => SweepStore.open(badJson).finished()).toThrow(/the stored result of sst2 · p3/);
  });

  it('a store the user may not read is one line saying so', () => {
    const locked = join(dir, 'unreadable', 'store.sqlite');
    mkdirSync(dirname(locked));
    writeFileSync(locked, readFileSync(many));
    chmodSync(locked, 0o000);
    // (root reads any file: run as nobody then, in a folder it may enter)
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    chmodSync(dir, 0o755);
    chmodSync(dirname(locked), 0o777);
    const report = () => spawned(['report', locked], asUser);
    expectOneLine(report(), /unreadable\/store\.sqlite: cannot read the store \(permission denied\)$/m);
    writeFileSync(`${locked}-wal`, ''); // (read in place)
    expectOneLine(report(), /unreadable\/store\.sqlite: cannot read the store \(permission denied\)$/m);
  });
});

describe('report --out destinations', () => {
  it('refuses a file as the output folder', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    expectOneLine(await run('report', good, '--out', file), /--out .*a-file: .*a-file is a file, not a folder/, 2);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('refuses a folder under /proc in one line instead of spinning', () => {
    // (spawned: without the check, Node's recursive mkdir spins for ever under /proc, deaf to the test's timeout)
    const r = spawned(['report', good, '--out', '/proc/bert-compress-report']);
    expect(r.signal).toBeNull();
    expectOneLine(r, /cannot create folder \/proc\/bert-compress-report/);
  });

  it("keeps the user's own file of a format not asked and says so; refuses a link where it would write, in one line", async () => {
    const out = join(dir, 'report-own-files');
    mkdirSync(out);
    writeFileSync(join(out, 'report.csv'), 'my,own\n');
    const r = await run('report', good, '--out', out, '--format', 'md');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `kept ${join(out, 'report.csv')}, not part of this report: no record of it in .compress-report.json (an older compress report's, or your own): remove it if it is an old report`,
    );
    expect(readFileSync(join(out, 'report.csv'), 'utf8')).toBe('my,own\n');

    const target = join(dir, 'linked-notes.md');
    writeFileSync(target, 'my notes');
    rmSync(join(out, 'report.md'));
    symlinkSync(target, join(out, 'report.md'));
    expectOneLine(
      await run('report', good, '--out', out),
      /^compress: --out .*report-own-files: .*report\.md is a symbolic link; remove it or give another folder/m,
    );
    expect(readFileSync(target, 'utf8')).toBe('my notes');
  });
});

describe('report reads a store without writing', () => {
  it('leaves no -wal or -shm file beside a clean store, and reads one a sweep is writing', () => {
    const clean = join(dir, 'clean.sqlite');
    storeWithOnePoint(clean);
    expect(readdirSync(dir).filter((f) => f.startsWith('clean.sqlite'))).toEqual(['clean.sqlite']);
    expect(loadReport({ store: clean }).rows).toHaveLength(1);
    expect(readdirSync(dir).filter((f) => f.startsWith('clean.sqlite'))).toEqual(['clean.sqlite']);
    const writing = SweepStore.open(clean); // a sweep holding the store open: its WAL is read too
    try {
      expect(loadReport({ store: clean }).rows).toHaveLength(1);
    } finally {
      writing.close();
    }
  });
});

describe('report arguments', () => {
  it('refuses several formats without --out in one line (stdout takes one)', async () => {
    expectOneLine(
      await run('report', good, '--format', 'md,csv'),
      /^compress: --format md,csv: one format at a time on stdout; give --out DIR to write several$/m,
      2,
    );
    expectOneLine(await run('report', good, '--format', 'md', '--format', 'json'), /--format md,json: one format at a time/, 2);
  });

  it('reads a format in any letter case and quotes an unknown one as typed', () => {
    expect(parseFormats([' HTML,md', 'Md'])).toEqual(['html', 'md']);
    expect(() => parseFormats(['md,HTMLX'])).toThrow(/^--format 'HTMLX': expected one of md, csv, json, html$/);
    // (as a shell takes it, as every refused value: bare, '$HOME' read as the shell's variable and "it's" broke the quotes)
    expect(() => parseFormats(['$HOME'])).toThrow(/^--format '\$HOME': expected one of md, csv, json, html$/);
    expect(() => parseFormats(["md,it's"])).toThrow(/^--format 'it'\\''s': expected one of md, csv, json, html$/);
  });

  it('refuses --force without --out, which it read nowhere (the report is printed), as --follow without --queue', async () => {
    expectOneLine(
      await run('report', good, '--force'),
      /^compress: --force: writes over report files and charts in the --out folder, and this run prints the report; give --out DIR too, or drop it$/m,
      2,
    );
    expect((await run('report', good, '--no-force')).code).toBe(0);
  });

  it("refuses a --format naming no format ('', ',') as an empty value, writing nothing, where it wrote the charts alone and removed an earlier report's tables", async () => {
    expect(() => parseFormats([''])).toThrow(/^--format '': an empty value; give one \(see --help\)$/);
    expect(() => parseFormats(['md', ' , '])).toThrow(/^--format ' , ': an empty value; give one \(see --help\)$/);
    const outDir = join(dir, 'empty-format');
    await run('report', good, '--out', outDir);
    const before = readdirSync(outDir).sort();
    expect(before).toContain('report.md');
    expectOneLine(await run('report', good, '--format', '', '--out', outDir), /^compress: --format '': an empty value; give one \(see --help\)$/m, 2);
    expect(readdirSync(outDir).sort()).toEqual(before);
  });

  it('names a device given as --out and a folder given as the store', async () => {
    expectOneLine(await run('report', good, '--out', '/dev/null'), /^compress: --out \/dev\/null: \/dev\/null is a device, pipe or socket, not a folder$/m, 2);
    expect(() => loadReport({ store: dir })).toThrow(new RegExp(`^${dir}: a folder, not a sweep store \\(give the \\.sqlite file a sweep wrote\\)$`));
  });
});

describe('report --sweep naming no sweep of the store', () => {
  it('says so in one line, naming the sweeps it holds, where it said the sweep had no finished point', async () => {
    expectOneLine(await run('report', good, '--sweep', 'tset'), /good\.sqlite: no sweep 'tset' in this store \(its sweeps: test\)$/m);
    expect(loadReport({ store: good, sweep: 'test' }).rows).toHaveLength(1);
  });

  it("quotes the sweep name as a shell takes it (quotedText), where it wrote 'NAME' by hand: a quote or a line break in it misquoted", () => {
    expect(() => loadReport({ store: good, sweep: "it's" })).toThrow(`${good}: no sweep 'it'\\''s' in this store (its sweeps: test)`);
    expect(() => loadReport({ store: good, sweep: 'a\nb' })).toThrow(`${good}: no sweep $'a\\nb' in this store (its sweeps: test)`);
  });

  it('names the first four sweeps of a store of many and counts the rest, as every capped list (where it listed them all)', () => {
    const many = join(dir, 'many-sweeps.sqlite');
    const names = ['s1', 's2', 's3', 's4', 's5', 's6', 's7'];
    storePoints(
      many,
      names.map((sweep, i) => ({ ...fakePoint({ model: `m${i}`, label: 'baseline', bytes: 44.7e6, glue: 0.734 }, i), sweep })),
    );
    expect(() => loadReport({ store: many, sweep: 'nope' })).toThrow(`${many}: no sweep 'nope' in this store (its sweeps: s1, s2, s3, s4, … (3 more))`);
  });
});

describe('report on a store whose every point failed', () => {
  it('lists the failed points with their reasons in its one line', () => {
    const failedStore = join(dir, 'all-failed.sqlite');
    const store = SweepStore.open(failedStore);
    for (const [label, error] of [
      ['ffn-50', 'out of memory'],
      ['heads-40', 'bad graph'],
    ]) {
      const p = fakePoint({ model: 'sst2', label, bytes: 1e6, glue: 0.5 });
      store.claim({ ...p, model: { name: p.model, onnx: p.modelPath, sha256: p.modelSha256 } } as unknown as SweepPoint);
      store.fail(p.key, error!);
    }
    store.close();
    expect(() => loadReport({ store: failedStore })).toThrow(
      /^\S+all-failed\.sqlite: no finished point; 2 failed \(a rerun of the sweep retries them\): sst2 · ffn-50: out of memory; sst2 · heads-40: bad graph$/,
    );
  });

  it("names the first four failed points and counts the rest, as the sweep's closing lines do, where it listed every one", () => {
    const failedStore = join(dir, 'many-failed.sqlite');
    const store = SweepStore.open(failedStore);
    for (let i = 0; i < 7; i++) {
      const p = fakePoint({ model: 'sst2', label: `heads-${i}`, bytes: 1e6, glue: 0.5 });
      store.claim({ ...p, model: { name: p.model, onnx: p.modelPath, sha256: p.modelSha256 } } as unknown as SweepPoint);
      store.fail(p.key, `error ${i}, of many`);
    }
    store.close();
    expect(() => loadReport({ store: failedStore })).toThrow(
      /^\S+many-failed\.sqlite: no finished point; 7 failed \(a rerun of the sweep retries them\): sst2 · heads-0: error 0, of many; sst2 · heads-1: error 1, of many; sst2 · heads-2: error 2, of many; sst2 · heads-3: error 3, of many; … \(3 more\)$/,
    );
  });
});

describe('empty path arguments', () => {
  it('sweep, report and worker refuse a path given as "" in one line, before any work', async () => {
    const tiny = writeTinySweep({ rows: 8 });
    const cwd = join(dir, 'cwd');
    mkdirSync(cwd);
    const inCwd = (...args: string[]) => runMain(args, {}, cwd);
    try {
      expectOneLine(await inCwd('sweep', tiny.sweepFile, '--store', ''), /^compress: --store '': an empty value; give one \(see --help\)$/m, 2);
      expectOneLine(await inCwd('sweep', tiny.sweepFile, '--work-dir', ''), /--work-dir '': an empty value/, 2);
      expectOneLine(await inCwd('sweep', tiny.sweepFile, '--glue-dir', ''), /--glue-dir '': an empty value/, 2);
      expectOneLine(await inCwd('sweep', ''), /file '': an empty value/, 2);
      expectOneLine(await inCwd('report', good, '--out', ''), /--out '': an empty value/, 2);
      expectOneLine(await inCwd('report', ''), /store '': an empty value/, 2);
      expectOneLine(await inCwd('worker', '--queue', 'redis://127.0.0.1:1', '--work-dir', ''), /--work-dir '': an empty value/, 2);
      expectOneLine(await inCwd('worker', '--queue', 'redis://127.0.0.1:1', '--cache-dir', ''), /--cache-dir '': an empty value/, 2);
      expect(readdirSync(cwd)).toEqual([]);
      expect(existsSync(`${cwd}-models`)).toBe(false);
    } finally {
      tiny.cleanup();
    }
  });
});

afterAll(() => {});
