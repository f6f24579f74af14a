import { describe, expect, it } from 'vitest';
import { rewriteDeclarationImports } from '../../scripts/finish-build.ts';

describe('rewriteDeclarationImports', () => {
  it("points a declaration's relative .ts imports and re-exports at the .js files the package ships", () => {
    const before = [
      "import { type Split } from './tasks.ts';",
      'export * from "../onnx/graph.ts";',
      "export { a, type B } from './dir/b.ts';",
      "import './side-effect.ts';",
      "    steps: import('../pass/settings.ts').PassSettings;",
    ].join('\n');
    expect(rewriteDeclarationImports(before)).toBe(
      [
        "import { type Split } from './tasks.js';",
        'export * from "../onnx/graph.js";',
        "export { a, type B } from './dir/b.js';",
        "import './side-effect.js';",
        "    steps: import('../pass/settings.js').PassSettings;",
      ].join('\n'),
    );
  });

  it('leaves package imports, .js and .d.ts paths, and .ts in other strings alone', () => {
    const text = [
      "import type Long from 'long';",
      "import { x } from 'some-package/file.ts';",
      "export { y } from './already.js';",
      "import type { Z } from './types.d.ts';",
      "/** Reads './model.ts' as text. */",
      "declare const name = './not-an-import.ts';",
    ].join('\n');
    expect(rewriteDeclarationImports(text)).toBe(text);
  });
});
