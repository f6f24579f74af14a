/**
 * Writing, reading and hashing files, for every layer (the one `writeFileAtomic`, the one `readLines` and the one
 * `sha256File`). A write goes to a temporary file beside the target, then is renamed over it: rename is atomic
 * within a filesystem, so readers see the old file or the whole new one, and a failed write leaves neither a
 * half-written target nor the temporary. A file too large to be one string (V8 caps strings at about 512M
 * characters) is written from pieces (`writeFileAtomic` takes an iterable of byte chunks) and read line by line.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readdirSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { processAlive } from './processes.ts';
import { pipeline } from 'node:stream/promises';
import { type Document, isAlias, isCollection, isMap, isNode, isScalar, type Node, parseDocument, type Range, type Tags, visit, type YAMLWarning } from 'yaml';
import { formatMB } from './units.ts';
import { DataError, NotUtf8Error, oneLine, TOO_SMALL_TO_HOLD, tooSmallToHold, valueAndKind, valueText } from './errors.ts';
import { ensureFolder } from './folders.ts';

/** Random characters in a temporary name. */
const RANDOM_CHARS = 8;

/** A temporary path beside `path`, unique to this process and call: `<path>.<pid>.<random>.tmp`. */
export function temporaryPathFor(path: string): string {
  return `${path}.${process.pid}.${Math.random()
    .toString(36)
    .slice(2, 2 + RANDOM_CHARS)}.tmp`;
}

/** The most bytes `temporaryPathFor` adds to a file name (a 7-digit pid: Linux's largest is 4194304). */
export const TEMPORARY_SUFFIX_BYTES = `.${'9'.repeat(7)}.${'x'.repeat(RANDOM_CHARS)}.tmp`.length;

/** The target and writer of a file name `temporaryPathFor` made, or undefined for any other name. */
export function temporaryTarget(name: string): { target: string; pid: number } | undefined {
  const m = /^(.+)\.(\d+)\.[0-9a-z]+\.tmp$/.exec(name);
  return m ? { target: m[1]!, pid: Number(m[2]) } : undefined;
}

/** How long a temporary file must have gone unwritten before it is taken for a dead writer's. */
const STALE_TEMPORARY_MS = 60_000;

/**
 * Removes the temporaries of `path` left by processes killed while writing it: `<path>.<pid>.<random>.tmp` whose
 * pid is not running here and that nothing has written for a minute (a live writer on another host sharing the
 * folder keeps its file's mtime fresh). Best effort; called where a command writes its output, not on every write
 * (a folder of cache files would be listed once per file).
 */
export function removeStaleTemporaries(path: string): void {
  removeStaleTemporariesIn(dirname(path), basename(path));
}

/**
 * Removes from `dir` the temporaries of writers that are gone (as removeStaleTemporaries), of any file there or, with
 * `target`, of that file name (or those names) only: a cache folder's, whose files are written by many runs; a model
 * folder's side files (config.json, the tokenizer's, the lineage).
 */
export function removeStaleTemporariesIn(dir: string, target?: string | readonly string[]): void {
  for (const file of goneWritersTemporaries(dir, target)) {
    try {
      rmSync(file, { force: true });
    } catch {
      // gone already, or not ours to remove
    }
  }
}

/**
 * Whether the temporary `file`, written by process `pid`, was left by a writer that is gone (removeStaleTemporaries'
 * rule); `othersOfMyPid`: the temporary, of this process's pid, is not one this process made, so that pid being alive
 * says nothing of its writer (goneWritersTemporaries' `made`).
 */
function leftByGoneWriter(file: string, pid: number, othersOfMyPid = false): boolean {
  if (!othersOfMyPid && processAlive(pid)) return false;
  try {
    return Date.now() - statSync(file).mtimeMs > STALE_TEMPORARY_MS;
  } catch {
    return false; // (gone already)
  }
}

/**
 * The files in `dir` that writers now gone left (removeStaleTemporaries' rule): temporaries (temporaryPathFor) of any
 * file or, with `target`, of that file name (or those names) only, with `suffix` after their name (a download's part:
 * '.part'), as paths; none where `dir` cannot be listed. `made`: every such temporary (path) this process made and has
 * not finished with, where its caller keeps them all: one of this process's pid not among them is another process's of
 * the same pid (in another pid namespace: each container's first process is pid 1; or an earlier process given the
 * pid), whose writer this process being alive says nothing of, so that it is judged by its time unwritten alone, as
 * another host's is.
 */
export function goneWritersTemporaries(dir: string, target?: string | readonly string[], suffix = '', made?: ReadonlySet<string>): string[] {
  const targets = target === undefined ? undefined : new Set(typeof target === 'string' ? [target] : target);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const t = entry.endsWith(suffix) ? temporaryTarget(entry.slice(0, entry.length - suffix.length)) : undefined;
    if (!t || (targets !== undefined && !targets.has(t.target))) return [];
    const file = join(dir, entry);
    if (made?.has(file)) return [];
    return leftByGoneWriter(file, t.pid, made !== undefined && t.pid === process.pid) ? [file] : [];
  });
}

/**
 * What a file is written from: text (as UTF-8), bytes, or byte chunks in order: an array, or any iterable (a
 * generator), whose chunks are written one by one as it yields them, so the whole file need never be in memory as
 * one string or buffer.
 */
export type FileData = string | Uint8Array | Iterable<Uint8Array>;

/**
 * Writes `data` to a fresh temporary beside `path`, or named after and beside `temporaryFor` (AtomicWriteOptions),
 * the folders created if needed (one level at a time: ensureFolder), and returns the temporary's path.
 */
function writeTemporary(path: string, data: FileData, temporaryFor = path): string {
  ensureFolder(dirname(path), path);
  if (temporaryFor !== path) ensureFolder(dirname(temporaryFor), temporaryFor);
  const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  const tmp = temporaryPathFor(temporaryFor);
  try {
    const fd = openSync(tmp, 'w');
    try {
      for (const c of chunks) {
        let off = 0;
        while (off < c.byteLength) off += writeSync(fd, c, off, c.byteLength - off);
      }
    } finally {
      closeSync(fd);
    }
    return tmp;
  } catch (e) {
    rmSync(tmp, { force: true });
    // a failed write (ENOSPC, EDQUOT) names no file: it is the target's
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err === 'object' && typeof err.code === 'string' && err.path === undefined) err.path = path;
    throw e;
  }
}

export interface AtomicWriteOptions {
  /**
   * The path whose name the temporary takes and beside which it is written, on the target's filesystem, where not
   * beside the target (the default): a folder whose every file a reader takes for one of its own (huggingface_hub's
   * `refs/`, each file a branch's ref), which a killed write's temporary would join.
   */
  temporaryFor?: string;
}

/**
 * Writes `data` (text as UTF-8, bytes, or byte chunks in order, see FileData) to `path` atomically, creating its
 * folder if needed. An iterable that throws leaves no target and no temporary, as a failed write does.
 */
export function writeFileAtomic(path: string, data: FileData, opts: AtomicWriteOptions = {}): void {
  writeFilesAtomic([[path, data, opts.temporaryFor]]);
}

/**
 * Writes several files as one: every temporary first, then the renames, so a failure while writing (a full disk)
 * leaves every target as it was and no temporary behind. Each file's third element: its AtomicWriteOptions'
 * `temporaryFor`.
 */
export function writeFilesAtomic(files: ReadonlyArray<readonly [path: string, data: FileData, temporaryFor?: string]>): void {
  const written: Array<[tmp: string, path: string]> = [];
  try {
    for (const [path, data, temporaryFor] of files) written.push([writeTemporary(path, data, temporaryFor), path]);
    for (const [tmp, path] of written) renameSync(tmp, path);
  } catch (e) {
    for (const [tmp] of written) rmSync(tmp, { force: true });
    throw e;
  }
}

/** Bytes `readLines` reads at a time. */
export const READ_CHUNK_BYTES = 1 << 20;

export interface ReadLinesOptions {
  /**
   * Refuse a line that is not valid UTF-8 (a DataError naming the file and line, as GLUE files are refused: a
   * compressed or binary file given as text), where the default decoding replaces its bytes with U+FFFD.
   */
  strictUtf8?: boolean;
}

/**
 * The lines of a UTF-8 text file, without their '\n', read `chunkBytes` at a time (any size of file: no line is
 * longer than V8's strings allow, the file as a whole may be). As `text.split('\n')` with a last empty line (after
 * the final '\n') left out; a last line without '\n' (a truncated file) is given as it is. The file is closed when
 * the lines are all read or the caller stops early.
 */
export function* readLines(path: string, chunkBytes = READ_CHUNK_BYTES, opts: ReadLinesOptions = {}): Generator<string, void, undefined> {
  if (!(Number.isSafeInteger(chunkBytes) && chunkBytes > 0)) throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
  const fd = openSync(path, 'r');
  let lineNumber = 0;
  const text = (line: Buffer): string => {
    lineNumber++;
    if (opts.strictUtf8 && !isUtf8(line)) throw new NotUtf8Error(`${path}:${lineNumber}: not valid UTF-8 text`);
    return line.toString('utf8');
  };
  try {
    const buffer = Buffer.allocUnsafe(chunkBytes);
    /** The start of the line in progress, from earlier chunks (copied: the buffer is reused). */
    let pending: Buffer[] = [];
    for (let read = readSync(fd, buffer, 0, chunkBytes, null); read > 0; read = readSync(fd, buffer, 0, chunkBytes, null)) {
      const chunk = buffer.subarray(0, read);
      let start = 0;
      // (a '\n' byte is never part of a multi-byte UTF-8 character: a line's bytes are whole before they are decoded)
      for (let end = chunk.indexOf(0x0a, start); end !== -1; end = chunk.indexOf(0x0a, start)) {
        const tail = chunk.subarray(start, end);
        const line = pending.length > 0 ? Buffer.concat([...pending, tail]) : tail;
        pending = [];
        start = end + 1;
        yield text(line);
      }
      if (start < read) pending.push(Buffer.from(chunk.subarray(start)));
    }
    if (pending.length > 0) yield text(Buffer.concat(pending));
  } finally {
    closeSync(fd);
  }
}

/**
 * `bytes` (the bytes of `file`) as UTF-8 text; a one-line NotUtf8Error naming the file and the byte offset of the
 * first byte that is no part of a UTF-8 character, where the default decoding reads U+FFFD (as transformers and
 * tokenizers fail to read such a file: Python's UnicodeDecodeError, Rust's 'stream did not contain valid UTF-8').
 */
export function utf8Text(bytes: Buffer, file: string): string {
  const place = notUtf8Place(bytes);
  if (place !== undefined) throw new NotUtf8Error(`${file}: not valid UTF-8 text (${place})`);
  return bytes.toString('utf8');
}

/**
 * Where `bytes` stop being UTF-8, as every refusal of text that is not UTF-8 says it ('at byte offset 12: c3 28 61'):
 * the offset of the first byte that is no part of a UTF-8 character, counted from `start` (the bytes' place in their
 * file: a safetensors header's 8), and the bytes from it; undefined where they are UTF-8 text.
 */
export function notUtf8Place(bytes: Uint8Array, start = 0): string | undefined {
  if (isUtf8(bytes)) return undefined;
  const at = invalidUtf8Offset(bytes);
  return `at byte offset ${start + at}: ${hexBytes(bytes.subarray(at, at + 4))}`;
}

/** `bytes` as two hex digits each, split by spaces ('c3 28'), as the refusals of text that is not UTF-8 show them (NotUtf8Error). */
export function hexBytes(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** The offset of the first byte of `bytes` that starts no well-formed UTF-8 character (Unicode's table 3-7), -1 for none. */
function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i]!;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const trail = lead >= 0xc2 && lead <= 0xdf ? 1 : lead >= 0xe0 && lead <= 0xef ? 2 : lead >= 0xf0 && lead <= 0xf4 ? 3 : 0;
    if (trail === 0) return i;
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k <= trail; k++) {
      const b = bytes[i + k];
      if (b === undefined || b < (k === 1 ? low : 0x80) || b > (k === 1 ? high : 0xbf)) return i;
    }
    i += trail + 1;
  }
  return -1;
}

/** The sha256 of a file's bytes, hex (read as a stream: any size). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/**
 * What the file system says of a file without reading it: its size, times and inode, as `fileStamps` takes them
 * before the file is hashed. Equal stamps later say the file was not written or replaced since (a write changes its
 * ctime, which no user sets; a rename puts another inode there), so its hash then still holds.
 */
export interface FileStamp {
  file: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

/**
 * Margin before `now` within which a file's change makes its stamp unreliable: a second write in the same tick of the
 * file system's clock leaves its times as they were (as git's racily clean entries), so such a file gets no stamp.
 */
const RACY_MS = 2000;

/**
 * The stamps of `files` taken now (before they are hashed), or undefined when one cannot be stat'ed or changed
 * within the last 2 s (or has a time ahead of this clock): then only hashing it again tells (`stampsHold` is false).
 */
export function fileStamps(files: readonly string[], now = Date.now()): FileStamp[] | undefined {
  const out: FileStamp[] = [];
  for (const file of files) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(file);
    } catch {
      return undefined;
    }
    if (!st.isFile() || Math.max(st.ctimeMs, st.mtimeMs) > now - RACY_MS) return undefined;
    out.push({ file, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino });
  }
  return out;
}

/** Whether a file's stamp `a` (a stat, or a stamp taken before) is `b`: the same size, times and inode. */
function sameStamp(a: Omit<FileStamp, 'file'>, b: Partial<FileStamp>): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

/** Whether every file of `stamps` (as `fileStamps` took them, read back from anywhere: else false) has its stamp still. */
export function stampsHold(stamps: unknown): boolean {
  if (!Array.isArray(stamps) || stamps.length === 0) return false;
  return stamps.every((s: Partial<FileStamp> | null) => {
    if (typeof s?.file !== 'string') return false;
    try {
      const st = statSync(s.file);
      return st.isFile() && sameStamp(st, s);
    } catch {
      return false;
    }
  });
}

/** sha256File for a synchronous caller: read `READ_CHUNK_BYTES` at a time (any size of file). */
export function sha256FileSync(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    for (let read = readSync(fd, buffer, 0, READ_CHUNK_BYTES, null); read > 0; read = readSync(fd, buffer, 0, READ_CHUNK_BYTES, null))
      hash.update(buffer.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** Hashes kept for this process by path, each with the stamp its file had before it was hashed (keptSha256). */
const keptHashes = new Map<string, { stamp: FileStamp; sha256: string }>();

/** `file`'s kept hash where its stamp now (undefined: none) is the one it was hashed under. */
function keptHash(file: string, stamp: FileStamp | undefined): string | undefined {
  const kept = stamp && keptHashes.get(file);
  return kept && sameStamp(stamp, kept.stamp) ? kept.sha256 : undefined;
}

/**
 * sha256File kept for this process while the file's stamp holds (fileStamps, taken before the hash: a file changed
 * within RACY_MS gets none and is hashed each time): a file that several parts of one process read, such as a model
 * folder's config.json and tokenizer files (a sweep's plan and its tokenizer's reading version, a report's data
 * changes and that version), is hashed once.
 */
export async function keptSha256(file: string): Promise<string> {
  const stamp = fileStamps([file])?.[0];
  const kept = keptHash(file, stamp);
  if (kept !== undefined) return kept;
  const sha256 = await sha256File(file);
  if (stamp) keptHashes.set(file, { stamp, sha256 });
  return sha256;
}

/** keptSha256 for a synchronous caller (sha256FileSync; one kept hash for both). */
export function keptSha256Sync(file: string): string {
  const stamp = fileStamps([file])?.[0];
  const kept = keptHash(file, stamp);
  if (kept !== undefined) return kept;
  const sha256 = sha256FileSync(file);
  if (stamp) keptHashes.set(file, { stamp, sha256 });
  return sha256;
}

/**
 * keptSha256 memoized by path: a file read by several points, or by a run's identity and its lineage, is hashed once
 * (in one call's memo, the hash it first had, whatever the file holds later).
 */
export function memoizedSha256(): (file: string) => Promise<string> {
  const hashes = new Map<string, Promise<string>>();
  return (file) => {
    if (!hashes.has(file)) hashes.set(file, keptSha256(file));
    return hashes.get(file)!;
  };
}

/** The sha256 of bytes held in memory, taken in order as one stream, hex (a payload checksum). */
export function sha256Bytes(parts: Iterable<Uint8Array>): string {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  return hash.digest('hex');
}

/**
 * Text without a leading UTF-8 byte-order mark (as some Windows editors save JSON and text files): every reader of
 * Hugging Face files (config.json, tokenizer files, vocab.txt, a safetensors index) and GLUE files goes through it, so
 * that a BOM is skipped rather than reported as an invisible unexpected token.
 */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * A float written as a decimal integer (`!!float 3`), which YAML 1.2's core schema reads as 3.0 and the yaml parser's
 * float tags (each with a '.' or an exponent) leave unresolved: last, after the int tag that reads an untagged 3.
 */
const integerFloatTag = { tag: 'tag:yaml.org,2002:float', default: true, test: /^[-+]?[0-9]+$/, resolve: (s: string) => Number(s) };

/** YAML's core schema without its hexadecimal and octal integers, with integerFloatTag (parseYamlText). */
const decimalTags = (tags: Tags): Tags => [
  ...tags.filter((t) => typeof t === 'string' || !(t.tag === 'tag:yaml.org,2002:int' && (t.format === 'HEX' || t.format === 'OCT'))),
  integerFloatTag,
];

/**
 * A YAML (or JSON) file a user writes (a sweep file, a matches file) as YAML 1.2's core schema reads it, but for its
 * hexadecimal and octal integers (0x10, 0o17), read as the text they are: every number the project reads is decimal, as
 * its flags take (`--seed 0x10` is refused), so a setting refuses them alike ('got string "0x10"'), where YAML read
 * 16. A file that says `%YAML 1.1` is read so too, where YAML 1.1's schema read its binary (0b11), sexagesimal (1:30) and
 * underscored (1_000) numbers, 017 as octal and yes/no as booleans. `merge`: `<<` merge keys. A tag the core schema
 * does not resolve (`!!timestamp 2001-12-14`, `!!binary …`, `!custom`) or a directive the parser does not
 * know (`%YAML 1.3`) is refused, where the parser printed a multi-line Node warning and read the value as text (or as
 * a Date, a Buffer, a Set, which a setting then called 'a mapping'); a core tag on a value it does not take (`!!int
 * "0x10"`, `!!bool yes`) is refused saying what the tag takes (coreTagProblem). Throws an Error of one line (yamlLine: the
 * parser's first error, 'not valid YAML: …', else its first warning saying what is not read, without the code frame it
 * shows; its place counted without a BOM), which a caller puts after the file's name; only what the parser cannot read
 * says 'not valid YAML': a refusal of valid YAML (a tag, a directive, a second document, a key that is a list, a number
 * too small to hold) says what it refuses alone. A second document is refused in words of the file, where the parser's
 * named its API ('please use YAML.parseAllDocuments()').
 */
export function parseYamlText(written: string, opts: { merge?: boolean } = {}): unknown {
  // (without its BOM, which the parser skips but counts: each place on line 1 was a column past the character, as no editor shows it)
  const text = withoutBom(written);
  const doc = parseDocument(text, { ...opts, schema: 'core', customTags: decimalTags, resolveKnownTags: false });
  const [error] = doc.errors;
  if (error?.code === 'MULTIPLE_DOCS') {
    // (the parser's words name its API: 'please use YAML.parseAllDocuments()')
    throw new Error(`a second document ${placeInText(text, error.pos[0])}: the file holds one (a '---' or '...' line ends the first)`);
  }
  if (error) throw new Error(`not valid YAML: ${yamlLine(error.message)}`);
  const [warning] = doc.warnings;
  if (warning)
    throw new Error(
      coreTagProblem(doc, warning, text) ?? `${yamlLine(warning.message)} (bert-compress reads YAML 1.2's core schema, no other tags or directives)`,
    );
  const key = collectionKeyProblem(doc, text);
  if (key !== undefined) throw new Error(key);
  const tiny = tooSmallNumberProblem(doc, text);
  if (tiny !== undefined) throw new Error(tiny);
  try {
    return doc.toJS({ maxAliasCount: YAML_ALIAS_EXPANSIONS });
  } catch (e) {
    // (the parser's words for its limit: 'Excessive alias count indicates a resource exhaustion attack')
    if (e instanceof ReferenceError && /alias count/i.test(e.message))
      throw new Error(
        `its aliases expand to more than ${YAML_ALIAS_EXPANSIONS.toLocaleString('en-US')} copies of anchored values (an alias inside an anchored value multiplies its own): bert-compress reads no more, as a file of nested aliases could expand without end`,
      );
    // (the parser's words name no place: 'Merge sources must be maps or map aliases')
    if (e instanceof Error && /^Merge sources must be maps/.test(e.message)) throw new Error(mergeProblem(doc, text) ?? e.message);
    throw e;
  }
}

/**
 * The refusal of the first `<<` merge key whose value is no mapping, alias of one or list of them (`<<: 5`, `<<:
 * [*a, 1]`), which the parser refused naming no place: "'<<' at line 3, column 40: a merge key takes a mapping, an
 * alias of one or a list of them, got number 5"; undefined where the document has none.
 */
function mergeProblem(doc: Document, text: string): string | undefined {
  const resolved = (n: unknown) => (isAlias(n) ? n.resolve(doc) : n);
  let problem: string | undefined;
  visit(doc, {
    Pair(_key, pair) {
      const key = pair.key;
      if (!isScalar(key) || !(key.value === '<<' || (typeof key.value === 'symbol' && key.value.description === '<<'))) return undefined;
      const value = resolved(pair.value);
      const items = value !== null && typeof value === 'object' && 'items' in value && !isMap(value) ? (value.items as unknown[]) : [value];
      const bad = items.map(resolved).find((item) => !isMap(item));
      if (bad === undefined) return undefined;
      const got = isScalar(bad) ? (bad.value === null ? 'nothing' : valueAndKind(bad.value, 'file')) : isCollection(bad) ? 'a list' : 'nothing';
      problem = `'<<'${key.range ? ` ${placeInText(text, key.range[0])}` : ''}: a merge key takes a mapping, an alias of one or a list of them, got ${got}`;
      return visit.BREAK;
    },
  });
  return problem;
}

/**
 * The most copies of anchored values a YAML file's aliases may expand to (the parser's maxAliasCount: each alias's
 * uses times the aliases nested in its anchored value). The parser's default, 100, refused a sweep file that merges
 * one anchor (`<<: *kd`) into 101 pipelines as 'a resource exhaustion attack'; nested aliases (10 levels of 10) still
 * pass it long before they cost anything.
 */
export const YAML_ALIAS_EXPANSIONS = 10_000;

/**
 * The refusal of a mapping key that is a list or a mapping (`? [ratio] : 0.5`, `{[a]: 1}`, or an alias of one), which
 * YAML allows and an object cannot hold: the parser turned it into text ('[ ratio ]') with a multi-line Node warning
 * (Keys with collection values will be stringified …), and the setting was refused as that text; undefined where the
 * document has none.
 */
function collectionKeyProblem(doc: Document, text: string): string | undefined {
  let found: { node: Node; range: Range } | undefined;
  visit(doc, {
    Pair(_key, pair) {
      const key = isAlias(pair.key) ? pair.key.resolve(doc) : pair.key;
      const range = isNode(pair.key) ? pair.key.range : undefined;
      if (!isCollection(key) || !range) return undefined;
      found = { node: key, range };
      return visit.BREAK;
    },
  });
  if (found === undefined) return undefined;
  return `a key that is ${isMap(found.node) ? 'a mapping' : 'a list'} ${placeInText(text, found.range[0])}: keys are names`;
}

/** 'at line L, column C' of the character at `offset` in `text` (lines and columns from 1, as the yaml parser counts them): where a YAML refusal places what it refuses. */
function placeInText(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `at line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

/**
 * The refusal of the first number a YAML document writes that is too small to hold (tooSmallToHold: `threads:
 * 1e-400`, which the parser reads as 0, one per physical core, as a flag refuses `--threads 1e-400`): '1e-400 at line
 * 3, column 10: too small for a number to hold (it reads as 0)'; undefined where it writes none.
 */
function tooSmallNumberProblem(doc: Document, text: string): string | undefined {
  let problem: string | undefined;
  visit(doc, (_key, n) => {
    if (!isScalar(n) || n.value !== 0 || typeof n.source !== 'string' || !tooSmallToHold(n.source)) return;
    problem = `${n.source.trim()}${n.range ? ` ${placeInText(text, n.range[0])}` : ''}: ${TOO_SMALL_TO_HOLD}`;
    return visit.BREAK;
  });
  return problem;
}

/** What each tag of YAML 1.2's core schema takes, as parseYamlText reads it (decimalTags): the words of coreTagProblem. */
const CORE_TAG_TAKES: Readonly<Record<string, string>> = {
  'tag:yaml.org,2002:str': 'text (no list or mapping)',
  'tag:yaml.org,2002:int': 'an integer written in decimal digits (bert-compress reads no hexadecimal or octal)',
  'tag:yaml.org,2002:float': 'a number written in decimal (3, 0.5, 1e-3) or .inf, -.inf, .nan',
  'tag:yaml.org,2002:bool': 'true or false',
  'tag:yaml.org,2002:null': 'null, ~ or nothing',
  'tag:yaml.org,2002:seq': 'a list',
  'tag:yaml.org,2002:map': 'a mapping',
};

/**
 * The refusal of a tag of YAML 1.2's core schema given a value it does not take (`!!int "0x10"`, `!!bool yes`, `!!seq
 * {a: 1}`), which the parser reports as an unresolved tag, as it does a tag the core schema lacks: the tag as written,
 * the value (quoted, or 'on a list' / 'on a mapping') and what the tag takes ('!!int '0x10' at line 2, column 7: !!int
 * takes an integer written in decimal digits (…)'); undefined for any other warning (a tag the core schema lacks, a
 * directive).
 */
function coreTagProblem(doc: Document, warning: YAMLWarning, text: string): string | undefined {
  const tag = /^Unresolved tag: (\S+)/.exec(warning.message)?.[1];
  const takes = tag === undefined ? undefined : CORE_TAG_TAKES[tag];
  if (warning.code !== 'TAG_RESOLVE_FAILED' || takes === undefined) return undefined;
  const [, tagEnd] = warning.pos;
  // the node the tag is written on: the first (outermost) one starting after the tag
  let node: unknown;
  visit(doc, (_key, n) => {
    if (!isNode(n) || !n.range || n.range[0] < tagEnd) return;
    if (node === undefined || n.range[0] < (node as { range: [number] }).range[0]) node = n;
  });
  const written = text.slice(warning.pos[0], tagEnd);
  const on = isScalar(node) ? valueText(String(node.source)) : isCollection(node) ? `on ${isMap(node) ? 'a mapping' : 'a list'}` : 'on nothing';
  return `${written} ${on} ${placeInText(text, warning.pos[0])}: ${written} takes ${takes}`;
}

/** A yaml parser's error or warning message in one line: its first, less the ':' that introduces its code frame. */
const yamlLine = (message: string): string => message.split('\n')[0]!.replace(/:\s*$/, '');

/** JSON.parse of `text` without its byte-order mark (see withoutBom); throws what JSON.parse throws. */
export function parseJsonText(text: string): unknown {
  return JSON.parse(withoutBom(text));
}

/**
 * The JSON of a file's `bytes`, with its text, as every reader of a Hugging Face JSON file reads it (config.json, the
 * tokenizer files, a safetensors index, local or downloaded): UTF-8 text (utf8Text: other bytes a one-line NotUtf8Error
 * naming `file` and the byte offset, as transformers and tokenizers fail to read them) without a byte-order mark
 * (parseJsonText); text that is not JSON refused by the error `notJson` makes of the parser's reason (jsonSyntaxReason),
 * by default a DataError `FILE: not valid JSON (REASON)`.
 */
export function utf8Json(
  bytes: Buffer,
  file: string,
  notJson: (reason: string, cause: unknown) => Error = (reason, cause) => new DataError(`${file}: not valid JSON (${reason})`, { cause }),
): { json: unknown; text: string } {
  const text = utf8Text(bytes, file);
  try {
    return { json: parseJsonText(text), text };
  } catch (e) {
    throw notJson(jsonSyntaxReason(e, text), e);
  }
}

/**
 * Why JSON.parse refused `text` (`e`, what it threw), in one line: its place as the line and column of the text
 * ('Expected ',' or '}' after property value at line 3, column 5'), where V8 gave a character offset ('in JSON at
 * position 57', which no editor shows; 'after JSON at position 57' for text after the JSON, two objects one after the
 * other); V8's quote of the text around an unexpected token kept (its line breaks
 * escaped), without its ' is not valid JSON', which the refusal says.
 */
export function jsonSyntaxReason(e: unknown, text: string): string {
  const message = e instanceof Error ? e.message : String(e);
  // (a byte-order mark V8 quotes as itself, which no terminal shows: `Unexpected token '\ufeff', "\ufeff{}"`; named with its
  // place, the leading one where the parser read it, as the safetensors header's parser, serde_json, refuses one)
  if (message.startsWith(`Unexpected token '${BOM}'`)) return bomReason(text);
  const at = /^(.*?)(?: in JSON)? at position (\d+)(?: \(line \d+ column \d+\))?$/s.exec(message);
  if (at) {
    const before = withoutBom(text).slice(0, Number(at[2])).split('\n');
    return oneLine(`${at[1]} at line ${before.length}, column ${before.at(-1)!.length + 1}`);
  }
  return oneLine(message.replace(/ is not valid JSON$/, ''));
}

/** The byte-order mark, U+FEFF. */
const BOM = '\ufeff';

/**
 * Where JSON.parse met a byte-order mark in `text` (jsonSyntaxReason): the leading one where the parser read it (a
 * safetensors header, parsed as it is), else the first outside a string after it (`text` parsed without its leading
 * one: parseJsonText; the text before it is JSON as far as it goes, so its strings are told apart by their quotes), its
 * place counted as the parser's other places are, without a leading mark.
 */
function bomReason(text: string): string {
  const rest = withoutBom(text);
  let at = 0;
  // (the leading mark, unless the text after it is refused for a mark too: then the parser read it without the first)
  if (rest === text || bomRefused(rest)) {
    let inString = false;
    for (at = 0; at < rest.length; at++) {
      const c = rest[at];
      if (inString && c === '\\') at++;
      else if (c === '"') inString = !inString;
      else if (c === BOM && !inString) break;
    }
  }
  const before = rest.slice(0, at).split('\n');
  return `Unexpected byte-order mark (U+FEFF) at line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

/** Whether JSON.parse refuses `text` for a byte-order mark in it. */
function bomRefused(text: string): boolean {
  try {
    JSON.parse(text);
    return false;
  } catch (e) {
    return e instanceof Error && e.message.startsWith(`Unexpected token '${BOM}'`);
  }
}

/** A JSON string at the sticky regex's lastIndex (jsonScanner). */
const JSON_STRING = /"[^"\\]*(?:\\.[^"\\]*)*"/y;

/** A number's text in JSON at the sticky regex's lastIndex (jsonScanner). */
const JSON_NUMBER = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/y;

/**
 * Steps through JSON `text` that parseJsonText reads (not checked again), a BOM skipped: `members` reads the members
 * of the object at the scanner's place, calling `visit` with each one's key at its value; `skipValue` and `number` (the
 * text of the number there, else undefined, the place left) read a value.
 */
function jsonScanner(text: string) {
  const s = withoutBom(text);
  let i = 0;
  const space = () => {
    while (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r') i++;
  };
  const string = (): string => {
    JSON_STRING.lastIndex = i;
    const m = JSON_STRING.exec(s);
    if (!m) throw new Error(`not a JSON string at offset ${i}`);
    i = JSON_STRING.lastIndex;
    return JSON.parse(m[0]) as string;
  };
  const skipValue = () => {
    space();
    if (s[i] === '"') string();
    else if (s[i] === '{' || s[i] === '[') {
      let depth = 0;
      do {
        const c = s[i];
        if (c === '"') {
          string();
          continue;
        }
        if (c === '{' || c === '[') depth++;
        else if (c === '}' || c === ']') depth--;
        i++;
      } while (depth > 0 && i < s.length);
    } else while (i < s.length && !/[\s,\]}]/.test(s[i]!)) i++; // a number, true, false or null
  };
  const number = (): string | undefined => {
    JSON_NUMBER.lastIndex = i;
    return JSON_NUMBER.exec(s)?.[0];
  };
  const members = (visit: (k: string) => void) => {
    i++; // '{'
    space();
    if (s[i] === '}') return void i++;
    for (;;) {
      space();
      const k = string();
      space();
      i++; // ':'
      space();
      visit(k);
      space();
      if (s[i++] !== ',') return; // '}'
    }
  };
  /** Whether the value at the scanner's place (whitespace skipped) starts with `c`. */
  const at = (c: string): boolean => {
    space();
    return s[i] === c;
  };
  return { at, members, number, skipValue };
}

/**
 * The keys, in the file's order, of the object that JSON `text`'s top-level object holds under `key` (its last `key`,
 * as JSON.parse and Python's json read a repeated key), each once at its first place (as JSON.parse and Python's dict
 * keep a repeated key); undefined where the text is no object, has no `key` or holds no object under it. JSON.parse
 * puts an object's integer keys ('1') before its others ('-1', '01'), where Python's json keeps the file's order:
 * this is the order a Python reader of the file sees. `text` is JSON that parseJsonText reads (not checked again).
 */
export function jsonObjectKeys(text: string, key: string): string[] | undefined {
  const scan = jsonScanner(text);
  if (!scan.at('{')) return undefined;
  let found: string[] | undefined;
  scan.members((k) => {
    if (k !== key || !scan.at('{')) {
      if (k === key) found = undefined;
      return scan.skipValue();
    }
    const keys: string[] = [];
    scan.members((inner) => {
      keys.push(inner);
      scan.skipValue();
    });
    found = [...new Set(keys)];
  });
  return found;
}

/**
 * The numbers JSON `text`'s top-level object holds, each as written ('1.0', '1e0', '7'), by key (a repeated key's
 * last, as JSON.parse and Python's json read it): what JSON.parse's numbers hide, Python's json reading '1.0' as a
 * float where '1' is an int. Empty where the text is no object. `text` is JSON that parseJsonText reads.
 */
export function jsonTopLevelNumbers(text: string): Map<string, string> {
  const scan = jsonScanner(text);
  const numbers = new Map<string, string>();
  if (!scan.at('{')) return numbers;
  scan.members((k) => {
    const written = scan.number();
    if (written === undefined) numbers.delete(k);
    else numbers.set(k, written);
    scan.skipValue();
  });
  return numbers;
}

/**
 * Where a whole number written as a float (3.0, 1e0, 2.5e1) may be in a JSON text: a digit before a fraction of zeros
 * or an exponent. A cheap look (about 4% of JSON.parse's time) before wholeFloatAt reads the number there.
 */
const MAYBE_WHOLE_FLOAT = /\d(?:\.0+(?![\d.eE])|[eE])/g;

/**
 * The number around `at` (a MAYBE_WHOLE_FLOAT match) in JSON `text`, as written, where it is a value (after a `:`, `,`
 * or `[`, before a `,`, `]` or `}`: not text inside a string, mostly), is written with a fraction or exponent and is a
 * whole number, and is no Unigram score (isPairScore); undefined otherwise.
 */
function wholeFloatAt(text: string, at: number): string | undefined {
  let start = at;
  while (start > 0 && /[\d.-]/.test(text[start - 1]!)) start--;
  JSON_NUMBER.lastIndex = start;
  const written = JSON_NUMBER.exec(text)?.[0];
  if (written === undefined || !/[.eE]/.test(written) || !Number.isInteger(Number(written))) return undefined;
  const after = /^\s*[,\]}]/.test(text.slice(start + written.length, start + written.length + 64));
  const before = /[:,[]\s*$/.test(text.slice(Math.max(0, start - 64), start));
  return after && before && !isPairScore(text, start) ? written : undefined;
}

/**
 * Whether the number at `at` in JSON `text` is the second element of a [string, number] pair in a list (`[…, ["▁a",
 * 0.0], …]`): a Unigram vocabulary's piece and score, a float, where no integer field of a tokenizer.json is written so
 * (a post-processor's `"sep": ["[SEP]", 102]` follows a `:`). Read backwards: a `,`, a string, a `[`, then a `[` or `,`.
 */
function isPairScore(text: string, at: number): boolean {
  let i = at - 1;
  const space = () => {
    while (i >= 0 && /\s/.test(text[i]!)) i--;
  };
  space();
  if (text[i--] !== ',') return false;
  space();
  if (text[i--] !== '"') return false;
  // (the string's opening quote: the first `"` before it that no odd run of backslashes escapes)
  for (;;) {
    while (i >= 0 && text[i] !== '"') i--;
    if (i < 0) return false;
    let slashes = 0;
    while (text[i - 1 - slashes] === '\\') slashes++;
    i--;
    if (slashes % 2 === 0) break;
  }
  space();
  if (text[i--] !== '[') return false;
  space();
  return text[i] === '[' || text[i] === ',';
}

/** A JSON token: a string, a number, a punctuation mark, or a literal (jsonWholeFloats). */
const JSON_TOKEN = /"[^"\\]*(?:\\.[^"\\]*)*"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|[{}[\]:,]|true|false|null/g;

/**
 * The numbers of JSON `text` written with a fraction or exponent whose value is a whole number (3.0, 1e0, 2.5e1), each
 * as written, by its path from the top (JSON.stringify of its keys and indices: `["added_tokens",0,"id"]`), in the
 * text's order: what JSON.parse's numbers hide, a Rust reader of the file (serde_json) reading such a number as a
 * float, which an integer field refuses ('invalid type: floating point `3.0`, expected u32'). A number that is no whole
 * number (3.5) is left out: its value says it. Empty where the text holds none (a cheap look first). `text` is JSON that
 * parseJsonText reads (not checked again).
 */
export function jsonWholeFloats(text: string): Map<string, string> {
  const found = new Map<string, string>();
  // (the text's structure read only where such a number may be there, a Unigram vocabulary's scores aside: reading it
  // takes about as long as JSON.parse, and a Unigram's special pieces score 0.0)
  if (![...text.matchAll(MAYBE_WHOLE_FLOAT)].some((m) => wholeFloatAt(text, m.index) !== undefined)) return found;
  // (each open object or list: the key of the member being read, or the index of the element)
  const path: Array<string | number> = [];
  const inObject: boolean[] = [];
  let expectingKey = false;
  JSON_TOKEN.lastIndex = 0;
  for (let m = JSON_TOKEN.exec(text); m !== null; m = JSON_TOKEN.exec(text)) {
    const token = m[0];
    const c = token[0]!;
    if (c === '{' || c === '[') {
      inObject.push(c === '{');
      path.push(0);
      expectingKey = c === '{';
    } else if (c === '}' || c === ']') {
      inObject.pop();
      path.pop();
      expectingKey = false;
    } else if (c === ',') {
      if (inObject.at(-1)) expectingKey = true;
      else path[path.length - 1] = (path.at(-1) as number) + 1;
    } else if (c === ':') expectingKey = false;
    else if (c === '"') {
      if (expectingKey) path[path.length - 1] = JSON.parse(token) as string;
    } else if ((c === '-' || (c >= '0' && c <= '9')) && /[.eE]/.test(token) && Number.isInteger(Number(token))) {
      found.set(JSON.stringify(path), token);
    }
  }
  return found;
}

/** How a Git LFS pointer file starts (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md). */
const LFS_POINTER_START = 'version https://git-lfs.github.com/spec/v1\n';

/** Pointer files are small (the spec caps them at 1024 bytes). */
export const LFS_POINTER_MAX_BYTES = 1024;

/**
 * Why bytes (a file's first `LFS_POINTER_MAX_BYTES` or all of a smaller one) are not the file a model needs when
 * they are a Git LFS pointer: what a repository cloned without git-lfs holds instead of its weights. Undefined for
 * any other bytes.
 */
export function lfsPointerProblem(bytes: Uint8Array): string | undefined {
  if (bytes.byteLength > LFS_POINTER_MAX_BYTES || bytes.byteLength < LFS_POINTER_START.length) return undefined;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (!text.startsWith(LFS_POINTER_START)) return undefined;
  const size = Number(/^size (\d+)$/m.exec(text)?.[1]);
  const of = Number.isSafeInteger(size) ? ` to a ${formatMB(size)} file` : '';
  return `a Git LFS pointer${of}, not the file itself (cloned without Git LFS): run 'git lfs pull' in its repository, or give the model as hf:ORG/NAME`;
}
