/**
 * Imports flow one way (the developers' guide): cli → sweep/report → export → train → passes, eval/glue/bench → bert,
 * gradients → onnx/runtime, and no library code knows the CLI. The bottom layers are checked here, as the files say
 * them: a module of src/bert or src/gradients imports only those, src/onnx, src/runtime and the shared modules at
 * src/'s top; one of src/onnx or src/runtime only those two and the shared modules; and none outside src/cli imports
 * src/cli. (src/bert/stored-quantized.ts, src/bert/inspect.ts and src/bench/inputs.ts once imported the passes'
 * src/pass/recurrent.ts for a graph predicate of the bert layer's.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '..', 'src');

/** The top-level src/ modules that gather the layers above (the package's entry, the passes' registry): no shared module. */
const GATHERING = new Set(['index.ts', 'passes.ts', 'pass-declarations.ts']);

/** Every .ts file under `dir`, relative to src/. */
function sources(dir: string): string[] {
  return readdirSync(join(SRC, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(SRC, join(e.parentPath, e.name)));
}

/** The src/ modules (relative to src/) that `file` (relative to src/) imports or re-exports, type-only ones too. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/g)].map((m) => m[1]!);
  return specifiers.filter((s) => s.startsWith('.')).map((s) => relative(SRC, resolve(SRC, dirname(file), s)));
}

/** The imports of `dirs`' files that are neither in `allowed` folders nor shared top-level modules, as 'file → module'. */
function strayImports(dirs: readonly string[], allowed: readonly string[]): string[] {
  return dirs.flatMap((dir) =>
    sources(dir).flatMap((file) =>
      importsOf(file)
        .filter((m) => (m.includes('/') ? !allowed.includes(m.split('/')[0]!) : GATHERING.has(m)))
        .map((m) => `${file} → ${m}`),
    ),
  );
}

describe('import direction', () => {
  it('reads the imports of a module (a check that cannot pass vacuously)', () => {
    expect(importsOf('bert/stored-quantized.ts')).toContain('onnx/graph.ts');
    expect(sources('bert').length).toBeGreaterThan(10);
  });

  it('src/bert and src/gradients import only themselves, src/onnx, src/runtime and shared modules', () => {
    expect(strayImports(['bert', 'gradients'], ['bert', 'gradients', 'onnx', 'runtime'])).toEqual([]);
  });

  it('src/onnx and src/runtime import only themselves and shared modules', () => {
    expect(strayImports(['onnx', 'runtime'], ['onnx', 'runtime'])).toEqual([]);
  });

  it('no library module imports the CLI', () => {
    const library = sources('.').filter((file) => !file.startsWith('cli/'));
    expect(
      library.flatMap((file) =>
        importsOf(file)
          .filter((m) => m.startsWith('cli/'))
          .map((m) => `${file} → ${m}`),
      ),
    ).toEqual([]);
  });
});
