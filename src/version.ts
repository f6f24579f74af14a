/**
 * bert-compress's own version (package.json), recorded in lineage files and sweep keys, and the fingerprint of this
 * copy of its code, which queue workers compare with their coordinator's.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

let version: string | undefined;

export function toolVersion(): string {
  if (version === undefined) {
    try {
      version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      version = 'unknown';
    }
  }
  return version;
}

/** undefined: not computed yet; null: its files could not be read. */
let fingerprint: string | null | undefined;

/** The files of the code (an editor's or the system's files beside them left out). */
const CODE = /\.(?:ts|mts|js|mjs|cjs|json)$/;

/**
 * The record `npm run build` leaves in dist/ (scripts/finish-build.ts), `{ source, built }`: the codeHash of the src/
 * it compiled and of the dist/ it wrote (this file left out).
 */
export const BUILT_CODE = 'code-fingerprint.json';

/**
 * The sha256 of the package.json beside `dir` and the code files (CODE) under `dir`, by path and content (BUILT_CODE
 * left out). Paths are read with `/` between folders and contents with LF line ends, so that a Windows checkout
 * (its paths listed with `\`, its files checked out with CRLF) hashes as a POSIX one of the same code.
 */
export function codeHash(dir: string): string {
  const files = (readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((f) => CODE.test(f) && f !== BUILT_CODE && statSync(join(dir, f)).isFile())
    .map((f) => ({ name: f.replaceAll('\\', '/'), path: join(dir, f) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const hash = createHash('sha256');
  for (const { name, path } of [{ name: 'package.json', path: join(dir, '..', 'package.json') }, ...files]) {
    const bytes = Buffer.from(readFileSync(path, 'latin1').replaceAll('\r\n', '\n'), 'latin1');
    hash.update(`${name}\0${bytes.length}\0`).update(bytes);
  }
  return hash.digest('hex');
}

/** The source hash of the build record in `dir` (BUILT_CODE) whose dist/ hash is `here`; undefined if none. */
function builtFrom(dir: string, here: string): string | undefined {
  try {
    const record = JSON.parse(readFileSync(join(dir, BUILT_CODE), 'utf8')) as { source?: unknown; built?: unknown };
    return record.built === here && typeof record.source === 'string' ? record.source : undefined;
  } catch {
    return undefined; // (none: a checkout's src/)
  }
}

/**
 * The fingerprint of this copy of bert-compress's code: the codeHash of the folder this module is in, src/ in a
 * checkout; installed, that of the sources its dist/ was built from, where dist/ is as the build wrote it (BUILT_CODE),
 * so that a checkout and a package built from the same sources agree. Two copies of one version that differ (one not
 * updated, or edited, dist/ edited after its build included) differ here, which their versions do not say. Undefined
 * where the files cannot be read.
 */
export function codeFingerprint(): string | undefined {
  if (fingerprint === undefined) {
    try {
      const dir = fileURLToPath(new URL('.', import.meta.url));
      const here = codeHash(dir);
      fingerprint = builtFrom(dir, here) ?? here;
    } catch {
      fingerprint = null;
    }
  }
  return fingerprint ?? undefined;
}
