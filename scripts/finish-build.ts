/**
 * The last step of `npm run build`, after tsc has compiled src/ to dist/:
 * - the declarations' relative imports name the .js files the package ships, not the .ts sources (tsc's
 *   rewriteRelativeImportExtensions rewrites the JS it emits, never the .d.ts: `from './tasks.ts'` stays, which tsc
 *   itself resolves but editors, bundlers of declarations and other tools reading dist/ do not find);
 * - the ONNX schema's Apache-2.0 license goes beside dist/onnx/onnx-schema.js, which is generated from it;
 * - dist/code-fingerprint.json records the sources' code fingerprint and dist/'s as written, so that the installed
 *   package says the fingerprint of the sources it was built from, as a checkout of them does (src/version.ts).
 *
 *   npm run build           (… && node bin/run-ts.mjs scripts/finish-build.ts)
 */
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILT_CODE, codeHash } from '../src/version.ts';

const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));

/**
 * `from './x.ts'`, `import('../y.ts')`, `import './z.ts'` with a relative path: the quote and path before `.ts` (a
 * `.d.ts` path is left as it is).
 */
const RELATIVE_TS = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.\.?\/[^'"\n]*?)(?<!\.d)\.ts\2/g;

/** A declaration file's text with its relative `.ts` module specifiers ending in `.js`. */
export function rewriteDeclarationImports(text: string): string {
  return text.replace(RELATIVE_TS, (_, before: string, quote: string, path: string) => `${before}${quote}${path}.js${quote}`);
}

function declarationFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? declarationFiles(join(dir, e.name)) : e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );
}

export function finishBuild(repo = REPO): void {
  const dist = join(repo, 'dist');
  for (const file of declarationFiles(dist)) {
    const text = readFileSync(file, 'utf8');
    const rewritten = rewriteDeclarationImports(text);
    if (rewritten !== text) writeFileSync(file, rewritten);
  }
  copyFileSync(join(repo, 'src', 'onnx', 'onnx-ml.proto.LICENSE'), join(dist, 'onnx', 'onnx-ml.proto.LICENSE'));
  // (last: dist/ as the package ships it)
  writeFileSync(join(dist, BUILT_CODE), `${JSON.stringify({ source: codeHash(join(repo, 'src')), built: codeHash(dist) })}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) finishBuild();
