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
 * The sha256 of this copy of bert-compress's code: its package.json and the code files (CODE) of the folder this
 * module is in (src/ in a checkout, dist/ installed), by path and content. Two copies of one version that differ (one
 * not updated, or edited) differ here, which their versions do not say. Undefined where the files cannot be read.
 */
export function codeFingerprint(): string | undefined {
  if (fingerprint === undefined) {
    try {
      const dir = fileURLToPath(new URL('.', import.meta.url));
      const files = (readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => CODE.test(f) && statSync(join(dir, f)).isFile()).sort();
      const hash = createHash('sha256');
      for (const [name, path] of [
        ['package.json', fileURLToPath(new URL('../package.json', import.meta.url))] as const,
        ...files.map((f) => [f, join(dir, f)] as const),
      ]) {
        const bytes = readFileSync(path);
        hash.update(`${name}\0${bytes.length}\0`).update(bytes);
      }
      fingerprint = hash.digest('hex');
    } catch {
      fingerprint = null;
    }
  }
  return fingerprint ?? undefined;
}
