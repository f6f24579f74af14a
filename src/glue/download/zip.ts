/**
 * Extracting the GLUE archives with yauzl (which reads the central directory, inflates, checks each entry's size,
 * and refuses entry names that are absolute, hold '..' segments or backslashes: zip-slip). yauzl does not check
 * CRC-32, so each entry's is checked here as it streams to its file. Any refusal is a DataError naming the archive;
 * entries already written stay where they were written, so callers extract into a staging folder they discard on
 * failure (see download.ts).
 */
import { createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { DataError } from '../../errors.ts';
import { ensureFolder } from '../../folders.ts';

/** Entries that are not data: folders and macOS metadata. */
function isSkipped(name: string): boolean {
  return name.endsWith('/') || name.startsWith('__MACOSX/') || name.split('/').pop() === '.DS_Store';
}

/** A DataError for a failure while reading `file`, naming it. */
function zipError(file: string, e: unknown): DataError {
  if (e instanceof DataError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const unsafe = /^(invalid relative path|absolute path|invalid characters in fileName)/.test(message);
  return new DataError(
    `${file}: ${unsafe ? `refused an entry that would be written outside the folder (${message})` : `not a readable ZIP archive (${message})`}`,
    { cause: e },
  );
}

/** Extracts every data entry of `file` into `destDir`; returns the paths written, in archive order. */
export async function extractZip(file: string, destDir: string): Promise<string[]> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { strictFileNames: true, validateEntrySizes: true });
  } catch (e) {
    throw zipError(file, e);
  }
  const written: string[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      if (isSkipped(entry.fileName)) continue;
      const target = join(destDir, entry.fileName);
      ensureFolder(dirname(target), target);
      let crc = 0;
      const check = new Transform({
        transform(chunk: Buffer, _enc, done) {
          crc = crc32(chunk, crc);
          done(null, chunk);
        },
      });
      await pipeline(await zip.openReadStreamPromise(entry), check, createWriteStream(target));
      if (crc >>> 0 !== entry.crc32 >>> 0) throw new DataError(`${file}: entry ${entry.fileName} is corrupt (CRC-32 mismatch)`);
      written.push(target);
    }
  } catch (e) {
    throw zipError(file, e);
  } finally {
    zip.close();
  }
  return written;
}
