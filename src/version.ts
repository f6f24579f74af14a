/** bert-compress's own version (package.json), recorded in lineage files and sweep keys. */
import { readFileSync } from 'node:fs';

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
