/**
 * A small ZIP reader for the GLUE archives: reads the central directory, then streams each entry (stored or
 * deflated) to a temporary file, checks its CRC-32 and size, and renames it into place. No ZIP64 (the GLUE
 * archives are far below 4 GiB). Entry names that would escape the target folder are refused.
 */
import { closeSync, createReadStream, createWriteStream, mkdirSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw, crc32 } from 'node:zlib';
import { DataError } from '../../errors.ts';
import { temporaryPathFor } from '../atomic-write.ts';

export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflated. */
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, position);
  return buf.subarray(0, n);
}

/** Lists the entries of a ZIP file from its central directory. */
export function readZipEntries(file: string): ZipEntry[] {
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  try {
    const tailLength = Math.min(size, 22 + 0xffff);
    const tail = readAt(fd, size - tailLength, tailLength);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD_SIGNATURE) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new DataError(`${file}: not a ZIP archive (no end of central directory)`);
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdOffset === 0xffffffff) throw new DataError(`${file}: ZIP64 archives are not supported`);
    const cd = readAt(fd, cdOffset, cdSize);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL_SIGNATURE) throw new DataError(`${file}: corrupt central directory`);
      const nameLength = cd.readUInt16LE(p + 28);
      const extraLength = cd.readUInt16LE(p + 30);
      const commentLength = cd.readUInt16LE(p + 32);
      entries.push({
        name: cd.toString('utf8', p + 46, p + 46 + nameLength),
        method: cd.readUInt16LE(p + 10),
        crc32: cd.readUInt32LE(p + 16),
        compressedSize: cd.readUInt32LE(p + 20),
        uncompressedSize: cd.readUInt32LE(p + 24),
        localHeaderOffset: cd.readUInt32LE(p + 42),
      });
      p += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}

/** Where an entry's data starts (after its local header). */
function dataOffset(file: string, fd: number, entry: ZipEntry): number {
  const header = readAt(fd, entry.localHeaderOffset, 30);
  if (header.length < 30 || header.readUInt32LE(0) !== LOCAL_SIGNATURE) throw new DataError(`${file}: corrupt local header for ${entry.name}`);
  return entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
}

/** Entries that are not data: folders and macOS metadata. */
function isSkipped(name: string): boolean {
  return name.endsWith('/') || name.startsWith('__MACOSX/') || name.split('/').pop() === '.DS_Store';
}

/** The path an entry extracts to, refusing absolute names and '..'. */
function safeTarget(file: string, destDir: string, name: string): string {
  const rel = normalize(name);
  if (rel.startsWith('..') || rel.startsWith(sep) || /^[a-zA-Z]:/.test(rel) || rel.split(sep).includes('..')) {
    throw new DataError(`${file}: entry '${name}' would be written outside ${destDir}`);
  }
  return join(destDir, rel);
}

/** Extracts every data entry into `destDir`, each file atomically; returns the paths written. */
export async function extractZip(file: string, destDir: string): Promise<string[]> {
  const entries = readZipEntries(file);
  const written: string[] = [];
  const fd = openSync(file, 'r');
  try {
    for (const entry of entries) {
      if (isSkipped(entry.name)) continue;
      if (entry.method !== 0 && entry.method !== 8) throw new DataError(`${file}: entry ${entry.name} uses unsupported compression method ${entry.method}`);
      const target = safeTarget(file, destDir, entry.name);
      const start = dataOffset(file, fd, entry);
      mkdirSync(dirname(target), { recursive: true });
      const tmp = temporaryPathFor(target);
      let crc = 0;
      let bytes = 0;
      const check = new Transform({
        transform(chunk: Buffer, _enc, done) {
          crc = crc32(chunk, crc);
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      const source = entry.compressedSize === 0 ? [] : createReadStream(file, { start, end: start + entry.compressedSize - 1 });
      try {
        const stages = entry.method === 8 ? [createInflateRaw(), check] : [check];
        await pipeline(source as NodeJS.ReadableStream, ...(stages as [Transform]), createWriteStream(tmp));
        if (bytes !== entry.uncompressedSize || crc >>> 0 !== entry.crc32) {
          throw new DataError(`${file}: entry ${entry.name} is corrupt (CRC or size mismatch)`);
        }
        renameSync(tmp, target);
      } catch (e) {
        rmSync(tmp, { force: true });
        if (e instanceof DataError) throw e;
        throw new DataError(`${file}: cannot extract ${entry.name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      written.push(target);
    }
  } finally {
    closeSync(fd);
  }
  return written;
}
